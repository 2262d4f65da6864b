// Row softmax forward and backward on the wasm module. Rows go through wasm memory in chunks of
// at most CHUNK_FLOATS per array (copy in, compute in place, copy out), which bounds the memory
// the module needs. With a second thread (TSGRAD_THREADS, large calls only) blocks of rows are
// streamed (stream.ts): this thread copies blocks in and out while either thread computes the
// blocks already in.
import type { FloatArray } from '../types.js';
import { softmax as softmaxJs, softmaxBackward as softmaxBackwardJs } from '../js/softmax.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { THREAD_MIN_FLOPS, type KernelCall } from './threads.js';
import { streamBlocks } from './stream.js';
import { runResident } from './jobs.js';
import { residentPtrs } from './resident.js';

/** 1 MB per array (an L2 cache): the best on the softmax bench workload W2 of 64 K, 256 K and 1 M floats. */
const CHUNK_FLOATS = 1 << 18;
/** Rough cost of one softmax element in flop-equivalents of gemm time (exp ≈ 13 SIMD ops / 4 lanes, 3 passes). */
const FLOPS_PER_ELEMENT = 25;
/**
 * With the worker, rows go in blocks of about this many floats through STREAM_SLOTS buffer sets:
 * W2's fwd+bwd of [4096, 1024] ran 25-28 % faster than with chunks cut in pieces both threads claim.
 */
const STREAM_BLOCK_FLOATS = 1 << 16;
const STREAM_SLOTS = 6;

export function softmaxWasm(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  softmaxOn(wasmModule(), x, out, rows, cols);
}

export function softmaxBackwardWasm(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  softmaxBackwardOn(wasmModule(), y, dy, dx, rows, cols);
}

const threadedFor = (w: WasmModule, rows: number, cols: number): boolean => w.shared && threadsRequested() && rows * cols * FLOPS_PER_ELEMENT >= THREAD_MIN_FLOPS;

/**
 * Runs a row kernel over `inputs` ([rows, cols] each) into `out`: where they are when all live in
 * wasm memory; else through copies, `out` replacing the last input's copy, streamed with the
 * worker or chunk after chunk here. False when the memory cannot hold it.
 */
function runRows(w: WasmModule, op: KernelCall['op'], inputs: FloatArray[], out: FloatArray, rows: number, cols: number): boolean {
  const resident = residentPtrs(w, ...inputs, out);
  if (resident !== null) {
    return runResident(w, threadedFor(w, rows, cols), rows * cols, cols, (from, n) => ({ op, args: [...resident.map((p) => p + from * 4), n / cols, cols] }));
  }
  const call = (ptrs: number[], n: number): KernelCall => ({ op, args: [...ptrs, ptrs[ptrs.length - 1], n / cols, cols] });
  if (threadedFor(w, rows, cols)) {
    const block = Math.max(1, Math.floor(STREAM_BLOCK_FLOATS / cols)) * cols;
    return streamBlocks(w, { inputs, outputs: [[inputs.length - 1, out]], block, slots: STREAM_SLOTS, call });
  }
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
  const { offsets, end } = layout(w.heapBase, ...inputs.map(() => chunkRows * cols));
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  const last = offsets[offsets.length - 1] >> 2;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const from = r0 * cols, to = Math.min(rows, r0 + chunkRows) * cols;
    inputs.forEach((a, k) => mem.set(a.subarray(from, to), offsets[k] >> 2));
    const { op: name, args } = call(offsets, to - from);
    (w.exports[name] as (...a: number[]) => void)(...args);
    out.set(mem.subarray(last, last + to - from), from);
  }
  return true;
}

/** softmaxWasm on a given module (the tests run both builds through this). */
export function softmaxOn(w: WasmModule | null, x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  if (w === null || !(x instanceof Float32Array) || !(out instanceof Float32Array)) return softmaxJs(x, out, rows, cols);
  if (rows === 0 || cols === 0) return;
  if (!runRows(w, 'softmaxRows', [x], out, rows, cols)) softmaxJs(x, out, rows, cols); // in place
}

/** softmaxBackwardWasm on a given module. */
export function softmaxBackwardOn(w: WasmModule | null, y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  if (w === null || !(y instanceof Float32Array) || !(dy instanceof Float32Array) || !(dx instanceof Float32Array)) {
    return softmaxBackwardJs(y, dy, dx, rows, cols);
  }
  if (rows === 0 || cols === 0) return;
  if (!runRows(w, 'softmaxBackwardRows', [y, dy], dx, rows, cols)) softmaxBackwardJs(y, dy, dx, rows, cols); // dx replaces dy's copy
}
