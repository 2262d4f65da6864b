// Plain TypeScript softmax over the last dim, numerically stable (max subtracted).
import type { FloatArray } from '../types.js';

/** out_ij = exp(x_ij - max_j x_ij) / Σ_j exp(x_ij - max_j x_ij) */
export function softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[off + j] > max) max = x[off + j];
    if (max === -Infinity) max = 0; // a fully masked row: every exp is 0, the sum is 0 → NaN like PyTorch
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[off + j] - max);
      out[off + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[off + j] *= inv;
  }
}

/** dx_ij = y_ij · (dy_ij - Σ_k dy_ik y_ik) */
export function softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[off + j] * y[off + j];
    for (let j = 0; j < cols; j++) dx[off + j] = y[off + j] * (dy[off + j] - dot);
  }
}
