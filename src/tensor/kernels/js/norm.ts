// LayerNorm over rows of D: x̂ = (x − μ)/√(σ² + ε) (σ² biased), y = x̂·w + b; its gradient
// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = g·w, dw = Σ g·x̂, db = Σ g.
import type { FloatArray } from '../types.js';

export function layerNorm(x: FloatArray, rows: number, D: number, w: FloatArray | null, b: FloatArray | null, eps: number, y: FloatArray, mean: Float64Array, rstd: Float64Array): void {
  for (let r = 0, o = 0; r < rows; r++, o += D) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x[o + j];
    const mu = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[o + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(v / D + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < D; j++) y[o + j] = (x[o + j] - mu) * rs * (w ? w[j] : 1) + (b ? b[j] : 0);
  }
}

export function layerNormBackward(x: FloatArray, g: FloatArray, rows: number, D: number, w: FloatArray | null, mean: Float64Array, rstd: Float64Array, dx: FloatArray | null, dw: Float64Array, db: Float64Array): void {
  const xhat = new Float64Array(D);
  for (let r = 0, o = 0; r < rows; r++, o += D) {
    const mu = mean[r], rs = rstd[r];
    let sumDxhat = 0, sumDxhatXhat = 0;
    for (let j = 0; j < D; j++) {
      const xh = (x[o + j] - mu) * rs, gv = g[o + j];
      xhat[j] = xh;
      dw[j] += gv * xh;
      db[j] += gv;
      const dxh = gv * (w ? w[j] : 1);
      sumDxhat += dxh;
      sumDxhatXhat += dxh * xh;
    }
    if (!dx) continue;
    const m1 = sumDxhat / D, m2 = sumDxhatXhat / D;
    for (let j = 0; j < D; j++) dx[o + j] = rs * (g[o + j] * (w ? w[j] : 1) - m1 - xhat[j] * m2);
  }
}
