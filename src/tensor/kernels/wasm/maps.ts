// Elementwise maps, binary ops and middle-dim sums on the wasm module (assembly/maps.ts). Inputs go
// through wasm memory in chunks of at most CHUNK_FLOATS floats per array (copy in, compute in
// place, copy out), which bounds the memory the module needs. Float64 data, ops the module lacks
// (erf, sign, not, copy, pow, comparisons, ...) and other broadcast patterns run the js kernel.
// With a second thread (TSGRAD_THREADS=2) the transcendental maps cut each chunk in pieces both claim
// (the copies stay on this thread: in while the worker wakes, out piece by piece while it computes);
// the memory-bound ones would gain nothing.
import type { TypedArray } from '../../dtype.js';
import type { BinaryOp, ReduceKind, UnaryGradOp, UnaryOp } from '../types.js';
import { binary as binaryJs, unary as unaryJs, unaryGrad as unaryGradJs } from '../js/elementwise.js';
import { reduce as reduceJs } from '../js/reduce.js';
import { layout, memoryF32, memoryF64, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { CALL_WORDS, SPLIT_PIECES, THREAD_MIN_FLOPS, pieceBounds, run, type KernelCall } from './threads.js';
import { runClaimed, runResident } from './jobs.js';
import { streamBlocks } from './stream.js';
import { residentPtr, residentPtrs } from './resident.js';

/** 1 MB per array, as the softmax kernels: whatever the call's size, the module's memory stays bounded. */
const CHUNK_FLOATS = 1 << 18;
/** With the worker, chunks this many times larger, so that waking it (20–230 µs) is paid less often (as softmax). */
const THREAD_CHUNK_SCALE = 4;
/**
 * Rough cost of one element in flop-equivalents of gemm time (~40 GFLOP/s), for THREAD_MIN_FLOPS:
 * measured 2.1 (exp) to 4.1 ns (erf GELU) of compute per element, beside 0.8 ns for the copies.
 */
const TRANSCENDENTAL_FLOPS = 100;
const TRANSCENDENTAL = new Set<string>(['exp', 'log', 'tanh', 'sigmoid', 'gelu', 'geluTanh']);
/** Large threaded maps are streamed (stream.ts) in blocks of this many floats through STREAM_SLOTS buffer sets. */
const STREAM_BLOCK_FLOATS = 1 << 16;
const STREAM_SLOTS = 6;

/** The op codes of assembly/maps.ts. */
const UNARY_CODES: Partial<Record<UnaryOp, number>> = { neg: 0, abs: 1, sqrt: 2, exp: 3, tanh: 4, sigmoid: 5, relu: 6, gelu: 7, geluTanh: 8, log: 9 };
const GRAD_CODES: Record<UnaryGradOp, number> = { relu: 0, gelu: 1, geluTanh: 2 };
const BINARY_CODES: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

export function unaryWasm(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  unaryOn(wasmModule(), op, x, out);
}

export function unaryGradWasm(op: UnaryGradOp, x: TypedArray, g: TypedArray, dx: TypedArray): void {
  unaryGradOn(wasmModule(), op, x, g, dx);
}

export function binaryWasm(op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void {
  binaryOn(wasmModule(), op, a, aShape, b, bShape, out, outShape);
}

export function reduceWasm(kind: ReduceKind, x: TypedArray, outer: number, len: number, inner: number, out: TypedArray): void {
  reduceOn(wasmModule(), kind, x, outer, len, inner, out);
}

/** Whether a map over n elements goes to the worker too, and the chunk length that follows. */
function splitPlan(w: WasmModule, op: string, n: number): { threaded: boolean; chunk: number } {
  const threaded = w.shared && threadsRequested() && TRANSCENDENTAL.has(op) && n * TRANSCENDENTAL_FLOPS >= THREAD_MIN_FLOPS;
  return { threaded, chunk: Math.min(n, CHUNK_FLOATS * (threaded ? THREAD_CHUNK_SCALE : 1)) };
}

/**
 * Runs a map (args: op code, pointers, then the length) on this thread, or as SPLIT_PIECES pieces
 * that this thread and the worker claim. Pieces start at multiples of 4: the lanes one rounds up
 * to must not reach the next, which the other thread may be computing in place at the same time.
 * `copyIn` fills the inputs (while the worker wakes); `copyOut(p0, p1)` takes elements p0..p1 out
 * as soon as they are done (while the worker computes the rest).
 */
function runMap(
  w: WasmModule, threaded: boolean, table: number, op: KernelCall['op'], code: number, ptrs: number[], len: number,
  copyIn: () => void, copyOut: (p0: number, p1: number) => void,
): void {
  if (!threaded) {
    copyIn();
    run(w, { op, args: [code, ...ptrs, len] });
    return copyOut(0, len);
  }
  const bounds = pieceBounds(len, SPLIT_PIECES, 4);
  const pieces = bounds.map(([p0, p1]): KernelCall => ({ op, args: [code, ...ptrs.map((p) => p + p0 * 4), p1 - p0] }));
  runClaimed(w, pieces, table, 0, copyIn, (i) => copyOut(bounds[i][0], bounds[i][1]));
}

/** unaryWasm on a given module (the tests run both builds through this). */
export function unaryOn(w: WasmModule | null, op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const code = UNARY_CODES[op];
  if (w === null || code === undefined || !(x instanceof Float32Array) || !(out instanceof Float32Array)) return unaryJs(op, x, out);
  const n = x.length;
  const { threaded, chunk } = splitPlan(w, op, n);
  const resident = residentPtrs(w, x, out);
  if (resident && runResident(w, threaded, n, 4, (from, len) => ({ op: 'unaryMap', args: [code, ...resident.map((p) => p + from * 4), len] }))) return;
  if (threaded && n >= 2 * STREAM_BLOCK_FLOATS && streamBlocks(w, {
    inputs: [x], outputs: [[0, out]], block: STREAM_BLOCK_FLOATS, slots: STREAM_SLOTS,
    call: ([p], len) => ({ op: 'unaryMap', args: [code, p, p, len] }),
  })) return;
  const { offsets, end } = layout(w.heapBase, chunk, SPLIT_PIECES * CALL_WORDS);
  const mem = memoryF32(w, end);
  if (mem === null) return unaryJs(op, x, out);
  const [buf, table] = offsets;
  const at = buf >> 2;
  for (let i = 0; i < n; i += chunk) {
    const len = Math.min(chunk, n - i);
    runMap(w, threaded, table, 'unaryMap', code, [buf, buf], len, // in place
      () => mem.set(x.subarray(i, i + len), at),
      (p0, p1) => out.set(mem.subarray(at + p0, at + p1), i + p0));
  }
}

/** unaryGradWasm on a given module. */
export function unaryGradOn(w: WasmModule | null, op: UnaryGradOp, x: TypedArray, g: TypedArray, dx: TypedArray): void {
  if (w === null || !(x instanceof Float32Array) || !(g instanceof Float32Array) || !(dx instanceof Float32Array)) return unaryGradJs(op, x, g, dx);
  const n = x.length;
  const { threaded, chunk } = splitPlan(w, op, n);
  const resident = residentPtrs(w, x, g, dx);
  if (resident && runResident(w, threaded, n, 4, (from, len) => ({ op: 'unaryGradMap', args: [GRAD_CODES[op], ...resident.map((p) => p + from * 4), len] }))) return;
  if (threaded && n >= 2 * STREAM_BLOCK_FLOATS && streamBlocks(w, {
    inputs: [x, g], outputs: [[1, dx]], block: STREAM_BLOCK_FLOATS, slots: STREAM_SLOTS,
    call: ([px, pg], len) => ({ op: 'unaryGradMap', args: [GRAD_CODES[op], px, pg, pg, len] }), // dx replaces g's copy
  })) return;
  const { offsets, end } = layout(w.heapBase, chunk, chunk, SPLIT_PIECES * CALL_WORDS);
  const mem = memoryF32(w, end);
  if (mem === null) return unaryGradJs(op, x, g, dx);
  const [xBuf, gBuf, table] = offsets;
  for (let i = 0; i < n; i += chunk) {
    const len = Math.min(chunk, n - i);
    const copyIn = () => {
      mem.set(x.subarray(i, i + len), xBuf >> 2);
      mem.set(g.subarray(i, i + len), gBuf >> 2);
    };
    runMap(w, threaded, table, 'unaryGradMap', GRAD_CODES[op], [xBuf, gBuf, gBuf], len, copyIn, // dx overwrites g's copy
      (p0, p1) => dx.set(mem.subarray((gBuf >> 2) + p0, (gBuf >> 2) + p1), i + p0));
  }
}

/**
 * Which of the module's patterns a broadcast is; null for the others. With a of out's size: a
 * scalar b; b a block of out's last dims (a bias [C], positions [T, C] under [B, T, C]) — a row
 * under each row of a viewed as [n / |b|, |b|]; b [.., R, 1] beside out [.., R, C] — a column,
 * repeated over the leading dims (a channel bias [O, 1] over [N, O, L]).
 */
type Pattern = { kind: 'same' } | { kind: 'scalarB' } | { kind: 'scalarA' } | { kind: 'rows'; rows: number; cols: number } | { kind: 'cols'; rows: number; cols: number };

function patternOf(aLength: number, bShape: readonly number[], bLength: number, outShape: readonly number[], n: number): Pattern | null {
  if (aLength === n && bLength === n) return { kind: 'same' };
  if (aLength === n && bLength === 1) return { kind: 'scalarB' };
  if (aLength === 1 && bLength === n) return { kind: 'scalarA' };
  if (aLength !== n) return null;
  let lead = 0;
  while (lead < bShape.length && bShape[lead] === 1) lead++;
  const bt = bShape.slice(lead);
  const k = bt.length;
  if (k === 0 || k > outShape.length) return null;
  const tail = outShape.slice(outShape.length - k);
  if (bt.every((d, i) => d === tail[i])) return { kind: 'rows', rows: n / bLength, cols: bLength };
  const cols = tail[k - 1];
  if (bt[k - 1] === 1 && bt.every((d, i) => i === k - 1 || d === tail[i])) return { kind: 'cols', rows: n / cols, cols };
  return null;
}

/** binaryWasm on a given module: same shape, a scalar operand, a row or a column under a. */
export function binaryOn(
  w: WasmModule | null, op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[],
): void {
  const n = out.length;
  const code = BINARY_CODES[op];
  const pattern = code === undefined ? null : patternOf(a.length, bShape, b.length, outShape, n);
  const fallback = (): void => binaryJs(op, a, aShape, b, bShape, out, outShape);
  if (w === null || pattern === null || code === undefined || n === 0) return fallback();
  if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || !(out instanceof Float32Array)) return fallback();
  const e = w.exports;
  if (binaryResident(w, code, pattern, a, b, out)) return;
  if (pattern.kind === 'same' || pattern.kind === 'scalarB' || pattern.kind === 'scalarA') {
    const full = pattern.kind === 'scalarA' ? b : a; // the operand of out's size
    const chunk = Math.min(n, CHUNK_FLOATS);
    const { offsets, end } = layout(w.heapBase, chunk, pattern.kind === 'same' ? chunk : 0);
    const mem = memoryF32(w, end);
    if (mem === null) return fallback();
    const [aBuf, bBuf] = offsets;
    for (let i = 0; i < n; i += chunk) {
      const len = Math.min(chunk, n - i);
      mem.set(full.subarray(i, i + len), aBuf >> 2);
      if (pattern.kind === 'same') {
        mem.set(b.subarray(i, i + len), bBuf >> 2);
        e.binarySame(code, aBuf, bBuf, aBuf, len);
      } else {
        e.binaryScalar(code, aBuf, pattern.kind === 'scalarA' ? a[0] : b[0], pattern.kind === 'scalarA' ? 1 : 0, aBuf, len);
      }
      out.set(mem.subarray(aBuf >> 2, (aBuf >> 2) + len), i);
    }
    return;
  }
  const { rows, cols } = pattern;
  if (cols > CHUNK_FLOATS) return fallback(); // one row would not fit in a chunk
  const chunkRows = Math.max(1, Math.min(rows, Math.floor(CHUNK_FLOATS / cols)));
  const bFloats = pattern.kind === 'rows' ? cols : chunkRows;
  const { offsets, end } = layout(w.heapBase, chunkRows * cols, bFloats);
  const mem = memoryF32(w, end);
  if (mem === null) return fallback();
  const [aBuf, bBuf] = offsets;
  if (pattern.kind === 'rows') mem.set(b, bBuf >> 2); // the same row for every chunk
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const nr = Math.min(chunkRows, rows - r0);
    const from = r0 * cols;
    mem.set(a.subarray(from, from + nr * cols), aBuf >> 2);
    if (pattern.kind === 'rows') e.binaryRows(code, aBuf, bBuf, aBuf, nr, cols);
    else {
      // row r of a takes b[r mod |b|]: b repeats over the leading dims
      const bAt = bBuf >> 2;
      if (b.length >= rows) mem.set(b.subarray(r0, r0 + nr), bAt);
      else for (let i = 0; i < nr; i++) mem[bAt + i] = b[(r0 + i) % b.length];
      e.binaryCols(code, aBuf, bBuf, aBuf, nr, cols);
    }
    out.set(mem.subarray(aBuf >> 2, (aBuf >> 2) + nr * cols), from);
  }
}

/**
 * The binary op where its operands are, when out and its full-size operands live in wasm memory
 * (a row b, as a bias, is copied in if it does not); false otherwise, or for the column pattern.
 */
function binaryResident(w: WasmModule, code: number, pattern: Pattern, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
  const e = w.exports, po = residentPtr(w, out);
  if (po < 0 || pattern.kind === 'cols') return false;
  if (pattern.kind === 'same') {
    const ptrs = residentPtrs(w, a, b);
    if (ptrs) e.binarySame(code, ptrs[0], ptrs[1], po, out.length);
    return ptrs !== null;
  }
  if (pattern.kind !== 'rows') {
    const [full, scalar] = pattern.kind === 'scalarA' ? [b, a[0]] : [a, b[0]];
    const pf = residentPtr(w, full);
    if (pf >= 0) e.binaryScalar(code, pf, scalar, pattern.kind === 'scalarA' ? 1 : 0, po, out.length);
    return pf >= 0;
  }
  const pa = residentPtr(w, a);
  if (pa < 0) return false;
  let pb = residentPtr(w, b);
  if (pb < 0) {
    const { offsets, end } = layout(w.heapBase, b.length);
    const mem = memoryF32(w, end);
    if (mem === null) return false;
    mem.set(b, offsets[0] >> 2);
    pb = offsets[0];
  }
  e.binaryRows(code, pa, pb, po, pattern.rows, pattern.cols);
  return true;
}

/**
 * reduceWasm on a given module: 'sum' of float32 x, accumulated in float64 whatever out's type
 * (a Float64Array out, as ops/reduce passes it for float32 sums, or a Float32Array rounded once).
 * Blocks [len, inner] that fit in a chunk go several at a time; a longer block is summed chunk
 * by chunk of its rows into one accumulator; a row of more than CHUNK_FLOATS runs the js kernel.
 */
export function reduceOn(w: WasmModule | null, kind: ReduceKind, x: TypedArray, outer: number, len: number, inner: number, out: TypedArray): void {
  const fallback = (): void => reduceJs(kind, x, outer, len, inner, out);
  if (w === null || kind !== 'sum' || !(x instanceof Float32Array) || !(out instanceof Float32Array || out instanceof Float64Array)) return fallback();
  if (outer * inner === 0) return;
  if (len === 0 || inner > CHUNK_FLOATS) return fallback();
  const block = len * inner;
  const outersPerChunk = Math.max(1, Math.floor(CHUNK_FLOATS / block));
  const rowsPerChunk = block <= CHUNK_FLOATS ? len : Math.floor(CHUNK_FLOATS / inner);
  const { offsets, end } = layout(w.heapBase, Math.min(outer, outersPerChunk) * rowsPerChunk * inner, 2 * Math.min(outer, outersPerChunk) * inner);
  const mem = memoryF32(w, end);
  if (mem === null) return fallback();
  const acc = memoryF64(w);
  const [xBuf, accBuf] = offsets;
  const accAt = accBuf >> 3;
  if (block <= CHUNK_FLOATS) {
    for (let o0 = 0; o0 < outer; o0 += outersPerChunk) {
      const no = Math.min(outersPerChunk, outer - o0);
      mem.set(x.subarray(o0 * block, (o0 + no) * block), xBuf >> 2);
      w.exports.reduceSum(xBuf, accBuf, no, len, inner, 0);
      out.set(acc.subarray(accAt, accAt + no * inner), o0 * inner);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let r0 = 0; r0 < len; r0 += rowsPerChunk) {
      const nr = Math.min(rowsPerChunk, len - r0);
      const from = (o * len + r0) * inner;
      mem.set(x.subarray(from, from + nr * inner), xBuf >> 2);
      w.exports.reduceSum(xBuf, accBuf, 1, nr, inner, r0 === 0 ? 0 : 1);
    }
    out.set(acc.subarray(accAt, accAt + inner), o * inner);
  }
}
