// out[b] = op(A_b) · op(B_b) on the wasm module: copy the used ranges of a and b into wasm memory
// (unless they live there, resident.ts), run one gemm (or gemv when m == 1 or n == 1) per batch
// entry there, copy C back (unless out lives there). With a second
// thread (TSGRAD_THREADS, large calls only) the batch entries, or row or column blocks of a single
// product, are pieces that both threads claim until none is left (jobs.ts); the main thread
// copies the operands in while the worker wakes, and copies finished rows out while it computes.
import type { MatmulArgs } from '../types.js';
import { addRowBias, matmul as matmulJs } from '../js/matmul.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmExports, type WasmModule } from './loader.js';
import { CALL_WORDS, THREAD_MIN_FLOPS, pieceBounds, type KernelCall } from './threads.js';
import { runPieces } from './jobs.js';
import { residentPtr } from './resident.js';

/**
 * A single product is cut into pieces of about this many flops, at most MAX_PIECES and at least
 * MIN_PIECE_ROWS rows or columns each: small pieces even out the two threads' finish (the last
 * piece is the one a thread may wait for), and cost little since the operand every piece reads
 * in full is packed once (packAAll / packBAll).
 */
const PIECE_FLOPS = 3e6;
const MAX_PIECES = 32;
const MIN_PIECE_ROWS = 32;

/** Per-thread scratch for the gemm packing (byte offsets). */
export interface Scratch {
  packA: number;
  packB: number;
  edge: number;
}

/** The smallest and one-past-largest index read from an operand: [min offset, max offset + span). */
function usedRange(offsets: Int32Array, batch: number, span: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < batch; i++) {
    const o = offsets[i];
    if (o < lo) lo = o;
    if (o > hi) hi = o;
  }
  return [lo, hi + span];
}

export function matmulWasm(args: MatmulArgs): void {
  matmulOn(wasmModule(), args);
}

/** Per-thread gemm scratch, in floats: packed A, packed B, the edge tile. */
export const gemmScratchFloats = (e: WasmExports): number[] => [e.packAFloats(), e.packBFloats(), e.edgeFloats()];

/** One product whose operands sit in wasm memory: byte offsets of A, B and C, and the stored row strides (floats). */
export interface ProductAt {
  ap: number;
  bp: number;
  cp: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  lda: number;
  ldb: number;
}

/**
 * How a single product is cut: along its longer side of C (a row vector by columns); the operand
 * every piece reads in full (B for row pieces, A for column pieces) is packed once, unless a
 * contiguous vector makes the pieces matrix-vector calls, which pack nothing.
 */
export function productPlan(e: WasmExports, { m, n, k, transA, transB, lda, ldb }: Omit<ProductAt, 'ap' | 'bp' | 'cp'>, threaded: boolean) {
  const byRows = m > 1 && m >= n;
  const whole = byRows ? m : n;
  const vector = (m === 1 && (!transA || lda === 1)) || (n === 1 && (transB || ldb === 1));
  const pieces = !threaded ? 1 : Math.max(2, Math.min(MAX_PIECES, Math.floor(2 * m * n * k / PIECE_FLOPS), Math.floor(whole / MIN_PIECE_ROWS)));
  const sharedPack = pieces > 1 && !vector;
  const packedFloats = !sharedPack ? 0 : byRows ? e.packedBFloats(k, n) : e.packedAFloats(m, k);
  return { byRows, whole, pieces, sharedPack, packedFloats };
}

/**
 * The calls of a product's pieces (see productPlan), the rows of C each one writes whole (null for
 * column pieces), and the packing to run once its operands are in (before any piece starts).
 */
export function productPieces(e: WasmExports, p: ProductAt, plan: ReturnType<typeof productPlan>, scratch: Scratch, packed: number) {
  const { ap, bp, cp, m, n, k, transA, transB, lda, ldb } = p;
  const { byRows, whole, pieces, sharedPack } = plan;
  const calls: KernelCall[] = [];
  const rows: ([number, number] | null)[] = [];
  // cuts at multiples of 8 (the 4×8 tile): a row's or column's arithmetic is the same in any piece
  for (const [p0, p1] of pieces === 1 ? [[0, whole]] : pieceBounds(whole, pieces, 8)) {
    calls.push(sharedPack ? packedPieceCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch, byRows, packed, p0, p1)
      : productCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch, byRows, p0, p1));
    rows.push(byRows || pieces === 1 ? (byRows ? [p0, p1] : [0, m]) : null);
  }
  const pack = () => {
    if (!sharedPack) return;
    if (byRows) e.packBAll(bp, transB ? 1 : 0, ldb, k, n, packed);
    else e.packAAll(ap, transA ? 1 : 0, lda, m, k, packed);
  };
  return { calls, rows, pack };
}

/** matmulWasm on a given module (the tests run both builds through this). */
export function matmulOn(w: WasmModule | null, args: MatmulArgs): void {
  const { a, b, out, batch, m, n, k, transA, transB, aOffsets, bOffsets, bias } = args;
  if (w === null || !(a instanceof Float32Array) || !(b instanceof Float32Array) || !(out instanceof Float32Array) || (bias && !(bias instanceof Float32Array))) {
    matmulJs(args); // float64 (or no module): the reference kernel
    return;
  }
  if (batch === 0 || m === 0 || n === 0) return;
  if (k === 0) {
    out.fill(0, 0, batch * m * n);
    if (bias) addRowBias(out, batch * m, n, bias);
    return;
  }
  const threaded = w.shared && threadsRequested() && 2 * batch * m * n * k >= THREAD_MIN_FLOPS;
  // row strides of the stored matrices, and the floats one of them spans
  const lda = args.lda ?? (transA ? m : k), ldb = args.ldb ?? (transB ? k : n);
  const [aRows, aCols] = transA ? [k, m] : [m, k], [bRows, bCols] = transB ? [n, k] : [k, n];
  const [aLo, aHi] = usedRange(aOffsets, batch, (aRows - 1) * lda + aCols);
  const [bLo, bHi] = usedRange(bOffsets, batch, (bRows - 1) * ldb + bCols);
  const e = w.exports;
  const scratchFloats = gemmScratchFloats(e);
  // a batch: one piece per entry; a single product: cut by productPlan
  const plan = productPlan(e, { m, n, k, transA, transB, lda, ldb }, threaded && batch === 1);
  const pieces = batch >= 2 ? batch : plan.pieces;
  // an operand that lives in wasm memory (resident.ts) is read, or written, where it is
  const [aAt, bAt, cAt] = [residentPtr(w, a), residentPtr(w, b), residentPtr(w, out)];
  const { offsets, end } = layout(
    w.heapBase, aAt < 0 ? aHi - aLo : 0, bAt < 0 ? bHi - bLo : 0, cAt < 0 ? batch * m * n : 0, ...scratchFloats,
    ...(threaded ? [...scratchFloats, pieces * CALL_WORDS] : []), bias ? n : 0, batch === 1 ? plan.packedFloats : 0,
  );
  const mem = memoryF32(w, end);
  if (mem === null) {
    matmulJs(args); // more than wasm32's 4 GiB
    return;
  }
  const aPtr = aAt < 0 ? offsets[0] : aAt + aLo * 4, bPtr = bAt < 0 ? offsets[1] : bAt + bLo * 4, cPtr = cAt < 0 ? offsets[2] : cAt;
  const scratch: Scratch = { packA: offsets[3], packB: offsets[4], edge: offsets[5] };
  const biasPtr = offsets[offsets.length - 2], packed = offsets[offsets.length - 1];
  const at = (i: number): ProductAt => ({
    ap: aPtr + (aOffsets[i] - aLo) * 4, bp: bPtr + (bOffsets[i] - bLo) * 4, cp: cPtr + i * m * n * 4, m, n, k, transA, transB, lda, ldb,
  });
  let calls: KernelCall[], rows: ([number, number] | null)[], pack = () => {};
  if (batch === 1) ({ calls, rows, pack } = productPieces(e, at(0), plan, scratch, packed));
  else {
    calls = Array.from({ length: batch }, (_, i) => { const p = at(i); return productCall(p.ap, p.bp, p.cp, m, n, k, transA, transB, lda, ldb, scratch, plan.byRows, 0, plan.whole); });
    rows = calls.map((_, i) => [i * m, (i + 1) * m]);
  }
  const copyIn = () => {
    if (aAt < 0) mem.set(a.subarray(aLo, aHi), aPtr >> 2);
    if (bAt < 0) mem.set(b.subarray(bLo, bHi), bPtr >> 2);
    if (bias) mem.set(bias.subarray(0, n), biasPtr >> 2);
    pack();
  };
  // Rows r0..r1 of C (all batch entries' rows in a row) are finished: add the bias there, in wasm
  // memory, and copy them out. A call that writes whole rows is finished by itself, while the
  // worker still computes others; column pieces are finished all at once at the end.
  const finishRows = (r0: number, r1: number) => {
    if (bias) e.addRowBias(cPtr + r0 * n * 4, biasPtr, r1 - r0, n);
    if (cAt < 0) out.set(mem.subarray((cPtr >> 2) + r0 * n, (cPtr >> 2) + r1 * n), r0 * n);
  };
  const byPiece = rows.every((r) => r !== null);
  const pieceDone = byPiece ? (i: number) => finishRows(rows[i]![0], rows[i]![1]) : undefined;
  runPieces(w, threaded, calls, offsets[9], offsets[6] - offsets[3], copyIn, pieceDone); // the worker's scratch is the second set
  if (!byPiece) finishRows(0, batch * m);
}

/**
 * Rows [p0, p1) of C when `byRows` (B packed once at `packed`), else columns [p0, p1) (A packed
 * once there): the piece packs only its own rows of A, or columns of B.
 */
function packedPieceCall(
  ap: number, bp: number, cp: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, lda: number, ldb: number, s: Scratch, byRows: boolean, packed: number, p0: number, p1: number,
): KernelCall {
  const scratch = 0b11 << 9; // pa or pb, and edge: the running thread's own
  if (byRows) return { op: 'gemmPackedB', args: [ap + (transA ? p0 : p0 * lda) * 4, transA ? 1 : 0, lda, packed, cp + p0 * n * 4, n, p1 - p0, n, k, s.packA, s.edge], scratch };
  return { op: 'gemmPackedA', args: [packed, m, bp + (transB ? p0 * ldb : p0) * 4, transB ? 1 : 0, ldb, cp + p0 * 4, n, p1 - p0, k, s.packB, s.edge], scratch };
}

/**
 * The kernel call that computes part [p0, p1) of one product's output: rows of C when `byRows`,
 * else columns (always columns when C is a row vector, m = 1). A vector operand stored
 * contiguously goes to a matrix-vector kernel (no packing); lda and ldb are the row strides of
 * the stored A and B.
 */
function productCall(
  ap: number, bp: number, cp: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, lda: number, ldb: number, s: Scratch, byRows: boolean, p0: number, p1: number,
): KernelCall {
  const count = p1 - p0;
  if (m === 1 && (!transA || lda === 1)) {
    // c[1, n] = a[k] · op(B), a contiguous
    return transB
      ? { op: 'gemvRows', args: [bp + p0 * ldb * 4, ldb, ap, cp + p0 * 4, count, k] } // B stored [n, k]: c_j = B_j · a
      : { op: 'gemvCols', args: [bp + p0 * 4, ldb, ap, cp + p0 * 4, count, k] }; // B stored [k, n]: c = Σ_p a_p B_p
  }
  if (n === 1 && (transB || ldb === 1)) {
    // c[m, 1] = op(A) · b[k], b contiguous
    return transA
      ? { op: 'gemvCols', args: [ap + p0 * 4, lda, bp, cp + p0 * 4, count, k] } // A stored [k, m]
      : { op: 'gemvRows', args: [ap + p0 * lda * 4, lda, bp, cp + p0 * 4, count, k] }; // A stored [m, k]
  }
  // rows [r0, r0 + rows) and columns [c0, c0 + cols) of C: A starts at row r0 (column r0 when stored transposed), B at column c0
  const [r0, rows] = byRows ? [p0, count] : [0, m];
  const [c0, cols] = byRows ? [0, n] : [p0, count];
  return {
    op: 'gemm',
    args: [
      ap + (transA ? r0 : r0 * lda) * 4, transA ? 1 : 0, lda,
      bp + (transB ? c0 * ldb : c0) * 4, transB ? 1 : 0, ldb,
      cp + (r0 * n + c0) * 4, n, rows, cols, k,
      s.packA, s.packB, s.edge,
    ],
    scratch: 0b111 << 11, // packA, packB, edge: the running thread's own
  };
}
