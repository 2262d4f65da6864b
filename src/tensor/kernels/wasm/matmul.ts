// out[b] = op(A_b) · op(B_b) on the wasm module: copy the used ranges of a and b into wasm memory,
// run one gemm (or gemv when m == 1 or n == 1) per batch entry there, copy C back. With a second
// thread (TSGRAD_THREADS, large calls only) the batch entries, or the rows of a single
// product, are split in two.
import type { MatmulArgs } from '../types.js';
import { addRowBias, matmul as matmulJs } from '../js/matmul.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { CALL_WORDS, THREAD_MIN_FLOPS, run, runShared, type KernelCall } from './threads.js';

/** Per-thread scratch for the gemm packing (byte offsets). */
interface Scratch {
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
  const scratchFloats = [e.packAFloats(), e.packBFloats(), e.edgeFloats()];
  const { offsets, end } = layout(
    w.heapBase, aHi - aLo, bHi - bLo, batch * m * n, ...scratchFloats,
    ...(threaded ? [...scratchFloats, batch * CALL_WORDS] : []), bias ? n : 0,
  );
  const mem = memoryF32(w, end);
  if (mem === null) {
    matmulJs(args); // more than wasm32's 4 GiB
    return;
  }
  const [aPtr, bPtr, cPtr] = offsets;
  const scratch: Scratch[] = [{ packA: offsets[3], packB: offsets[4], edge: offsets[5] }];
  if (threaded) scratch.push({ packA: offsets[6], packB: offsets[7], edge: offsets[8] });
  mem.set(a.subarray(aLo, aHi), aPtr >> 2);
  mem.set(b.subarray(bLo, bHi), bPtr >> 2);
  const whole = m === 1 ? n : m; // the output is split along this length (rows, or columns of a row vector)
  const mine: KernelCall[] = [];
  const theirs: KernelCall[] = [];
  for (let i = 0; i < batch; i++) {
    const ap = aPtr + (aOffsets[i] - aLo) * 4;
    const bp = bPtr + (bOffsets[i] - bLo) * 4;
    const cp = cPtr + i * m * n * 4;
    if (!threaded) {
      run(w, productCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch[0], 0, whole));
    } else if (batch >= 2) {
      // this thread takes the first half of the batch, the worker the rest
      const t = i < batch >> 1 ? 0 : 1;
      (t === 0 ? mine : theirs).push(productCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch[t], 0, whole));
    } else {
      const cut = Math.min(whole, Math.ceil(whole / 16) * 8); // near half, a multiple of the 4×8 tile
      mine.push(productCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch[0], 0, cut));
      theirs.push(productCall(ap, bp, cp, m, n, k, transA, transB, lda, ldb, scratch[1], cut, whole));
    }
  }
  if (threaded) runShared(w, mine, theirs, offsets[9]);
  if (bias) {
    const biasPtr = offsets[offsets.length - 1];
    mem.set(bias.subarray(0, n), biasPtr >> 2);
    e.addRowBias(cPtr, biasPtr, batch * m, n); // in wasm memory, before the one copy out
  }
  out.set(mem.subarray(cPtr >> 2, (cPtr >> 2) + batch * m * n));
}

/**
 * The kernel call that computes part [p0, p1) of one product's output: rows of C, or columns
 * when C is a row vector (m = 1). A vector operand stored contiguously goes to a matrix-vector
 * kernel (no packing); lda and ldb are the row strides of the stored A and B.
 */
function productCall(
  ap: number, bp: number, cp: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, lda: number, ldb: number, s: Scratch, p0: number, p1: number,
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
  // rows [p0, p1) of C (columns, when a strided row vector is split): A starts at row p0 (column p0 when stored transposed)
  const [r0, rows] = m === 1 ? [0, 1] : [p0, count];
  const [c0, cols] = m === 1 ? [p0, count] : [0, n];
  return {
    op: 'gemm',
    args: [
      ap + (transA ? r0 : r0 * lda) * 4, transA ? 1 : 0, lda,
      bp + (transB ? c0 * ldb : c0) * 4, transB ? 1 : 0, ldb,
      cp + (r0 * n + c0) * 4, n, rows, cols, k,
      s.packA, s.packB, s.edge,
    ],
  };
}
