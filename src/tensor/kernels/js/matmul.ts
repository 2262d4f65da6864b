// Plain TypeScript matmul: the readable reference every other family is tested against.
import type { FloatArray, MatmulArgs } from '../types.js';

/**
 * out[b] = op(A_b) · op(B_b). Loop order i-k-j so the inner loop walks a row of B and a row of C
 * contiguously; four rows of C are computed per pass so each loaded B row is reused four times.
 * A transposed B is packed once per batch entry (a copy of k·n numbers) so the inner loop stays
 * contiguous; a transposed A is read with a stride, which costs nothing in the k loop.
 */
export function matmul(args: MatmulArgs): void {
  const { a, b, out, batch, m, n, k, transA, transB, aOffsets, bOffsets, bias } = args;
  const lda = args.lda ?? (transA ? m : k), ldb = args.ldb ?? (transB ? k : n); // row strides of the stored matrices
  const packed: FloatArray | null = transB ? new (b.constructor as { new (n: number): FloatArray })(k * n) : null;
  for (let bi = 0; bi < batch; bi++) {
    const aOff = aOffsets[bi];
    let bMat: FloatArray = b;
    let bOff = bOffsets[bi];
    if (packed) {
      // Bᵀ stored as [n, k] → packed [k, n]
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) packed[p * n + j] = b[bOff + j * ldb + p];
      bMat = packed;
      bOff = 0;
    }
    const bStride = packed ? n : ldb; // B row p starts at bOff + p·bStride
    // A element (i, p) lives at aOff + i*sARow + p*sACol
    const sARow = transA ? 1 : lda;
    const sACol = transA ? lda : 1;
    const cOff = bi * m * n;
    if (bias) for (let i = 0; i < m; i++) out.set(bias, cOff + i * n); // C starts as the bias rows, then accumulates
    else out.fill(0, cOff, cOff + m * n);
    let i = 0;
    for (; i + 3 < m; i += 4) {
      const c0 = cOff + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
      const a0 = aOff + i * sARow;
      for (let p = 0; p < k; p++) {
        const ap = a0 + p * sACol;
        const x0 = a[ap], x1 = a[ap + sARow], x2 = a[ap + 2 * sARow], x3 = a[ap + 3 * sARow];
        const bRow = bOff + p * bStride;
        for (let j = 0; j < n; j++) {
          const y = bMat[bRow + j];
          out[c0 + j] += x0 * y;
          out[c1 + j] += x1 * y;
          out[c2 + j] += x2 * y;
          out[c3 + j] += x3 * y;
        }
      }
    }
    for (; i < m; i++) {
      const c0 = cOff + i * n;
      for (let p = 0; p < k; p++) {
        const x0 = a[aOff + i * sARow + p * sACol];
        const bRow = bOff + p * bStride;
        for (let j = 0; j < n; j++) out[c0 + j] += x0 * bMat[bRow + j];
      }
    }
  }
}

/** out[r, :] += bias for `rows` rows of n (the families that cannot fuse it into their product). */
export function addRowBias(out: FloatArray, rows: number, n: number, bias: FloatArray): void {
  for (let r = 0; r < rows; r++) for (let j = 0, o = r * n; j < n; j++) out[o + j] += bias[j];
}
