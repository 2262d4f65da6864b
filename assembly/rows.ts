// Row kernels of the training step, four lanes at a time: LayerNorm forward/backward and the
// cross-entropy pieces (per-row log-sum-exp, smoothing sums, the gradient). Pointers are byte
// offsets into the module's memory; rows are contiguous, `D` (or `C`) floats each. Per-row
// statistics are float64, as the JS contract (src/tensor/kernels/types.ts) keeps them.
import { expSubSum } from './exp';
import { hsum, madd } from './simd';

/** Σ_j p_j over len floats: float32 lanes over blocks of 256, float64 across blocks (as expSubSum). */
function sumFloats(p: usize, len: i32): f64 {
  const vecEnd = len & ~3;
  let total: f64 = 0;
  let j = 0;
  while (j < vecEnd) {
    const blockEnd = min(vecEnd, j + 256);
    let s = f32x4.splat(0);
    for (; j < blockEnd; j += 4) s = f32x4.add(s, v128.load(p + (<usize>j << 2)));
    total += <f64>hsum(s);
  }
  for (; j < len; j++) total += <f64>load<f32>(p + (<usize>j << 2));
  return total;
}

/**
 * LayerNorm rows: y = (x − μ)·rstd·w + b, rstd = 1/√(σ² + ε), σ² biased; mean and rstd (float64)
 * per row. μ is found in two steps so that rows far from 0 (|μ| ≫ σ) keep float32 accuracy:
 * μ₀ = Σx/D rounded to float32, then d = x − μ₀ (exact or nearly: x and μ₀ are close) gives
 * μ = μ₀ + Σd/D and σ² = Σd²/D − (Σd/D)², with no large cancellation. w and b hold D floats
 * (ones and zeros when the layer has none). `y` may equal `x`.
 */
export function layerNormRows(x: usize, y: usize, w: usize, b: usize, mean: usize, rstd: usize, rows: i32, D: i32, eps: f64): void {
  const vecEnd = D & ~3;
  const rowBytes = <usize>D << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const mu64 = sumFloats(xr, D) / D;
    const mu0 = <f32>mu64;
    const mu0v = f32x4.splat(mu0);
    // Σd and Σd², float32 lanes per block of 256, float64 across blocks
    let s1: f64 = 0, s2: f64 = 0;
    let j = 0;
    while (j < vecEnd) {
      const blockEnd = min(vecEnd, j + 256);
      let a1 = f32x4.splat(0), a2 = f32x4.splat(0);
      for (; j < blockEnd; j += 4) {
        const d = f32x4.sub(v128.load(xr + (<usize>j << 2)), mu0v);
        a1 = f32x4.add(a1, d);
        a2 = madd(d, d, a2);
      }
      s1 += <f64>hsum(a1);
      s2 += <f64>hsum(a2);
    }
    for (; j < D; j++) {
      const d = <f64>(load<f32>(xr + (<usize>j << 2)) - mu0);
      s1 += d;
      s2 += d * d;
    }
    const shift = s1 / D;
    const mu = isFinite(mu64) ? <f64>mu0 + shift : mu64; // an infinite x: μ = ±∞ as in js (not ∞ − ∞)
    const rs = 1 / Math.sqrt(max<f64>(s2 / D - shift * shift, 0) + eps);
    store<f64>(mean + (<usize>r << 3), mu);
    store<f64>(rstd + (<usize>r << 3), rs);
    // y = ((x − μ₀) − shift)·rstd·w + b
    const shift32 = <f32>shift, rs32 = <f32>rs;
    const shiftv = f32x4.splat(shift32), rsv = f32x4.splat(rs32);
    j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + p), mu0v), shiftv), rsv);
      v128.store(yr + p, madd(xh, v128.load(w + p), v128.load(b + p)));
    }
    for (; j < D; j++) {
      const p = <usize>j << 2;
      store<f32>(yr + p, (load<f32>(xr + p) - mu0 - shift32) * rs32 * load<f32>(w + p) + load<f32>(b + p));
    }
  }
}

/**
 * LayerNorm gradient rows, from the forward's float64 mean and rstd: with x̂ = (x − μ)·rstd and
 * dx̂ = g·w, dw += Σ_rows g·x̂ and db += Σ_rows g (float32 accumulators of D floats: the caller
 * zeroes them per chunk and adds them into its float64 ones), and when `wantDx` is non-zero
 * dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)). `dx` may equal `g`.
 */
export function layerNormBackwardRows(
  x: usize, g: usize, w: usize, mean: usize, rstd: usize, dx: usize, dw: usize, db: usize, rows: i32, D: i32, wantDx: i32,
): void {
  const vecEnd = D & ~3;
  const rowBytes = <usize>D << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const xr = x + off, gr = g + off, dr = dx + off;
    // μ as a float32 plus a float32 correction, as in the forward: x − μ keeps float32 accuracy
    const mu = load<f64>(mean + (<usize>r << 3));
    const mu0 = <f32>mu, lo = <f32>(mu - <f64>mu0), rs = <f32>load<f64>(rstd + (<usize>r << 3));
    const mu0v = f32x4.splat(mu0), lov = f32x4.splat(lo), rsv = f32x4.splat(rs);
    // Pass 1: the dw, db accumulators and the two row sums Σdx̂, Σdx̂·x̂
    let a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      const gv = v128.load(gr + p);
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + p), mu0v), lov), rsv);
      v128.store(dw + p, madd(gv, xh, v128.load(dw + p)));
      v128.store(db + p, f32x4.add(v128.load(db + p), gv));
      const dxh = f32x4.mul(gv, v128.load(w + p));
      a1 = f32x4.add(a1, dxh);
      a2 = madd(dxh, xh, a2);
    }
    let s1 = hsum(a1), s2 = hsum(a2);
    for (; j < D; j++) {
      const p = <usize>j << 2;
      const gv = load<f32>(gr + p);
      const xh = (load<f32>(xr + p) - mu0 - lo) * rs;
      store<f32>(dw + p, load<f32>(dw + p) + gv * xh);
      store<f32>(db + p, load<f32>(db + p) + gv);
      const dxh = gv * load<f32>(w + p);
      s1 += dxh;
      s2 += dxh * xh;
    }
    if (wantDx == 0) continue;
    // Pass 2: dx = rstd·(dx̂ − m1 − x̂·m2), x̂ recomputed (cheaper than storing it)
    const m1 = s1 / <f32>D, m2 = s2 / <f32>D;
    const m1v = f32x4.splat(m1), m2v = f32x4.splat(m2);
    j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      const gv = v128.load(gr + p);
      const xh = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + p), mu0v), lov), rsv);
      const dxh = f32x4.mul(gv, v128.load(w + p));
      v128.store(dr + p, f32x4.mul(rsv, f32x4.sub(f32x4.sub(dxh, m1v), f32x4.mul(xh, m2v))));
    }
    for (; j < D; j++) {
      const p = <usize>j << 2;
      const xh = (load<f32>(xr + p) - mu0 - lo) * rs;
      store<f32>(dr + p, rs * (load<f32>(gr + p) * load<f32>(w + p) - m1 - xh * m2));
    }
  }
}

/** max_j p_j over len floats, NaN ignored (pmax keeps the first operand on NaN), −∞ for none. */
function rowMax(p: usize, len: i32): f32 {
  const vecEnd = len & ~3;
  // two accumulators: pmax has a 3-cycle latency
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  let j = 0;
  for (; j + 8 <= vecEnd; j += 8) {
    m0 = f32x4.pmax(m0, v128.load(p + (<usize>j << 2)));
    m1 = f32x4.pmax(m1, v128.load(p + (<usize>j << 2), 16));
  }
  for (; j < vecEnd; j += 4) m0 = f32x4.pmax(m0, v128.load(p + (<usize>j << 2)));
  const mv = f32x4.pmax(m0, m1);
  let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < len; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (v > m) m = v;
  }
  return m;
}

/**
 * Cross-entropy forward pieces per row of C logits: lse = log Σ_c exp z_c (float64, max-shifted),
 * and when `wantSmooth` is non-zero smooth = Σ_c w_c·(lse − z_c) (the label-smoothing sum), computed
 * as W·(lse − max) + Σ_c w_c·(max − z_c) with W = Σ_c w_c: every term ≥ 0, no cancellation.
 * `scratch` holds C floats (the exps); w holds C floats (ones without class weights).
 */
export function crossEntropyRows(
  z: usize, w: usize, lse: usize, smooth: usize, scratch: usize, rows: i32, C: i32, wantSmooth: i32, weightSum: f64,
): void {
  const vecEnd = C & ~3;
  const rowBytes = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const zr = z + <usize>r * rowBytes;
    let m = rowMax(zr, C);
    if (m == -Infinity) m = 0; // every logit −∞: lse = −∞, as in js
    const l = <f64>m + Math.log(<f64>expSubSum(zr, scratch, C, m));
    store<f64>(lse + (<usize>r << 3), l);
    if (wantSmooth == 0) continue;
    const mv = f32x4.splat(m);
    let total: f64 = 0;
    let j = 0;
    while (j < vecEnd) {
      const blockEnd = min(vecEnd, j + 256);
      let s = f32x4.splat(0);
      for (; j < blockEnd; j += 4) {
        const p = <usize>j << 2;
        s = madd(v128.load(w + p), f32x4.sub(mv, v128.load(zr + p)), s);
      }
      total += <f64>hsum(s);
    }
    for (; j < C; j++) total += <f64>(load<f32>(w + (<usize>j << 2)) * (m - load<f32>(zr + (<usize>j << 2))));
    store<f64>(smooth + (<usize>r << 3), weightSum * (l - <f64>m) + total);
  }
}

/**
 * Cross-entropy gradient rows, without the target's own term: dz_c = a·exp(z_c − hi) − b·w_c,
 * with per row (four float32s at `coef`) a = s·A·exp(hi − lse), hi = lse rounded to float32, and
 * b = s·ε/C; the caller subtracts s·(1 − ε)·w_y at the target and zeroes ignored rows. Splitting
 * lse into hi and the factor exp(hi − lse) keeps float32 accuracy when |lse| is large. `dz` may equal `z`.
 */
export function crossEntropyBackwardRows(z: usize, dz: usize, w: usize, coef: usize, rows: i32, C: i32): void {
  const vecEnd = C & ~3;
  const rowBytes = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const zr = z + off, dr = dz + off;
    const cr = coef + (<usize>r << 4);
    const a = load<f32>(cr), hi = load<f32>(cr, 4), b = load<f32>(cr, 8);
    expSubSum(zr, dr, C, hi); // dz_c = exp(z_c − hi) ≤ ~1 (hi ≥ max z up to rounding)
    const av = f32x4.splat(a), nbv = f32x4.splat(-b);
    let j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      v128.store(dr + p, madd(nbv, v128.load(w + p), f32x4.mul(av, v128.load(dr + p))));
    }
    for (; j < C; j++) {
      const p = <usize>j << 2;
      store<f32>(dr + p, a * load<f32>(dr + p) - b * load<f32>(w + p));
    }
  }
}
