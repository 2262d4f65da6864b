// float32 matrix product C = op(A) · op(B), op(X) = X or Xᵀ, blocked for caches and registers.
//
// The idea (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication"):
//  1. Register tile. The innermost kernel keeps a 4×8 block of C in 8 SIMD registers (4 rows ×
//     two 4-lane vectors) for a whole run over K. Each step p loads 8 floats of B (2 vectors) and
//     4 floats of A (each broadcast to all lanes) and does 8 multiply-adds: 64 flops for 6 loads.
//     V8 has ~15 usable SIMD registers: 8 accumulators + 2 B + 4 A fit; a bigger tile or an
//     unrolled K loop spills to the stack and runs at half speed (measured, see WASM.md).
//     V8 turns one step into ~25 x86 instructions (it adds a stack check and an address
//     computation per broadcast), so the loop runs at ~51 GFLOP/s, ~88% of the 2-FMA-per-cycle
//     ceiling of one Zen 4 core with 128-bit vectors.
//  2. Packing. Before the kernel runs, a K-slice of B is copied into "panels" of 8 columns stored
//     row after row (p-major), and a block of A into panels of 4 rows stored column after column,
//     zero-padded to full panels. The kernel then reads both with unit stride, whatever the
//     original layout: a transposed operand only changes how the packing reads it, and ragged
//     edges only need zero padding plus a careful write-back.
//  3. K blocking. K is cut in slices of KC = 256: an A panel (4×256 floats, 4 KB) and a B panel
//     (256×8, 8 KB) then sit in the 32 KB L1 cache while the kernel streams them, and the packed
//     A block (MC×KC) stays in L2 across the B panels. C is stored on the first slice and
//     accumulated on the next ones.
import { madd } from './simd';

const MR = 4; // rows of the register tile
const NR = 8; // columns of the register tile (two 4-lane vectors)
const KC = 256; // K slice
const MC = 128; // rows of A packed at once (multiple of MR)
const NC = 1024; // columns of B packed at once (multiple of NR)

/** Floats of scratch the caller must provide for packed A, packed B and the edge tile. */
export function packAFloats(): i32 { return MC * KC; }
export function packBFloats(): i32 { return KC * NC; }
export function edgeFloats(): i32 { return MR * NR; }

/**
 * Reads a 4×4 block (4 rows of 4 floats, `srcStride` bytes apart) and writes its transpose as
 * 4 vectors `dstStride` bytes apart: dst row q = (s0[q], s1[q], s2[q], s3[q]).
 */
// @ts-ignore: decorator
@inline function transpose4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const s0 = v128.load(src), s1 = v128.load(src + srcStride);
  const s2 = v128.load(src + 2 * srcStride), s3 = v128.load(src + 3 * srcStride);
  const t0 = v128.shuffle<i32>(s0, s1, 0, 4, 1, 5); // s0[0] s1[0] s0[1] s1[1]
  const t1 = v128.shuffle<i32>(s2, s3, 0, 4, 1, 5); // s2[0] s3[0] s2[1] s3[1]
  const t2 = v128.shuffle<i32>(s0, s1, 2, 6, 3, 7);
  const t3 = v128.shuffle<i32>(s2, s3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs the mc×kc block A(i, p) = a[i·rs + p·cs] into panels of MR rows:
 * dst[panel][p][r] = A(panel·MR + r, p), with zeros below row mc.
 */
function packA(a: usize, rs: usize, cs: usize, mc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const src = a + (<usize>i0 * rs << 2);
    if (rows == MR && rs == 1) {
      // Aᵀ stored: the MR values of column p are contiguous, one vector load.
      for (let p = 0; p < kc; p++) v128.store(dst + (<usize>p << 4), v128.load(src + (<usize>p * cs << 2)));
    } else if (rows == MR && cs == 1) {
      // A stored as is: 4×4 blocks (4 rows, columns p..p+3) are transposed into 4 packed columns.
      const rb = rs << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) transpose4(src + (<usize>p << 2), rb, dst + (<usize>p << 4), 16);
      for (; p < kc; p++) {
        for (let r = 0; r < MR; r++) store<f32>(dst + ((<usize>p * MR + r) << 2), load<f32>(src + ((<usize>r * rs + <usize>p) << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(src + ((<usize>r * rs + <usize>p * cs) << 2)) : 0;
          store<f32>(dst + ((<usize>p * MR + r) << 2), v);
        }
      }
    }
    dst += <usize>kc * MR << 2;
  }
}

/**
 * Packs the kc×nc block B(p, j) = b[p·rs + j·cs] into panels of NR columns:
 * dst[panel][p][c] = B(p, panel·NR + c), with zeros right of column nc.
 */
function packB(b: usize, rs: usize, cs: usize, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const src = b + (<usize>j0 * cs << 2);
    if (cols == NR && cs == 1) {
      // B stored as is: the NR values of row p are contiguous, two vector loads.
      for (let p = 0; p < kc; p++) {
        const s = src + (<usize>p * rs << 2);
        const d = dst + (<usize>p << 5);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && rs == 1) {
      // Bᵀ stored: two 4×4 transposes turn 8 rows of Bᵀ (columns p..p+3) into 4 packed rows.
      const cb = cs << 2;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        transpose4(src + (<usize>p << 2), cb, dst + (<usize>p << 5), 32);
        transpose4(src + (<usize>p << 2) + 4 * cb, cb, dst + (<usize>p << 5) + 16, 32);
      }
      for (; p < kc; p++) {
        for (let c = 0; c < NR; c++) store<f32>(dst + ((<usize>p * NR + c) << 2), load<f32>(src + ((<usize>c * cs + <usize>p) << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(src + ((<usize>p * rs + <usize>c * cs) << 2)) : 0;
          store<f32>(dst + ((<usize>p * NR + c) << 2), v);
        }
      }
    }
    dst += <usize>kc * NR << 2;
  }
}

/**
 * The 4×8 register tile: C[0..rows, 0..cols] (+)= Σ_p Apanel[p][0..4] ⊗ Bpanel[p][0..8].
 * `c` points at C(0, 0) of the tile, `ldc` is C's row stride in bytes. Full tiles are written with
 * vector stores; edge tiles go through `edge` (32 floats) and are copied element by element.
 */
function kernel4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool, edge: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const pbEnd = pb + (<usize>kc * NR << 2);
  while (pb < pbEnd) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa); // A(0, p) in all four lanes
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += MR << 2;
    pb += NR << 2;
  }
  if (rows == MR && cols == NR) {
    const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(r1)); c11 = f32x4.add(c11, v128.load(r1, 16));
      c20 = f32x4.add(c20, v128.load(r2)); c21 = f32x4.add(c21, v128.load(r2, 16));
      c30 = f32x4.add(c30, v128.load(r3)); c31 = f32x4.add(c31, v128.load(r3, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(r1, c10); v128.store(r1, c11, 16);
    v128.store(r2, c20); v128.store(r2, c21, 16);
    v128.store(r3, c30); v128.store(r3, c31, 16);
    return;
  }
  v128.store(edge, c00); v128.store(edge, c01, 16);
  v128.store(edge, c10, 32); v128.store(edge, c11, 48);
  v128.store(edge, c20, 64); v128.store(edge, c21, 80);
  v128.store(edge, c30, 96); v128.store(edge, c31, 112);
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * ldc;
    const er = edge + (<usize>r * NR << 2);
    for (let j = 0; j < cols; j++) {
      const cj = cr + (<usize>j << 2);
      const v = load<f32>(er + (<usize>j << 2));
      store<f32>(cj, accumulate ? load<f32>(cj) + v : v);
    }
  }
}

/**
 * One packed K-slice of C's block (mc×nc) through the register tile: `pa` holds mc rows of A in
 * MR-row panels, `pb` nc columns of B in NR-column panels, both kc deep.
 */
function macroKernel(pa: usize, pb: usize, kc: i32, mc: i32, nc: i32, c: usize, ldcBytes: usize, accumulate: bool, edge: usize): void {
  // jr outer: one B panel (8 KB) stays in L1 while every A panel of the block streams past.
  for (let jr = 0; jr < nc; jr += NR) {
    const pbPanel = pb + (<usize>jr * kc << 2);
    const cCol = c + (<usize>jr << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      kernel4x8(pa + (<usize>ir * kc << 2), pbPanel, kc, cCol + <usize>ir * ldcBytes, ldcBytes, min(MR, mc - ir), min(NR, nc - jr), accumulate, edge);
    }
  }
}

/**
 * The blocked loops of every product: C (+)= op(A) · op(B) block by block, A(i, p) = a[i·ars + p·acs],
 * B(p, j) = b[p·brs + j·bcs]. An operand already packed whole (aPacked / bPacked ≠ 0, by packAAll /
 * packBAll) is read from there; otherwise each block of it is packed into the scratch pa / pb.
 * Inlined into each caller, so that each gets the loops specialised to its constant arguments
 * (one shared copy ran the 128×768·768×512 Aᵀ·B product 10-15 % slower).
 */
// @ts-ignore: decorator
@inline function blocked(
  a: usize, ars: usize, acs: usize, aPacked: usize, b: usize, brs: usize, bcs: usize, bPacked: usize,
  c: usize, ldcBytes: usize, m: i32, n: i32, k: i32, pa: usize, pb: usize, edge: usize,
): void {
  const mPadded = <usize>((m + MR - 1) / MR * MR), nPadded = <usize>((n + NR - 1) / NR * NR);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      let bBlock = pb;
      if (bPacked != 0) bBlock = bPacked + ((<usize>pc * nPadded + <usize>jc * kc) << 2);
      else packB(b + ((<usize>pc * brs + <usize>jc * bcs) << 2), brs, bcs, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        let aBlock = pa;
        if (aPacked != 0) aBlock = aPacked + ((<usize>pc * mPadded + <usize>ic * kc) << 2);
        else packA(a + ((<usize>ic * ars + <usize>pc * acs) << 2), ars, acs, mc, kc, pa);
        macroKernel(aBlock, bBlock, kc, mc, nc, c + <usize>ic * ldcBytes + (<usize>jc << 2), ldcBytes, pc > 0, edge);
      }
    }
  }
}

/**
 * C = op(A) · op(B) for one matrix: A is m×k (stored k×m when transA), B is k×n (stored n×k when
 * transB), C is m×n; lda, ldb, ldc are the row strides of the stored matrices in floats. `packA`,
 * `packB` and `edge` are caller-provided scratch (packAFloats(), packBFloats(), edgeFloats()):
 * the module never allocates, so two threads can share one memory.
 */
export function gemm(
  a: usize, transA: bool, lda: i32,
  b: usize, transB: bool, ldb: i32,
  c: usize, ldc: i32,
  m: i32, n: i32, k: i32,
  pa: usize, pb: usize, edge: usize,
): void {
  const ldcBytes = <usize>ldc << 2;
  if (k == 0) {
    for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
    return;
  }
  blocked(a, transA ? 1 : <usize>lda, transA ? <usize>lda : 1, 0, b, transB ? 1 : <usize>ldb, transB ? <usize>ldb : 1, 0, c, ldcBytes, m, n, k, pa, pb, edge);
}

// Two threads splitting one product share the packing of the operand every piece reads in full:
// the main thread packs it once (packAAll / packBAll) and each piece runs gemmPackedA / gemmPackedB,
// which packs only its own part of the other operand. Slice pc (K rows pc..pc+KC) of a packed
// operand starts at float pc·padded (padded = m or n rounded up to whole panels), and within it the
// panel holding row or column j starts at float j·kc: the layout gemm's packA / packB produce.
// Per element of C the sums run in the same order as in gemm, so the bits are the same.

/** Floats that packAAll needs for an m×k A (rows rounded up to whole MR panels). */
export function packedAFloats(m: i32, k: i32): i32 { return (m + MR - 1) / MR * MR * k; }
/** Floats that packBAll needs for a k×n B (columns rounded up to whole NR panels). */
export function packedBFloats(k: i32, n: i32): i32 { return (n + NR - 1) / NR * NR * k; }

/** Packs all of op(A) (m×k) into `dst`, slice after K-slice. */
export function packAAll(a: usize, transA: bool, lda: i32, m: i32, k: i32, dst: usize): void {
  const ars: usize = transA ? 1 : <usize>lda, acs: usize = transA ? <usize>lda : 1;
  const padded = <usize>((m + MR - 1) / MR * MR);
  for (let pc = 0; pc < k; pc += KC) packA(a + (<usize>pc * acs << 2), ars, acs, m, min(KC, k - pc), dst + (<usize>pc * padded << 2));
}

/** Packs all of op(B) (k×n) into `dst`, slice after K-slice. */
export function packBAll(b: usize, transB: bool, ldb: i32, k: i32, n: i32, dst: usize): void {
  const brs: usize = transB ? 1 : <usize>ldb, bcs: usize = transB ? <usize>ldb : 1;
  const padded = <usize>((n + NR - 1) / NR * NR);
  for (let pc = 0; pc < k; pc += KC) packB(b + (<usize>pc * brs << 2), brs, bcs, min(KC, k - pc), n, dst + (<usize>pc * padded << 2));
}

/**
 * Rows r0..r0+m of C = op(A) · B with B packed by packBAll (for all `n` columns): `a` and `c`
 * point at row r0; `pa` and `edge` are this thread's scratch.
 */
export function gemmPackedB(a: usize, transA: bool, lda: i32, packed: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32, pa: usize, edge: usize): void {
  blocked(a, transA ? 1 : <usize>lda, transA ? <usize>lda : 1, 0, 0, 0, 0, packed, c, <usize>ldc << 2, m, n, k, pa, 0, edge);
}

/**
 * Columns c0..c0+n of C = A · op(B) with A packed by packAAll (for all `m` rows): `b` and `c`
 * point at column c0; `pb` and `edge` are this thread's scratch.
 */
export function gemmPackedA(packed: usize, m: i32, b: usize, transB: bool, ldb: i32, c: usize, ldc: i32, n: i32, k: i32, pb: usize, edge: usize): void {
  blocked(0, 0, 0, packed, b, transB ? 1 : <usize>ldb, transB ? <usize>ldb : 1, 0, c, <usize>ldc << 2, m, n, k, 0, pb, edge);
}
