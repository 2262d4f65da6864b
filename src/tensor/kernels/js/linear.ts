// A linear layer's three gradients in one call: dX = g·W, dW = gᵀ·x, db = Σ_rows g. The reference
// for wasm's, which copies g into wasm memory once for all three; gpu.js composes its own matmul
// the same way (linearBackwardWith).
import type { FloatArray, Kernels, LinearBackwardArgs } from '../types.js';
import { matmul } from './matmul.js';
import { reduce } from './reduce.js';

const one = new Int32Array(1);

/** linearBackward over a given matmul kernel. */
export function linearBackwardWith(product: Kernels['matmul']): Kernels['linearBackward'] {
  return ({ g, x, w, rows, inF, outF }: LinearBackwardArgs, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null): void => {
    if (dx) product({ a: g, b: w, out: dx, batch: 1, m: rows, n: inF, k: outF, transA: false, transB: false, aOffsets: one, bOffsets: one });
    if (dw) product({ a: g, b: x, out: dw, batch: 1, m: outF, n: inF, k: rows, transA: true, transB: false, aOffsets: one, bOffsets: one });
    if (!db) return;
    const sums = g instanceof Float32Array ? new Float64Array(outF) : db; // a float32 sum is taken in float64, as raw.reduce does
    reduce('sum', g, 1, rows, outF, sums);
    if (sums !== db) db.set(sums);
  };
}

export const linearBackward = linearBackwardWith(matmul);
