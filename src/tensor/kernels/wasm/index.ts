// The `wasm` kernel family: float32 AssemblyScript SIMD kernels (assembly/), compiled by
// `npm run build` into build/*.wasm and loaded synchronously on first use. Float64 arguments are
// passed to the js kernels. See assembly/matmul.ts for how the matmul is blocked.
import type { KernelFamily, Kernels } from '../types.js';
import { wasmModule } from './loader.js';
import { matmulWasm } from './matmul.js';
import { softmaxWasm, softmaxBackwardWasm } from './softmax.js';
import { binaryWasm, reduceWasm, unaryGradWasm, unaryWasm } from './maps.js';

export const wasmKernels: KernelFamily & Pick<Kernels, 'matmul' | 'softmax' | 'softmaxBackward'>
  & Pick<Kernels, 'unary' | 'unaryGrad' | 'binary' | 'reduce'> = {
  name: 'wasm',
  available: () => wasmModule() !== null,
  matmul: matmulWasm,
  softmax: softmaxWasm,
  softmaxBackward: softmaxBackwardWasm,
  unary: unaryWasm,
  unaryGrad: unaryGradWasm,
  binary: binaryWasm,
  reduce: reduceWasm,
};

/** Which build runs ('relaxed' = fused multiply-add, 'plain' = SIMD mul + add), or null if none. */
export function wasmFlavour(): string | null {
  return wasmModule()?.flavour ?? null;
}
