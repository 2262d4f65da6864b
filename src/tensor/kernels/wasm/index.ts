// The `wasm` kernel family: float32 AssemblyScript SIMD kernels (assembly/), compiled by
// `npm run build` into build/*.wasm and loaded synchronously on first use. Float64 arguments are
// passed to the js kernels. See assembly/matmul.ts for how the matmul is blocked.
import type { KernelFamily, Kernels } from '../types.js';
import { setThreadCalibrator, threadDecision, wasmModule, type ThreadDecision } from './loader.js';
import { calibrateThreads } from './calibrate.js';
import { matmulWasm } from './matmul.js';
import { linearBackwardWasm } from './linear.js';
import { softmaxWasm, softmaxBackwardWasm } from './softmax.js';
import { packedAttentionBackwardWasm, packedAttentionWasm } from './attention.js';
import { layerNormWasm, layerNormBackwardWasm } from './norm.js';
import { crossEntropyWasm, crossEntropyBackwardWasm } from './losses.js';
import { adamUpdateWasm, sgdMomentumUpdateWasm, sgdUpdateWasm } from './optim.js';
import { binaryWasm, reduceWasm, unaryGradWasm, unaryWasm } from './maps.js';
import { stridedCopyWasm, stridedScatterWasm } from './layout.js';
import { conv2dBackwardWasm, conv2dWasm } from './conv2d.js';
import { gatherRowsWasm, scatterAddRowsWasm } from './gather.js';
import { avgPool2dBackwardWasm, avgPool2dWasm, col2imWasm, im2colWasm, maxPool2dBackwardWasm, maxPool2dWasm } from './conv.js';

export const wasmKernels: KernelFamily & Pick<Kernels, 'matmul' | 'linearBackward' | 'softmax' | 'softmaxBackward' | 'packedAttention' | 'packedAttentionBackward'
  | 'layerNorm' | 'layerNormBackward' | 'crossEntropy' | 'crossEntropyBackward' | 'sgdUpdate' | 'sgdMomentumUpdate' | 'adamUpdate'
  | 'unary' | 'unaryGrad' | 'binary' | 'reduce'
  | 'im2col' | 'col2im' | 'conv2d' | 'conv2dBackward' | 'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward' | 'stridedCopy' | 'stridedScatter'
  | 'gatherRows' | 'scatterAddRows'> = {
  name: 'wasm',
  available: () => wasmModule() !== null,
  matmul: matmulWasm,
  linearBackward: linearBackwardWasm,
  softmax: softmaxWasm,
  softmaxBackward: softmaxBackwardWasm,
  packedAttention: packedAttentionWasm,
  packedAttentionBackward: packedAttentionBackwardWasm,
  layerNorm: layerNormWasm,
  layerNormBackward: layerNormBackwardWasm,
  crossEntropy: crossEntropyWasm,
  crossEntropyBackward: crossEntropyBackwardWasm,
  sgdUpdate: sgdUpdateWasm,
  sgdMomentumUpdate: sgdMomentumUpdateWasm,
  adamUpdate: adamUpdateWasm,
  unary: unaryWasm,
  unaryGrad: unaryGradWasm,
  binary: binaryWasm,
  reduce: reduceWasm,
  im2col: im2colWasm,
  col2im: col2imWasm,
  conv2d: conv2dWasm,
  conv2dBackward: conv2dBackwardWasm,
  maxPool2d: maxPool2dWasm,
  maxPool2dBackward: maxPool2dBackwardWasm,
  avgPool2d: avgPool2dWasm,
  avgPool2dBackward: avgPool2dBackwardWasm,
  stridedCopy: stridedCopyWasm,
  stridedScatter: stridedScatterWasm,
  gatherRows: gatherRowsWasm,
  scatterAddRows: scatterAddRowsWasm,
};

setThreadCalibrator(calibrateThreads);

/** How many threads the wasm kernels use, and why (TSGRAD_THREADS=1|2|auto; auto measures once per machine). */
export function wasmThreads(): ThreadDecision {
  return threadDecision();
}

/** Which build runs ('relaxed' = fused multiply-add, 'plain' = SIMD mul + add), or null if none. */
export function wasmFlavour(): string | null {
  return wasmModule()?.flavour ?? null;
}
