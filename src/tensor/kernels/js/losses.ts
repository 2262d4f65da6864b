// Cross-entropy over contiguous rows of C logits, fused with log-softmax:
// loss_r = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c), lse = log Σ_c exp z_c.
import type { CrossEntropyArgs, FloatArray } from '../types.js';

export function crossEntropy(args: CrossEntropyArgs, losses: Float64Array): void {
  const { logits: z, rows, classes: C, target: y, ignoreIndex, weight: w, smoothing: eps, lse } = args;
  for (let r = 0; r < rows; r++) {
    const b = r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (z[b + c] > max) max = z[b + c];
    if (max === -Infinity) max = 0;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[b + c] - max);
    const l = max + Math.log(sum);
    lse[r] = l;
    if (y[r] === ignoreIndex) {
      losses[r] = 0;
      continue;
    }
    let loss = (1 - eps) * (w ? w[y[r]] : 1) * (l - z[b + y[r]]);
    if (eps > 0) {
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth += (w ? w[c] : 1) * (l - z[b + c]);
      loss += (eps / C) * smooth;
    }
    losses[r] = loss;
  }
}

/** loss = −Σ_c a_c log p_c, a_c = (1−ε)·w_y·[c = y] + (ε/C)·w_c ⇒ dz_c = A·p_c − a_c, A = Σ_c a_c. */
export function crossEntropyBackward(args: CrossEntropyArgs, scale: number | Float64Array, dz: FloatArray): void {
  const { logits: z, rows, classes: C, target: y, ignoreIndex, weight: w, smoothing: eps, lse } = args;
  let weightSum = C;
  if (w) {
    weightSum = 0;
    for (let c = 0; c < C; c++) weightSum += w[c];
  }
  for (let r = 0; r < rows; r++) {
    const b = r * C;
    if (y[r] === ignoreIndex) {
      dz.fill(0, b, b + C);
      continue;
    }
    const s = typeof scale === 'number' ? scale : scale[r], l = lse[r], wy = w ? w[y[r]] : 1;
    const A = (1 - eps) * wy + (eps / C) * weightSum;
    for (let c = 0; c < C; c++) dz[b + c] = s * (A * Math.exp(z[b + c] - l) - (eps / C) * (w ? w[c] : 1));
    dz[b + y[r]] -= s * (1 - eps) * wy;
  }
}
