// The strided layout kernels on the wasm module (assembly/layout.ts): stridedCopy (permute, expand,
// slice) and its adjoint stridedScatter (pad, cat). Only the source floats the call reads, the
// range offset .. offset + Σ (shape_d − 1)·stride_d, go into wasm memory; a call whose range or
// output exceeds CHUNK_FLOATS goes a block of its outermost dim at a time (one index at a time of
// a dim, recursively, when even one exceeds it), so the module's memory stays bounded. The js
// kernel pays ~40 ns per last-dim run (a subarray and a set), wasm ~5 ns per run plus the copies
// in and out (~0.15 ns per float): wasm wins on short runs over a dense range and on a last stride
// ≠ 1, js on long runs and on sparse ranges; `worthIt` estimates both per call.
import type { TypedArray } from '../../dtype.js';
import * as js from '../js/layout.js';
import { layout, memoryF32, memoryI32, wasmModule, type WasmModule } from './loader.js';

/** 1 MB per array, as the maps and the convolution kernels. */
const CHUNK_FLOATS = 1 << 18;
/**
 * Rough costs in ns on the 2-vCPU dev host (`npx tsx bench/layout.ts`), to choose per call: js
 * pays per last-dim run (subarray + set) plus per float, or per float when the last stride is not
 * 1; wasm a fixed cost, the copies in and out, per run and per float of its loop.
 */
const COST = { jsRun: 40, jsFloat: 0.15, jsStridedFloat: 1.8, wasmCall: 1000, wasmCopyFloat: 0.15, wasmRun: 5, wasmFloat: 0.1, wasmStridedFloat: 0.55 };

export function stridedCopyWasm(src: TypedArray, offset: number, strides: readonly number[], outShape: readonly number[], out: TypedArray): void {
  stridedCopyOn(wasmModule(), src, offset, strides, outShape, out);
}

export function stridedScatterWasm(src: TypedArray, shape: readonly number[], out: TypedArray, offset: number, strides: readonly number[]): void {
  stridedScatterOn(wasmModule(), src, shape, out, offset, strides);
}

/** One call of the assembly kernel: `shape` over `strides` from strided float `offset`, dense floats from `at`. */
interface Piece { shape: number[]; strides: number[]; offset: number; at: number }

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** How many floats the strided side spans: 1 + Σ (shape_d − 1)·stride_d (n > 0). */
const span = (shape: readonly number[], strides: readonly number[]): number => shape.reduce((a, d, i) => a + (d - 1) * strides[i], 1);

/**
 * The same walk with fewer dims: size-1 dims dropped (their index is always 0), and a dim merged
 * into the next when stride_d = stride_{d+1}·shape_{d+1} (the two step as one); rank ≥ 1.
 */
export function normalise(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const outShape: number[] = [], outStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = outShape.length - 1;
    if (k >= 0 && outStrides[k] === strides[d] * shape[d]) {
      outShape[k] *= shape[d];
      outStrides[k] = strides[d];
    } else {
      outShape.push(shape[d]);
      outStrides.push(strides[d]);
    }
  }
  return outShape.length ? { shape: outShape, strides: outStrides } : { shape: [1], strides: [1] };
}

/** More pieces than this (a transpose far over a chunk: one short row per piece), js. */
const MAX_PIECES = 1024;

/**
 * Splits a walk into pieces whose dense floats and strided span each fit in CHUNK_FLOATS, in
 * row-major order: blocks of rows of dim 0, or each index of dim 0 split again; null past MAX_PIECES.
 */
function pieces(shape: number[], strides: number[], offset: number, at: number, list: Piece[] = []): Piece[] | null {
  if (list.length > MAX_PIECES) return null;
  const n = product(shape);
  if (n <= CHUNK_FLOATS && span(shape, strides) <= CHUNK_FLOATS) return list.push({ shape, strides, offset, at }), list;
  const rows = shape[0], s0 = strides[0], restShape = shape.slice(1), restStrides = strides.slice(1);
  const per = n / rows, perSpan = span(restShape, restStrides);
  // r rows span (r − 1)·s0 + perSpan floats and hold r·per
  const r = perSpan > CHUNK_FLOATS ? 0 : Math.min(rows, Math.floor(CHUNK_FLOATS / per), s0 === 0 ? rows : Math.floor((CHUNK_FLOATS - perSpan) / s0) + 1);
  for (let a = 0; a < rows; a += Math.max(r, 1)) {
    if (r >= 1) list.push({ shape: [Math.min(r, rows - a), ...restShape], strides, offset: offset + a * s0, at: at + a * per });
    else if (pieces(restShape, restStrides, offset + a * s0, at + a * per, list) === null) return null; // rank ≥ 2 here: a rank-1 row fits
  }
  return list.length > MAX_PIECES ? null : list;
}

/**
 * Whether wasm pays for a walk of n floats (normalised dims) in `calls` pieces that copy `moved`
 * floats in and out: it loses on long contiguous runs (js's set nears memory speed) and on sparse
 * ranges (a slice of one column in three copies three floats in per float out).
 */
function worthIt(shape: readonly number[], strides: readonly number[], n: number, calls: number, moved: number): boolean {
  const last = shape.length - 1, runs = n / shape[last], contiguous = strides[last] === 1;
  const jsNs = contiguous ? COST.jsRun * runs + COST.jsFloat * n : COST.jsStridedFloat * n;
  const loopNs = contiguous ? COST.wasmRun * runs + COST.wasmFloat * n : COST.wasmStridedFloat * n;
  return COST.wasmCall * calls + COST.wasmCopyFloat * moved + loopNs < jsNs;
}

/** Whether a piece writes every float of its span exactly once (a permutation of a dense block): sorted strides 1, s₀·n₀, …. */
function covers(p: Piece): boolean {
  const dims = p.shape.map((d, i) => [p.strides[i], d]).filter(([, d]) => d > 1).sort((a, b) => a[0] - b[0]);
  let expect = 1;
  for (const [stride, d] of dims) {
    if (stride !== expect) return false;
    expect *= d;
  }
  return true;
}

/** Writes a piece's sizes and strides into the kernel's dims area (then `rank` ints of scratch). */
function putDims(w: WasmModule, dimsBuf: number, p: Piece): void {
  const ints = memoryI32(w), at = dimsBuf >> 2, rank = p.shape.length;
  for (let d = 0; d < rank; d++) {
    ints[at + d] = p.shape[d];
    ints[at + rank + d] = p.strides[d];
  }
}

/** Buffers for the largest piece: strided floats, dense floats, and the dims area; null past wasm32's limit. */
function buffers(w: WasmModule, list: Piece[]): { mem: Float32Array; stridedBuf: number; denseBuf: number; dimsBuf: number } | null {
  let spanMax = 0, nMax = 0, rankMax = 0;
  for (const p of list) {
    spanMax = Math.max(spanMax, span(p.shape, p.strides));
    nMax = Math.max(nMax, product(p.shape));
    rankMax = Math.max(rankMax, p.shape.length);
  }
  const { offsets, end } = layout(w.heapBase, spanMax, nMax, 3 * rankMax);
  const mem = memoryF32(w, end);
  return mem === null ? null : { mem, stridedBuf: offsets[0], denseBuf: offsets[1], dimsBuf: offsets[2] };
}

type Buffers = NonNullable<ReturnType<typeof buffers>>;

/**
 * The pieces and buffers for a strided walk of `shape`/`strides` from `offset` over an array of
 * `stridedLength` floats, with `denseLength` on the dense side; null when js should run it (out of
 * range, too many pieces, copies that do not pay when `gated`, or past wasm32's memory).
 */
function plan(
  w: WasmModule, shape: readonly number[], strides: readonly number[], offset: number, stridedLength: number, denseLength: number,
  gated: boolean, moved: (p: Piece) => number,
): { list: Piece[]; bufs: Buffers } | null {
  const n = product(shape);
  const d = normalise(shape, strides);
  if (offset < 0 || offset + span(d.shape, d.strides) > stridedLength || n > denseLength) return null;
  const list = pieces(d.shape, d.strides, offset, 0);
  if (list === null || (gated && !worthIt(d.shape, d.strides, n, list.length, list.reduce((sum, p) => sum + moved(p), 0)))) return null;
  const bufs = buffers(w, list);
  return bufs === null ? null : { list, bufs };
}

/** stridedCopyWasm on a given module (the tests run both builds through this; gated = false skips `worthIt`). */
export function stridedCopyOn(w: WasmModule | null, src: TypedArray, offset: number, strides: readonly number[], outShape: readonly number[], out: TypedArray, gated = true): void {
  const fallback = (): void => js.stridedCopy(src, offset, strides, outShape, out);
  if (w === null || !(src instanceof Float32Array) || !(out instanceof Float32Array)) return fallback();
  if (product(outShape) === 0) return;
  // each piece's span in, its floats out
  const planned = plan(w, outShape, strides, offset, src.length, out.length, gated, (p) => span(p.shape, p.strides) + product(p.shape));
  if (planned === null) return fallback();
  const { list, bufs: { mem, stridedBuf, denseBuf, dimsBuf } } = planned;
  for (const p of list) {
    const len = product(p.shape);
    mem.set(src.subarray(p.offset, p.offset + span(p.shape, p.strides)), stridedBuf >> 2);
    putDims(w, dimsBuf, p);
    w.exports.stridedCopy(stridedBuf, denseBuf, dimsBuf, p.shape.length);
    out.set(mem.subarray(denseBuf >> 2, (denseBuf >> 2) + len), p.at);
  }
}

/**
 * stridedScatterWasm on a given module. Only the floats this call writes may change in `out`:
 * a piece that does not write every float of its span copies that span in first.
 */
export function stridedScatterOn(w: WasmModule | null, src: TypedArray, shape: readonly number[], out: TypedArray, offset: number, strides: readonly number[], gated = true): void {
  const fallback = (): void => js.stridedScatter(src, shape, out, offset, strides);
  if (w === null || !(src instanceof Float32Array) || !(out instanceof Float32Array)) return fallback();
  if (product(shape) === 0) return;
  // each piece's floats in, its span out, and its span in too unless it writes all of it
  const planned = plan(w, shape, strides, offset, out.length, src.length, gated, (p) => product(p.shape) + span(p.shape, p.strides) * (covers(p) ? 1 : 2));
  if (planned === null) return fallback();
  const { list, bufs: { mem, stridedBuf, denseBuf, dimsBuf } } = planned;
  for (const p of list) {
    const len = product(p.shape), pSpan = span(p.shape, p.strides);
    mem.set(src.subarray(p.at, p.at + len), denseBuf >> 2);
    if (!covers(p)) mem.set(out.subarray(p.offset, p.offset + pSpan), stridedBuf >> 2); // keep the floats it skips
    putDims(w, dimsBuf, p);
    w.exports.stridedScatter(denseBuf, stridedBuf, dimsBuf, p.shape.length);
    out.set(mem.subarray(stridedBuf >> 2, (stridedBuf >> 2) + pSpan), p.offset);
  }
}
