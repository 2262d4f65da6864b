// gpu.js row softmax, forward and backward, over x viewed as [rows, cols].
import type { FloatArray } from '../types.js';
import { copyRows } from './matmul.js';
import { cachedKernels, matrix, ran, type GpuKernel } from './runtime.js';

// Sources are strings (see matmul.ts). Row reductions run one thread per row and loop to
// this.constants.C: an argument-derived bound would be capped at 1000 columns.
// Elementwise kernels have output [cols, rows], so thread.y is the row and thread.x the column.

/** m_r = max_j x_rj, one thread per row. */
const rowMaxSource = `function (x) {
  let m = -Infinity;
  for (let j = 0; j < this.constants.C; j++) {
    m = Math.max(m, x[this.thread.x][j]);
  }
  return m;
}`;

/** e_rj = exp(x_rj − m_r). exp is computed once and kept: on webasm it is a call out to JS. */
const expShiftedSource = `function (x, rowMax) {
  return Math.exp(x[this.thread.y][this.thread.x] - rowMax[this.thread.y]);
}`;

/** s_r = Σ_j e_rj */
const rowSumSource = `function (e) {
  let s = 0.0;
  for (let j = 0; j < this.constants.C; j++) {
    s += e[this.thread.x][j];
  }
  return s;
}`;

/** d_r = Σ_j u_rj · v_rj (backward: Σ_j dy_rj · y_rj) */
const rowDotSource = `function (u, v) {
  let s = 0.0;
  for (let j = 0; j < this.constants.C; j++) {
    s += u[this.thread.x][j] * v[this.thread.x][j];
  }
  return s;
}`;

/** y_rj = e_rj / s_r */
const divideRowsSource = `function (e, rowSum) {
  return e[this.thread.y][this.thread.x] / rowSum[this.thread.y];
}`;

/** dx_rj = y_rj · (dy_rj − d_r) */
const softmaxGradSource = `function (y, dy, rowDot) {
  const i = this.thread.y;
  const j = this.thread.x;
  return y[i][j] * (dy[i][j] - rowDot[i]);
}`;

function rowwise(rows: number, cols: number) {
  return { output: [rows], constants: { C: cols }, precision: 'single' };
}
function elementwise(rows: number, cols: number) {
  return { output: [cols, rows], precision: 'single' };
}

/**
 * out = exp(x − max) / Σ exp(x − max) per row, in four passes: row max, shifted exp, row sum,
 * divide. The max is computed once per row, never per element (that would be cols× the work).
 */
export function softmaxGpujs(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return;
  const [rowMax, expShifted, rowSum, divideRows] = cachedKernels(`softmax ${rows}x${cols}`, (create) => [
    create(rowMaxSource, rowwise(rows, cols)),
    create(expShiftedSource, elementwise(rows, cols)),
    create(rowSumSource, rowwise(rows, cols)),
    create(divideRowsSource, elementwise(rows, cols)),
  ]);
  const xs = matrix(x.subarray(0, rows * cols), rows, cols);
  const max = rowMax(xs) as Float32Array;
  // A fully masked row (all −∞) would give exp(−∞ + ∞) = NaN per element; with max 0 every exp
  // is 0 and the row is 0/0 = NaN once, the same as the js family (and PyTorch).
  for (let r = 0; r < rows; r++) if (max[r] === -Infinity) max[r] = 0;
  const e = expShifted(xs, max) as Float32Array[];
  const sum = rowSum(e) as Float32Array;
  copyRows(divideRows(e, sum) as Float32Array[], out, 0, cols);
  ran(divideRows);
}

/** dx = y ⊙ (dy − Σ_j dy_j y_j) per row: one row dot, then one elementwise pass. */
export function softmaxBackwardGpujs(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return;
  const [rowDot, softmaxGrad]: GpuKernel[] = cachedKernels(`softmaxBackward ${rows}x${cols}`, (create) => [
    create(rowDotSource, rowwise(rows, cols)),
    create(softmaxGradSource, elementwise(rows, cols)),
  ]);
  const ys = matrix(y.subarray(0, rows * cols), rows, cols);
  const dys = matrix(dy.subarray(0, rows * cols), rows, cols);
  const dot = rowDot(dys, ys) as Float32Array;
  copyRows(softmaxGrad(ys, dys, dot) as Float32Array[], dx, 0, cols);
  ran(softmaxGrad);
}
