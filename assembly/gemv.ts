// Matrix-vector products, for matmuls with m == 1 or n == 1. There every element of the matrix
// is used once, so packing (a full copy) would cost as much as the product: these kernels read
// the matrix in place, in its stored order, and are bound by memory bandwidth.
import { madd, hsum } from './simd';

/**
 * y_i = Σ_p M(i, p)·x_p for i < rows, M row-major with row stride ld floats: one dot product per
 * row, four rows at a time so each loaded vector of x serves four rows.
 */
export function gemvRows(mat: usize, ld: i32, x: usize, y: usize, rows: i32, len: i32): void {
  const vecEnd = len & ~3;
  const ldBytes = <usize>ld << 2;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const m0 = mat + <usize>i * ldBytes, m1 = m0 + ldBytes, m2 = m1 + ldBytes, m3 = m2 + ldBytes;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let p = 0;
    for (; p < vecEnd; p += 4) {
      const o = <usize>p << 2;
      const xv = v128.load(x + o);
      s0 = madd(v128.load(m0 + o), xv, s0);
      s1 = madd(v128.load(m1 + o), xv, s1);
      s2 = madd(v128.load(m2 + o), xv, s2);
      s3 = madd(v128.load(m3 + o), xv, s3);
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (; p < len; p++) {
      const o = <usize>p << 2;
      const xp = load<f32>(x + o);
      t0 += load<f32>(m0 + o) * xp; t1 += load<f32>(m1 + o) * xp;
      t2 += load<f32>(m2 + o) * xp; t3 += load<f32>(m3 + o) * xp;
    }
    const yo = y + (<usize>i << 2);
    store<f32>(yo, t0); store<f32>(yo, t1, 4); store<f32>(yo, t2, 8); store<f32>(yo, t3, 12);
  }
  for (; i < rows; i++) {
    const m0 = mat + <usize>i * ldBytes;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let p = 0;
    for (; p + 8 <= vecEnd; p += 8) {
      const o = <usize>p << 2;
      s0 = madd(v128.load(m0 + o), v128.load(x + o), s0);
      s1 = madd(v128.load(m0 + o, 16), v128.load(x + o, 16), s1);
    }
    for (; p < vecEnd; p += 4) s0 = madd(v128.load(m0 + (<usize>p << 2)), v128.load(x + (<usize>p << 2)), s0);
    let t = hsum(f32x4.add(s0, s1));
    for (; p < len; p++) t += load<f32>(m0 + (<usize>p << 2)) * load<f32>(x + (<usize>p << 2));
    store<f32>(y + (<usize>i << 2), t);
  }
}

/**
 * y_j = Σ_p x_p·M(p, j) for j < cols, M row-major with row stride ld floats: a weighted sum of the
 * rows of M. 32 columns of y live in 8 registers while p runs down the rows (two cache lines per row).
 */
export function gemvCols(mat: usize, ld: i32, x: usize, y: usize, cols: i32, len: i32): void {
  const ldBytes = <usize>ld << 2;
  let j = 0;
  for (; j + 32 <= cols; j += 32) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
    let row = mat + (<usize>j << 2);
    for (let p = 0; p < len; p++) {
      const xp = v128.load32_splat(x + (<usize>p << 2));
      s0 = madd(xp, v128.load(row), s0); s1 = madd(xp, v128.load(row, 16), s1);
      s2 = madd(xp, v128.load(row, 32), s2); s3 = madd(xp, v128.load(row, 48), s3);
      s4 = madd(xp, v128.load(row, 64), s4); s5 = madd(xp, v128.load(row, 80), s5);
      s6 = madd(xp, v128.load(row, 96), s6); s7 = madd(xp, v128.load(row, 112), s7);
      row += ldBytes;
    }
    const yo = y + (<usize>j << 2);
    v128.store(yo, s0); v128.store(yo, s1, 16); v128.store(yo, s2, 32); v128.store(yo, s3, 48);
    v128.store(yo, s4, 64); v128.store(yo, s5, 80); v128.store(yo, s6, 96); v128.store(yo, s7, 112);
  }
  for (; j + 4 <= cols; j += 4) {
    let s = f32x4.splat(0);
    let row = mat + (<usize>j << 2);
    for (let p = 0; p < len; p++) {
      s = madd(v128.load32_splat(x + (<usize>p << 2)), v128.load(row), s);
      row += ldBytes;
    }
    v128.store(y + (<usize>j << 2), s);
  }
  for (; j < cols; j++) {
    let t: f32 = 0;
    let row = mat + (<usize>j << 2);
    for (let p = 0; p < len; p++) {
      t += load<f32>(x + (<usize>p << 2)) * load<f32>(row);
      row += ldBytes;
    }
    store<f32>(y + (<usize>j << 2), t);
  }
}
