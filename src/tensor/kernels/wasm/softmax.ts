// Row softmax forward and backward on the wasm module. Rows go through wasm memory in chunks of
// at most CHUNK_FLOATS per array (copy in, compute in place, copy out), which bounds the memory
// the module needs. With a second thread (TSGRAD_THREADS, large calls only) each chunk's rows
// are cut in blocks that both threads claim; the copies stay on this thread, in while the worker
// wakes and out block by block while it computes.
import type { FloatArray } from '../types.js';
import { softmax as softmaxJs, softmaxBackward as softmaxBackwardJs } from '../js/softmax.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { CALL_WORDS, SPLIT_PIECES, THREAD_MIN_FLOPS, pieceBounds, run, runClaimed, type KernelCall } from './threads.js';

/** 1 MB per array (an L2 cache): the best on the softmax bench workload W2 of 64 K, 256 K and 1 M floats. */
const CHUNK_FLOATS = 1 << 18;
/** With the worker, chunks this many times larger, so that waking it (20–230 µs) is paid less often. */
const THREAD_CHUNK_SCALE = 4;
/** Rough cost of one softmax element in flop-equivalents of gemm time (exp ≈ 13 SIMD ops / 4 lanes, 3 passes). */
const FLOPS_PER_ELEMENT = 25;

export function softmaxWasm(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  softmaxOn(wasmModule(), x, out, rows, cols);
}

export function softmaxBackwardWasm(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  softmaxBackwardOn(wasmModule(), y, dy, dx, rows, cols);
}

/**
 * Runs a row kernel over rows [0, rows) of a chunk: all on this thread, or as blocks of rows that
 * this thread and the worker claim. `ptrs` point at row 0 of each array (rows of `cols` floats).
 * `copyIn` fills the inputs (while the worker wakes); `copyOut(r0, r1)` takes rows r0..r1 out as
 * soon as they are done (while the worker computes the rest).
 */
function runRows(
  w: WasmModule, threaded: boolean, table: number, op: KernelCall['op'], ptrs: number[], rows: number, cols: number,
  copyIn: () => void, copyOut: (r0: number, r1: number) => void,
): void {
  if (!threaded) {
    copyIn();
    run(w, { op, args: [...ptrs, rows, cols] });
    return copyOut(0, rows);
  }
  const bounds = pieceBounds(rows, SPLIT_PIECES, 1);
  const pieces = bounds.map(([r0, r1]): KernelCall => ({ op, args: [...ptrs.map((p) => p + r0 * cols * 4), r1 - r0, cols] }));
  runClaimed(w, pieces, table, 0, copyIn, (i) => copyOut(bounds[i][0], bounds[i][1]));
}

/** softmaxWasm on a given module (the tests run both builds through this). */
export function softmaxOn(w: WasmModule | null, x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  if (w === null || !(x instanceof Float32Array) || !(out instanceof Float32Array)) return softmaxJs(x, out, rows, cols);
  if (rows === 0 || cols === 0) return;
  const threaded = w.shared && threadsRequested() && rows * cols * FLOPS_PER_ELEMENT >= THREAD_MIN_FLOPS;
  const chunkRows = Math.max(1, Math.floor((CHUNK_FLOATS * (threaded ? THREAD_CHUNK_SCALE : 1)) / cols));
  const { offsets, end } = layout(w.heapBase, chunkRows * cols, SPLIT_PIECES * CALL_WORDS);
  const mem = memoryF32(w, end);
  if (mem === null) return softmaxJs(x, out, rows, cols);
  const [buf, table] = offsets;
  const at = buf >> 2;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    const from = r0 * cols;
    runRows(w, threaded, table, 'softmaxRows', [buf, buf], n, cols, // in place
      () => mem.set(x.subarray(from, from + n * cols), at),
      (q0, q1) => out.set(mem.subarray(at + q0 * cols, at + q1 * cols), from + q0 * cols));
  }
}

/** softmaxBackwardWasm on a given module. */
export function softmaxBackwardOn(w: WasmModule | null, y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  if (w === null || !(y instanceof Float32Array) || !(dy instanceof Float32Array) || !(dx instanceof Float32Array)) {
    return softmaxBackwardJs(y, dy, dx, rows, cols);
  }
  if (rows === 0 || cols === 0) return;
  const threaded = w.shared && threadsRequested() && rows * cols * FLOPS_PER_ELEMENT >= THREAD_MIN_FLOPS;
  const chunkRows = Math.max(1, Math.floor((CHUNK_FLOATS * (threaded ? THREAD_CHUNK_SCALE : 1)) / cols));
  const { offsets, end } = layout(w.heapBase, chunkRows * cols, chunkRows * cols, SPLIT_PIECES * CALL_WORDS);
  const mem = memoryF32(w, end);
  if (mem === null) return softmaxBackwardJs(y, dy, dx, rows, cols);
  const [yBuf, gBuf, table] = offsets;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const len = Math.min(chunkRows, rows - r0) * cols;
    const from = r0 * cols;
    const copyIn = () => {
      mem.set(y.subarray(from, from + len), yBuf >> 2);
      mem.set(dy.subarray(from, from + len), gBuf >> 2);
    };
    runRows(w, threaded, table, 'softmaxBackwardRows', [yBuf, gBuf, gBuf], len / cols, cols, copyIn, // dx overwrites dy's copy
      (q0, q1) => dx.set(mem.subarray((gBuf >> 2) + q0 * cols, (gBuf >> 2) + q1 * cols), from + q0 * cols));
  }
}
