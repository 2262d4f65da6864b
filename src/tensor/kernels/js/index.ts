// The `js` kernel family: plain TypeScript loops over typed arrays, float32 and float64. It
// implements every kernel of the table: the reference the other families are tested against.
import type { KernelFamily, Kernels } from '../types.js';
import { binary, unary, unaryGrad, where } from './elementwise.js';
import { reduce, argReduce } from './reduce.js';
import { stridedCopy, stridedScatter, gatherRows, scatterAddRows } from './layout.js';
import { matmul } from './matmul.js';
import { softmax, softmaxBackward } from './softmax.js';
import { packedAttention, packedAttentionBackward } from './attention.js';
import { linearBackward } from './linear.js';
import { crossEntropy, crossEntropyBackward } from './losses.js';
import { layerNorm, layerNormBackward } from './norm.js';
import { im2col, col2im, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } from './im2col.js';
import { conv2d, conv2dBackward } from './conv.js';
import { sgdUpdate, sgdMomentumUpdate, adamUpdate } from './optim.js';

export const jsKernels: KernelFamily & Kernels = {
  name: 'js',
  available: () => true,
  binary, unary, unaryGrad, where,
  reduce, argReduce,
  stridedCopy, stridedScatter, gatherRows, scatterAddRows,
  matmul, linearBackward,
  softmax, softmaxBackward,
  packedAttention, packedAttentionBackward,
  crossEntropy, crossEntropyBackward,
  layerNorm, layerNormBackward,
  im2col, col2im, conv2d, conv2dBackward, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward,
  sgdUpdate, sgdMomentumUpdate, adamUpdate,
};
