// Vectorised exp(x) for float32, accurate to ~2 ulp (≈2e-7 relative) over the float range.
//
// Range reduction: exp(x) = 2^n · exp(r) with n = round(x / ln 2) and r = x − n·ln 2, so that
// |r| ≤ ln2 / 2 ≈ 0.347. ln 2 is split in a high part with few mantissa bits (n·LN2_HI is exact)
// and a small correction, so r keeps its precision (Cody–Waite). exp(r) is the degree-7
// polynomial 1 + r + r²·(P5 + P4·r + … + P0·r⁵) with the Cephes `expf` coefficients, in Horner
// form (one multiply-add per degree).
//
// Rounding without a float→int conversion (which V8 lowers to ~8 instructions): adding
// MAGIC = 1.5·2²³ to t = x·log2(e) leaves round(t) in the low mantissa bits of the sum (the float
// spacing there is exactly 1), so n = (t + MAGIC) − MAGIC, and the integer bits of t + MAGIC are
// 0x4B400000 + n. Shifting (bits + 127) left by 23 drops the 0x4B4… part and leaves (n + 127) << 23:
// the bits of the float 2^n.
import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const MAGIC: f32 = 12582912.0; // 1.5 · 2^23
const LN2_HI: f32 = 0.693359375; // 9 significant bits, so n·LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4; // ln 2 − LN2_HI
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** Below this, exp(x) < 2^-126 (the smallest normal float32): the result is 0 (flush to zero). */
const X_MIN: f32 = -87.33654;
/** Above this, n would reach 128 and overflow the exponent; exp(88) ≈ 1.65e38 < float32 max. */
const X_MAX: f32 = 88.0;

// V8 (11.x) rebuilds a v128 constant with 3 instructions at every use, and binaryen folds any
// constant we hoist into a local back into its uses. A broadcast load from this table costs one
// instruction and an L1 hit instead, so the constants are read from memory at each use.
const TABLE = memory.data<f32>([X_MIN, X_MAX, LOG2E, MAGIC, -LN2_HI, -LN2_LO, P0, P1, P2, P3, P4, P5, 1]);

// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(TABLE + (<usize>i << 2));
}

/** exp on four lanes. −∞ → 0, NaN → NaN, x > 88 → exp(88) (softmax only feeds x ≤ 0). */
// @ts-ignore: decorator
@inline export function expf4(x: v128): v128 {
  // pmax/pmin (one x86 instruction each) return their first operand when it is NaN, so NaN flows
  // through to the result instead of being clamped to a number.
  const xc = f32x4.pmin(f32x4.pmax(x, k(0)), k(1));
  const shifted = madd(xc, k(2), k(3)); // MAGIC + round(x·log2 e)
  const n = f32x4.sub(shifted, k(3));
  // r = x − n·LN2_HI − n·LN2_LO
  let r = madd(n, k(4), xc);
  r = madd(n, k(5), r);
  // exp(r) = ((((((P0·r + P1)·r + P2)·r + P3)·r + P4)·r + P5)·r + 1)·r + 1
  let p = madd(k(6), r, k(7));
  p = madd(p, r, k(8));
  p = madd(p, r, k(9));
  p = madd(p, r, k(10));
  p = madd(p, r, k(11));
  p = madd(p, r, k(12));
  p = madd(p, r, k(12));
  const pow2n = i32x4.shl(i32x4.add(shifted, i32x4.splat(127)), 23); // bits of 2^n, n ∈ [−126, 127]
  const y = f32x4.mul(p, pow2n);
  // Inputs below X_MIN (−∞ included) give exactly 0 instead of 2^-126.
  return v128.andnot(y, f32x4.lt(x, k(0)));
}

/** Scalar exp through the same vector code, for the tails of rows (keeps results identical). */
// @ts-ignore: decorator
@inline export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expf4(f32x4.splat(x)), 0);
}
