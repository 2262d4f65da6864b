// node:module for the browser bundle: createRequire(...)('gpu.js') is how src/tensor/kernels/gpujs
// loads gpu.js (synchronously, on first use); here it returns gpu.js's browser build, which picks
// WebGL2, then WebGL, then its cpu mode.
import * as gpujs from 'gpu.js';

export function createRequire(_from: string | URL): (name: string) => unknown {
  return (name: string) => {
    if (name === 'gpu.js') return gpujs;
    throw new Error(`require('${name}') is not available in the browser`);
  };
}
