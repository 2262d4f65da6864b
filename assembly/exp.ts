// Vectorised exp(x) for float32, accurate to ~1 ulp (≈1.2e-7 relative) on the whole float range.
//
// Range reduction: exp(x) = 2^n · exp(r) with n = round(x / ln 2) and r = x − n·ln 2, so that
// |r| ≤ ln2 / 2 ≈ 0.347. ln 2 is split in a high part with few mantissa bits (n·LN2_HI is exact)
// and a small correction, so r keeps its precision (Cody–Waite). exp(r) is then a degree-6
// polynomial 1 + r + r²·P(r) with the Cephes `expf` coefficients, and 2^n is built directly from
// its bits: the float with exponent field n + 127 and zero mantissa.
import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // 0x3f318000: 9 significant bits, so n·LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4; // ln 2 − LN2_HI
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** Below this, exp(x) < 2^-126 (the smallest normal float32): we return 0, like a flush to zero. */
const X_MIN: f32 = -87.33654;
/** Above this, 2^n would overflow the exponent field; exp(88.37) ≈ 2.4e38 is near the float32 max. */
const X_MAX: f32 = 88.3762626647949;

/** exp on four lanes. −∞ → 0, NaN → NaN, +∞ → exp(X_MAX) (softmax never feeds a positive value). */
// @ts-ignore: decorator
@inline export function expf4(x: v128): v128 {
  // pmax/pmin (one x86 instruction each) return their first operand when it is NaN, so NaN flows
  // through to the result instead of being clamped to a number.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(X_MIN)), f32x4.splat(X_MAX));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  // r = x − n·LN2_HI − n·LN2_LO
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // Horner: P(r) = ((((P0 r + P1) r + P2) r + P3) r + P4) r + P5
  let p = madd(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P5));
  // exp(r) = 1 + r + r²·P(r)
  const er = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  // 2^n: exponent bits (n + 127) << 23; n ∈ [−126, 127] after the clamp, so this is a normal float.
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const y = f32x4.mul(er, pow2n);
  // Inputs below X_MIN (−∞ included) give exactly 0 instead of 2^-126.
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(X_MIN)));
}

/** Scalar exp through the same vector code, for the tails of rows (keeps results identical). */
// @ts-ignore: decorator
@inline export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expf4(f32x4.splat(x)), 0);
}
