// Elementwise maps (unary ops and their derivatives), binary ops in the broadcast patterns models
// hit, and sums along the middle dim of [outer, len, inner], four float32 lanes at a time.
// Pointers are byte offsets into the module's memory. The unary, unaryGrad and same-shape /
// scalar binary kernels run over n rounded up to a multiple of 4: the JS side places every buffer
// on a 64-byte boundary with its size rounded up to 64 bytes, so the 0–3 extra lanes read and
// write padding it never copies out. The op codes are those of src/tensor/kernels/wasm/maps.ts.
import { expv } from './exp';

// Unary op codes.
const NEG = 0, ABS = 1, SQRT = 2, EXP = 3, TANH = 4, SIGMOID = 5, RELU = 6, GELU = 7, GELU_TANH = 8, LOG = 9;
// Derivative op codes.
const D_RELU = 0, D_GELU = 1, D_GELU_TANH = 2;
// Binary op codes.
const ADD = 0, SUB = 1, MUL = 2, DIV = 3;

// Every constant of the maps is a 4-byte cell in the module's data, read with k() (below) where it is used.
const SQRT1_2 = memory.data<f32>([0.7071067811865476]);
const INV_SQRT_2PI = memory.data<f32>([0.3989422804014327]);
const SQRT_2_OVER_PI = memory.data<f32>([0.7978845608028654]);
const GELU_C = memory.data<f32>([0.044715]);
// erfc(z) ≈ t·(A1 + t(A2 + t(A3 + t(A4 + t·A5))))·e^{−z²}, t = 1/(1 + P·z), z ≥ 0: Abramowitz &
// Stegun 7.1.26, |error| < 1.5e-7, the formula the js kernel uses for float32.
const P = memory.data<f32>([0.3275911]);
const A1 = memory.data<f32>([0.254829592]), A2 = memory.data<f32>([-0.284496736]), A3 = memory.data<f32>([1.421413741]);
const A4 = memory.data<f32>([-1.453152027]), A5 = memory.data<f32>([1.061405429]);
/** Below this |x|, tanh uses its Taylor series (to x¹³: relative error < 1e-8): (1 − e)/(1 + e) would cancel. */
const TANH_SERIES_BELOW = memory.data<f32>([0.4]);
/** Beyond ±30 GELU's tanh-form slope is exactly 0 or 1 in float32; clamping keeps x³ and x² finite. */
const GELU_TANH_CLAMP = memory.data<f32>([30]);

// the literals of the formulas below (integer cells hold bit patterns; ONE's bits are 0x3f800000)
const EXP_HALVE_ABOVE = memory.data<f32>([88]);
const HALF = memory.data<f32>([0.5]);
const EXP_HALF_CAP = memory.data<f32>([89]);
const MIN_NORMAL = memory.data<f32>([1.1754944e-38]);
const TWO_POW_23 = memory.data<f32>([8388608]);
const SQRT2 = memory.data<f32>([1.4142135]);
const ONE = memory.data<f32>([1]);
const TWENTY_THREE = memory.data<f32>([23]);
const ONE_NINTH = memory.data<f32>([1.0 / 9.0]);
const ONE_SEVENTH = memory.data<f32>([1.0 / 7.0]);
const ONE_FIFTH = memory.data<f32>([1.0 / 5.0]);
const ONE_THIRD = memory.data<f32>([1.0 / 3.0]);
const MINUS_INFINITY = memory.data<f32>([-Infinity]);
const INFINITY = memory.data<f32>([Infinity]);
const NAN = memory.data<f32>([NaN]);
const MINUS_TWO = memory.data<f32>([-2]);
const TANH_13 = memory.data<f32>([21844.0 / 6081075.0]);
const TANH_11 = memory.data<f32>([-1382.0 / 155925.0]);
const TANH_9 = memory.data<f32>([62.0 / 2835.0]);
const TANH_7 = memory.data<f32>([-17.0 / 315.0]);
const TANH_5 = memory.data<f32>([2.0 / 15.0]);
const TANH_3 = memory.data<f32>([-1.0 / 3.0]);
const MINUS_HALF = memory.data<f32>([-0.5]);
const MINUS_GELU_TANH_CLAMP = memory.data<f32>([-30]);
const THREE_GELU_C = memory.data<f32>([3 * 0.044715]);
const MANTISSA_MASK = memory.data<i32>([0x007fffff]);
const EXPONENT_BIAS = memory.data<i32>([127]);
const SIGN_BIT = memory.data<i32>([0x80000000]);

/** The four lanes of a constant cell: one broadcast load, where a v128.const costs three instructions at every use. */
// @ts-ignore: decorator
@inline function k(cell: usize): v128 {
  return v128.load32_splat(cell);
}

/** exp(x) for every float32: above 88 as exp(x/2)², so that 2^n stays representable; +∞ past 88.72. */
// @ts-ignore: decorator
@inline function expFull(x: v128): v128 {
  const high = f32x4.gt(x, k(EXP_HALVE_ABOVE));
  // x/2 is exact (x − ln 2 would round); pmin(a, b) = b < a ? b : a keeps a NaN a
  const y = expv(f32x4.pmin(v128.bitselect(f32x4.mul(x, k(HALF)), x, high), k(EXP_HALF_CAP)));
  return v128.bitselect(f32x4.mul(y, y), y, high);
}

const LN2_HI = memory.data<f32>([0.693359375]); // 9 significant bits: e·LN2_HI is exact for |e| < 2^15
const LN2_LO = memory.data<f32>([-2.12194440e-4]); // ln 2 − LN2_HI

/**
 * ln x = e·ln 2 + ln m with x = m·2^e, m ∈ [√½, √2), and ln m = 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9)
 * with s = (m − 1)/(m + 1), |s| ≤ 0.172 (the atanh series, truncation < 3e-9 relative). m − 1 is
 * exact there, so ln x keeps its relative accuracy near x = 1. Subnormal x are scaled by 2^23 first.
 */
// @ts-ignore: decorator
@inline function logv(x: v128): v128 {
  const tiny = f32x4.lt(x, k(MIN_NORMAL)); // below 2^-126 the exponent field is 0
  const xs = v128.bitselect(f32x4.mul(x, k(TWO_POW_23)), x, tiny);
  // m ∈ [1, 2) from the mantissa bits, then halved above √2 (e + 1)
  let m = v128.or(v128.and(xs, k(MANTISSA_MASK)), k(ONE));
  const upper = f32x4.gt(m, k(SQRT2));
  m = v128.bitselect(f32x4.mul(m, k(HALF)), m, upper);
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(xs, 23), k(EXPONENT_BIAS)));
  e = f32x4.add(e, v128.and(upper, k(ONE)));
  e = f32x4.sub(e, v128.and(tiny, k(TWENTY_THREE)));
  const s = f32x4.div(f32x4.sub(m, k(ONE)), f32x4.add(m, k(ONE)));
  const s2 = f32x4.mul(s, s);
  let q = f32x4.add(f32x4.mul(s2, k(ONE_NINTH)), k(ONE_SEVENTH));
  q = f32x4.add(f32x4.mul(s2, q), k(ONE_FIFTH));
  q = f32x4.add(f32x4.mul(s2, q), k(ONE_THIRD));
  const lnm = f32x4.mul(f32x4.add(s, s), f32x4.add(f32x4.mul(s2, q), k(ONE)));
  let r = f32x4.add(f32x4.mul(e, k(LN2_HI)), f32x4.add(lnm, f32x4.mul(e, k(LN2_LO))));
  // ln(±0) = −∞, ln ∞ = ∞, ln(x < 0) and ln NaN = NaN, as Math.log
  r = v128.bitselect(k(MINUS_INFINITY), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(x, r, f32x4.eq(x, k(INFINITY)));
  return v128.bitselect(k(NAN), r, v128.or(f32x4.ne(x, x), f32x4.lt(x, f32x4.splat(0))));
}

/** σ(x) = 1/(1 + e^{−x}) for x ≥ 0, e^{x}/(1 + e^{x}) below: e = e^{−|x|} ∈ (0, 1] never overflows. */
// @ts-ignore: decorator
@inline function sigmoidv(x: v128): v128 {
  const e = expv(f32x4.neg(f32x4.abs(x)));
  const s = f32x4.div(k(ONE), f32x4.add(k(ONE), e));
  return v128.bitselect(s, f32x4.mul(e, s), f32x4.ge(x, f32x4.splat(0)));
}

/** tanh(x) = sign(x)·(1 − e)/(1 + e), e = e^{−2|x|}; an odd Taylor series near 0. */
// @ts-ignore: decorator
@inline function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = expv(f32x4.mul(ax, k(MINUS_TWO)));
  const far = v128.or(f32x4.div(f32x4.sub(k(ONE), e), f32x4.add(k(ONE), e)), v128.and(x, k(SIGN_BIT)));
  const x2 = f32x4.mul(x, x);
  // x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925 + 21844x¹³/6081075
  let q = f32x4.add(f32x4.mul(x2, k(TANH_13)), k(TANH_11));
  q = f32x4.add(f32x4.mul(x2, q), k(TANH_9));
  q = f32x4.add(f32x4.mul(x2, q), k(TANH_7));
  q = f32x4.add(f32x4.mul(x2, q), k(TANH_5));
  q = f32x4.add(f32x4.mul(x2, q), k(TANH_3));
  const near = f32x4.add(x, f32x4.mul(f32x4.mul(x, x2), q));
  return v128.bitselect(near, far, f32x4.lt(ax, k(TANH_SERIES_BELOW)));
}

/** e^{−x²/2}: the Gaussian factor of both Φ (as e^{−z²}, z = |x|/√2) and GELU's derivative. */
// @ts-ignore: decorator
@inline function gaussv(x: v128): v128 {
  return expv(f32x4.mul(f32x4.mul(x, x), k(MINUS_HALF)));
}

/** Φ(x) = ½erfc(z) for x < 0, 1 − ½erfc(z) above, z = |x|/√2, given gauss = e^{−x²/2}. */
// @ts-ignore: decorator
@inline function phiv(x: v128, gauss: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), k(SQRT1_2));
  const t = f32x4.div(k(ONE), f32x4.add(k(ONE), f32x4.mul(z, k(P))));
  let q = f32x4.add(f32x4.mul(t, k(A5)), k(A4));
  q = f32x4.add(f32x4.mul(t, q), k(A3));
  q = f32x4.add(f32x4.mul(t, q), k(A2));
  q = f32x4.add(f32x4.mul(t, q), k(A1));
  const half = f32x4.mul(f32x4.mul(f32x4.mul(t, q), gauss), k(HALF)); // ½·erfc(z) = Φ(−|x|), no cancellation
  return v128.bitselect(half, f32x4.sub(k(ONE), half), f32x4.lt(x, f32x4.splat(0)));
}

/** σ(2u), u = √(2/π)(x + 0.044715x³): ½(1 + tanh u), the tanh-form GELU's gate, on clamped x. */
// @ts-ignore: decorator
@inline function geluTanhGate(xc: v128): v128 {
  const u = f32x4.mul(k(SQRT_2_OVER_PI), f32x4.add(xc, f32x4.mul(k(GELU_C), f32x4.mul(xc, f32x4.mul(xc, xc)))));
  return sigmoidv(f32x4.add(u, u));
}

// @ts-ignore: decorator
@inline function clampGeluTanh(x: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, k(MINUS_GELU_TANH_CLAMP)), k(GELU_TANH_CLAMP)); // NaN stays NaN
}

// @ts-ignore: decorator
@inline function unary4(op: i32, x: v128): v128 {
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == EXP) return expFull(x);
  if (op == TANH) return tanhv(x);
  if (op == SIGMOID) return sigmoidv(x);
  if (op == RELU) return f32x4.pmax(f32x4.splat(0), x); // 0 < x ? x : 0, as js: NaN → 0
  if (op == GELU) return f32x4.mul(x, phiv(x, gaussv(x)));
  if (op == LOG) return logv(x);
  return f32x4.mul(x, geluTanhGate(clampGeluTanh(x))); // GELU_TANH: ½x(1 + tanh u) = x·σ(2u)
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  const bytes = <usize>n << 2;
  for (let p: usize = 0; p < bytes; p += 16) v128.store(out + p, unary4(op, v128.load(x + p)));
}

/** out_i = f(x_i) for i < n (rounded up to 4); `out` may equal `x`. */
export function unaryMap(op: i32, x: usize, out: usize, n: i32): void {
  // each branch is the loop specialised to one op (the constant op folds away after inlining)
  if (op == NEG) unaryLoop(NEG, x, out, n);
  else if (op == ABS) unaryLoop(ABS, x, out, n);
  else if (op == SQRT) unaryLoop(SQRT, x, out, n);
  else if (op == EXP) unaryLoop(EXP, x, out, n);
  else if (op == TANH) unaryLoop(TANH, x, out, n);
  else if (op == SIGMOID) unaryLoop(SIGMOID, x, out, n);
  else if (op == RELU) unaryLoop(RELU, x, out, n);
  else if (op == GELU) unaryLoop(GELU, x, out, n);
  else if (op == GELU_TANH) unaryLoop(GELU_TANH, x, out, n);
  else if (op == LOG) unaryLoop(LOG, x, out, n);
  else unreachable();
}

/** f′(x): relu's step, Φ(x) + x·φ(x), and s + 2x·s(1 − s)·√(2/π)(1 + 3·0.044715x²) with s = σ(2u). */
// @ts-ignore: decorator
@inline function slope4(op: i32, x: v128): v128 {
  if (op == D_GELU) {
    const gauss = gaussv(x);
    return f32x4.add(phiv(x, gauss), f32x4.mul(f32x4.mul(x, k(INV_SQRT_2PI)), gauss));
  }
  const xc = clampGeluTanh(x);
  const u = f32x4.mul(k(SQRT_2_OVER_PI), f32x4.add(xc, f32x4.mul(k(GELU_C), f32x4.mul(xc, f32x4.mul(xc, xc)))));
  // s = σ(2u) and s(1 − s) = e/(1 + e)², e = e^{−2|u|}: 1 − s would cancel where s ≈ 1
  const e = expv(f32x4.mul(f32x4.abs(u), k(MINUS_TWO)));
  const inv = f32x4.div(k(ONE), f32x4.add(k(ONE), e));
  const s = v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(u, f32x4.splat(0)));
  const ds = f32x4.mul(f32x4.mul(e, inv), inv);
  const du = f32x4.mul(k(SQRT_2_OVER_PI), f32x4.add(k(ONE), f32x4.mul(k(THREE_GELU_C), f32x4.mul(xc, xc))));
  const slope = f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.add(xc, xc), ds), du));
  return f32x4.add(slope, f32x4.sub(x, x)); // + (x − x): ±∞ give NaN, as ∞·0 in the js formula
}

// @ts-ignore: decorator
@inline function gradLoop(op: i32, x: usize, g: usize, dx: usize, n: i32): void {
  const bytes = <usize>n << 2;
  for (let p: usize = 0; p < bytes; p += 16) {
    const xv = v128.load(x + p), gv = v128.load(g + p);
    // relu: g where x > 0, else +0 (an and with the mask, so a NaN g at x ≤ 0 gives 0 as in js)
    const d = op == D_RELU ? v128.and(gv, f32x4.gt(xv, f32x4.splat(0))) : f32x4.mul(gv, slope4(op, xv));
    v128.store(dx + p, d);
  }
}

/** dx_i = g_i · f′(x_i) for i < n (rounded up to 4); `dx` may equal `x` or `g`. */
export function unaryGradMap(op: i32, x: usize, g: usize, dx: usize, n: i32): void {
  if (op == D_RELU) gradLoop(D_RELU, x, g, dx, n);
  else if (op == D_GELU) gradLoop(D_GELU, x, g, dx, n);
  else if (op == D_GELU_TANH) gradLoop(D_GELU_TANH, x, g, dx, n);
  else unreachable();
}

// @ts-ignore: decorator
@inline function binary4(op: i32, x: v128, y: v128): v128 {
  if (op == ADD) return f32x4.add(x, y);
  if (op == SUB) return f32x4.sub(x, y);
  if (op == MUL) return f32x4.mul(x, y);
  return f32x4.div(x, y);
}

// @ts-ignore: decorator
@inline function binary1(op: i32, x: f32, y: f32): f32 {
  if (op == ADD) return x + y;
  if (op == SUB) return x - y;
  if (op == MUL) return x * y;
  return x / y;
}

/**
 * The four broadcast patterns, one loop each. `b` and `s` are the second operand: same shape,
 * a scalar (`swap`: the scalar is the first operand), a row b[cols] under every row of a
 * [rows, cols], a column b[rows] beside it.
 */
const SAME = 0, SCALAR = 1, ROWS = 2, COLS = 3;

// @ts-ignore: decorator
@inline function binaryLoop(op: i32, pattern: i32, a: usize, b: usize, s: f32, swap: bool, out: usize, rows: i32, cols: i32): void {
  if (pattern == SAME || pattern == SCALAR) {
    const bytes = (<usize>rows * <usize>cols) << 2;
    const sv = f32x4.splat(s);
    for (let p: usize = 0; p < bytes; p += 16) {
      const x = v128.load(a + p);
      const r = pattern == SAME ? binary4(op, x, v128.load(b + p)) : swap ? binary4(op, sv, x) : binary4(op, x, sv);
      v128.store(out + p, r);
    }
    return;
  }
  // rows are not 4-aligned when cols is not: each row ends with a scalar tail
  const rowBytes = <usize>cols << 2;
  const vecBytes = <usize>(cols & ~3) << 2;
  for (let r = 0; r < rows; r++) {
    const ar = a + <usize>r * rowBytes, yr = out + <usize>r * rowBytes;
    const bv = pattern == COLS ? v128.load32_splat(b + (<usize>r << 2)) : i32x4.splat(0);
    let p: usize = 0;
    for (; p < vecBytes; p += 16) v128.store(yr + p, binary4(op, v128.load(ar + p), pattern == COLS ? bv : v128.load(b + p)));
    for (; p < rowBytes; p += 4) store<f32>(yr + p, binary1(op, load<f32>(ar + p), load<f32>(pattern == COLS ? b + (<usize>r << 2) : b + p)));
  }
}

// @ts-ignore: decorator
@inline function binaryPattern(pattern: i32, op: i32, a: usize, b: usize, s: f32, swap: bool, out: usize, rows: i32, cols: i32): void {
  if (op == ADD) binaryLoop(ADD, pattern, a, b, s, swap, out, rows, cols);
  else if (op == SUB) binaryLoop(SUB, pattern, a, b, s, swap, out, rows, cols);
  else if (op == MUL) binaryLoop(MUL, pattern, a, b, s, swap, out, rows, cols);
  else if (op == DIV) binaryLoop(DIV, pattern, a, b, s, swap, out, rows, cols);
  else unreachable();
}

/** out_i = a_i ∘ b_i for i < n (rounded up to 4); `out` may equal `a` or `b`. */
export function binarySame(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  binaryPattern(SAME, op, a, b, 0, false, out, 1, n);
}

/** out_i = a_i ∘ s, or s ∘ a_i when `swap`, for i < n (rounded up to 4); `out` may equal `a`. */
export function binaryScalar(op: i32, a: usize, s: f32, swap: bool, out: usize, n: i32): void {
  binaryPattern(SCALAR, op, a, 0, s, swap, out, 1, n);
}

/** out_rj = a_rj ∘ b_j (the bias add); `out` may equal `a`. */
export function binaryRows(op: i32, a: usize, b: usize, out: usize, rows: i32, cols: i32): void {
  binaryPattern(ROWS, op, a, b, 0, false, out, rows, cols);
}

/** out_rj = a_rj ∘ b_r; `out` may equal `a`. */
export function binaryCols(op: i32, a: usize, b: usize, out: usize, rows: i32, cols: i32): void {
  binaryPattern(COLS, op, a, b, 0, false, out, rows, cols);
}

/**
 * acc[o, i] = Σ_r x[o, r, i] in float64 (added to acc when `accumulate`), x [outer, len, inner]
 * float32, acc [outer, inner] float64: each float32 lane is widened before it is added, so the
 * sum is that of the js kernel with a Float64Array out up to the order of the float64 adds.
 */
export function reduceSum(x: usize, acc: usize, outer: i32, len: i32, inner: i32, accumulate: bool): void {
  const vecLen = len & ~3, vecInner = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const xo = x + ((<usize>o * <usize>len * <usize>inner) << 2);
    const ao = acc + ((<usize>o * <usize>inner) << 3);
    if (inner == 1) {
      // a contiguous run: two float64x2 sums of the low and high halves of each 4-lane load
      let lo = f64x2.splat(0), hi = f64x2.splat(0);
      let r = 0;
      for (; r < vecLen; r += 4) {
        const v = v128.load(xo + (<usize>r << 2));
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
        hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)));
      }
      const both = f64x2.add(lo, hi);
      let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
      for (; r < len; r++) sum += <f64>load<f32>(xo + (<usize>r << 2));
      store<f64>(ao, accumulate ? load<f64>(ao) + sum : sum);
      continue;
    }
    if (!accumulate) memory.fill(ao, 0, <usize>inner << 3);
    for (let r = 0; r < len; r++) {
      const xr = xo + ((<usize>r * <usize>inner) << 2);
      let i = 0;
      for (; i < vecInner; i += 4) {
        const v = v128.load(xr + (<usize>i << 2));
        const at = ao + (<usize>i << 3);
        v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(v)));
        v128.store(at, f64x2.add(v128.load(at, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
      }
      for (; i < inner; i++) {
        const at = ao + (<usize>i << 3);
        store<f64>(at, load<f64>(at) + <f64>load<f32>(xr + (<usize>i << 2)));
      }
    }
  }
}
