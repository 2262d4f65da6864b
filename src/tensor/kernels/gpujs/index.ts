// The `gpujs` kernel family: float32 kernels compiled by gpu.js, which picks its own target
// (headless-gl / WebGL where a GPU is present, its WebAssembly backend otherwise). gpu.js is
// loaded on first use, not when tsgrad is imported.
import type { KernelFamily, Kernels } from '../types.js';
import { matmulGpujs } from './matmul.js';
import { linearBackwardWith } from '../js/linear.js';
import { softmaxGpujs, softmaxBackwardGpujs } from './softmax.js';
import { gpuRuntime, gpujsTarget } from './runtime.js';

export const gpujsKernels: KernelFamily & Pick<Kernels, 'matmul' | 'linearBackward' | 'softmax' | 'softmaxBackward'> = {
  name: 'gpujs',
  /** True when gpu.js loads here, whatever target it falls back to; never throws. */
  available: () => gpuRuntime() !== null,
  target: gpujsTarget,
  matmul: matmulGpujs,
  linearBackward: linearBackwardWith(matmulGpujs), // its products on the GPU, db on js
  softmax: softmaxGpujs,
  softmaxBackward: softmaxBackwardGpujs,
};

export { disposeGpujs, gpujsCacheSize, gpujsCacheStats, setGpujsCacheCapacity } from './runtime.js';
export type { GpujsCacheStats } from './runtime.js';
