// erf and GELU, the hot elementwise map of transformer MLPs. Exact: y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));
// tanh form (GPT-2): y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf to float64 precision: a positive series for |x| < 2.5, a continued fraction for erfc beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), every term positive: no cancellation
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + …))))), evaluated bottom-up
  let frac = ax;
  for (let n = 60; n >= 1; n--) frac = ax + n / 2 / frac;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / frac;
  return Math.sign(x) * (1 - erfc);
}

/** Φ(x) with erf from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution). */
function phiFast(x: number): number {
  const z = Math.abs(x) * Math.SQRT1_2;
  const t = 1 / (1 + 0.3275911 * z);
  const erfAbs = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return 0.5 * (1 + (x < 0 ? -erfAbs : erfAbs));
}

/** The standard normal CDF Φ(x): precise for float64 data, fast for float32. */
export function phi(x: number, precise: boolean): number {
  return precise ? 0.5 * (1 + erf(x * Math.SQRT1_2)) : phiFast(x);
}

/** d(x·Φ(x))/dx = Φ(x) + x·φ(x). */
export function geluGrad(x: number, precise: boolean): number {
  return phi(x, precise) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** The derivative of the tanh form: ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²). */
export function geluTanhGrad(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
}
