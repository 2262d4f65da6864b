// GELU forward and backward as single loops: the hot elementwise op of transformer MLPs, so no
// per-element callbacks. Exact: y = x·Φ(x); tanh form: y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
import type { TypedArray } from '../../dtype.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Φ(x) = ½(1 + erf(x/√2)) for float32, with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7,
 * below float32's resolution); float64 callers pass the precise erf instead.
 */
function phiFast(x: number): number {
  const z = Math.abs(x) * Math.SQRT1_2;
  const t = 1 / (1 + 0.3275911 * z);
  const erfAbs = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return 0.5 * (1 + (x < 0 ? -erfAbs : erfAbs));
}

export function geluForward(x: TypedArray, out: TypedArray, tanhForm: boolean, erf: ((v: number) => number) | null): void {
  const n = x.length;
  if (tanhForm) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
    }
  } else if (erf) {
    for (let i = 0; i < n; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] * Math.SQRT1_2));
  } else {
    for (let i = 0; i < n; i++) out[i] = x[i] * phiFast(x[i]);
  }
}

/** dx = g · dy/dx with dy/dx = Φ(x) + x·φ(x) (exact) or the derivative of the tanh form. */
export function geluBackward(x: TypedArray, g: TypedArray, dx: TypedArray, tanhForm: boolean, erf: ((v: number) => number) | null): void {
  const n = x.length;
  if (tanhForm) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
      dx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const phi = erf ? 0.5 * (1 + erf(v * Math.SQRT1_2)) : phiFast(v);
      dx[i] = g[i] * (phi + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
  }
}
