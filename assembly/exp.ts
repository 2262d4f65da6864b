// Vectorised exp(x) for float32, 12–13 SIMD instructions for four lanes. Relative error against
// float64 exp for x ≥ −87.3: at most 2e-7 in the plain build, 4e-7 in the relaxed (FMA) build.
//
// Range reduction: exp(x) = 2^n · exp(r) with n = round(x·log2 e) and r = x − n·ln 2, so that
// |r| ≤ ln2 / 2 ≈ 0.347. Without a fused multiply-add, n·ln2 would be rounded before the
// subtraction, so ln 2 is split into a high part with 9 significant bits (n·LN2_HI is exact for
// |n| < 2^15) and a small correction (Cody–Waite). With one, n·ln2 is not rounded and a single
// step with ln 2 rounded to float32 leaves |n|·1.9e-9 ≤ 2.4e-7 error in r, one instruction less.
// exp(r) ≈ 1 + r·(C1 + r·(C2 + r·(C3 + r·(C4 + r·C5)))): a degree-5 minimax fit of the relative
// error on [−ln2/2, ln2/2] (Lawson's algorithm; 9e-8 in exact arithmetic), one multiply-add per degree.
//
// Rounding without a float→int conversion (which V8 lowers to ~8 instructions): in
// s = x·log2 e + SHIFT with SHIFT = 1.5·2²³ + 127, floats are 1 apart, so s − SHIFT = n exactly
// and the bits of s read as an integer are 0x4B400000 + 127 + n. Shifted left by 23 the 0x4B4…
// part falls off and (n + 127) << 23 remains: the bits of the float 2^n. Taking the integer max
// with 0x4B400000 first makes every n ≤ −127 give the bits of +0, so tiny results flush to zero.
import { madd, hsum } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const SHIFT: f32 = 12583039.0; // 1.5 · 2^23 + 127
const LN2: f32 = 0.6931471805599453;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4; // ln 2 − LN2_HI
const FUSED = ASC_FEATURE_RELAXED_SIMD; // madd is a fused multiply-add in this build
const C1: f32 = 0.9999997;
const C2: f32 = 0.49999148;
const C3: f32 = 0.16667639;
const C4: f32 = 0.04189816;
const C5: f32 = 0.008290272;
/**
 * Inputs are clamped here: round(−88·log2 e) = −127, whose 2^n bits are those of +0, so
 * everything from −88 down to −∞ gives exactly 0 (true values there are below 2^-126).
 */
const X_MIN: f32 = -88.0;

// Registers decide the speed: V8 gives wasm 15 SIMD registers, and the 10 constants, the running
// sum, the bias and ~3 temporaries just fit (a 13th constant made it spill: 0.83 vs 0.48 ns per
// value). So constants are loaded once per call, before the loop, and passed in; that also stops
// binaryen from turning them back into per-use v128.const.
const TABLE = memory.data<f32>([X_MIN, LOG2E, SHIFT, FUSED ? -LN2 : -LN2_HI, -LN2_LO, C5, C4, C3, C2, C1]);

/**
 * exp on four lanes, its constants passed in already broadcast: −∞ → 0, NaN → NaN, below
 * 2^-126 → 0. Valid for x ≤ 88 (softmax feeds x − max ≤ 0); larger x overflow the exponent.
 */
// @ts-ignore: decorator
@inline function expf4(
  x: v128, lo: v128, log2e: v128, shift: v128, negLn2Hi: v128, negLn2Lo: v128,
  c5: v128, c4: v128, c3: v128, c2: v128, c1: v128,
): v128 {
  // pmax(x, lo) = x < lo ? lo : x keeps a NaN x, so NaN flows through to the result.
  const xc = f32x4.pmax(x, lo);
  const s = madd(xc, log2e, shift);
  const n = f32x4.sub(s, shift); // round(x·log2 e), as a float
  let r = madd(n, negLn2Hi, xc); // negLn2Hi holds −ln 2 itself in the fused build
  if (!FUSED) r = madd(n, negLn2Lo, r);
  let q = madd(c5, r, c4);
  q = madd(q, r, c3);
  q = madd(q, r, c2);
  q = madd(q, r, c1);
  const pow2n = i32x4.shl(s, 23); // bits of 2^n (of +0 when n = −127)
  return madd(f32x4.mul(r, q), pow2n, pow2n); // 2^n·(1 + r·q)
}

/** dst_j = exp(src_j − bias) for j < len, returning Σ_j dst_j. dst may equal src. */
export function expSubSum(src: usize, dst: usize, len: i32, bias: f32): f32 {
  const lo = v128.load32_splat(TABLE), log2e = v128.load32_splat(TABLE + 4);
  const shift = v128.load32_splat(TABLE + 8), negLn2Hi = v128.load32_splat(TABLE + 12);
  const negLn2Lo = v128.load32_splat(TABLE + 16), c5 = v128.load32_splat(TABLE + 20);
  const c4 = v128.load32_splat(TABLE + 24), c3 = v128.load32_splat(TABLE + 28);
  const c2 = v128.load32_splat(TABLE + 32), c1 = v128.load32_splat(TABLE + 36);
  const biasv = f32x4.splat(bias);
  // The sum runs in float32 over blocks of 256 values, then in float64 across blocks: rows of a
  // million values keep ~1e-7 relative error instead of ~1e-4 for one float32 running sum.
  let total: f64 = 0;
  const vecEnd = len & ~3;
  let j = 0;
  while (j < vecEnd) {
    const blockEnd = min(vecEnd, j + 256);
    let sumv = f32x4.splat(0);
    for (; j < blockEnd; j += 4) {
      const at = <usize>j << 2;
      const e = expf4(f32x4.sub(v128.load(src + at), biasv), lo, log2e, shift, negLn2Hi, negLn2Lo, c5, c4, c3, c2, c1);
      v128.store(dst + at, e);
      sumv = f32x4.add(sumv, e);
    }
    total += <f64>hsum(sumv);
  }
  let sum = <f32>total;
  // the last 0–3 values, one lane used per pass
  for (; j < len; j++) {
    const at = <usize>j << 2;
    const x = f32x4.splat(load<f32>(src + at) - bias);
    const e = f32x4.extract_lane(expf4(x, lo, log2e, shift, negLn2Hi, negLn2Lo, c5, c4, c3, c2, c1), 0);
    store<f32>(dst + at, e);
    sum += e;
  }
  return sum;
}

/**
 * exp on four lanes, each constant read from TABLE where it is used (one broadcast load; V8
 * rebuilds a v128.const in three instructions at every use, in loops too), for kernels that call
 * it inside a larger formula (assembly/maps.ts). Same accuracy; x ≤ 88, as expf4.
 */
// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  return expf4(
    x, v128.load32_splat(TABLE), v128.load32_splat(TABLE + 4), v128.load32_splat(TABLE + 8), v128.load32_splat(TABLE + 12),
    v128.load32_splat(TABLE + 16), v128.load32_splat(TABLE + 20), v128.load32_splat(TABLE + 24), v128.load32_splat(TABLE + 28),
    v128.load32_splat(TABLE + 32), v128.load32_splat(TABLE + 36),
  );
}
