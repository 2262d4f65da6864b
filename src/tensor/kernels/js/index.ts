// The `js` kernel family: plain TypeScript loops over typed arrays, float32 and float64.
import type { KernelFamily } from '../types.js';
import { matmulJs } from './matmul.js';
import { softmaxJs, softmaxBackwardJs } from './softmax.js';

export const jsKernels: KernelFamily = {
  name: 'js',
  available: () => true,
  matmul: matmulJs,
  softmax: softmaxJs,
  softmaxBackward: softmaxBackwardJs,
};
