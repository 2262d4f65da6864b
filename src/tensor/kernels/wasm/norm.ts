// LayerNorm forward and backward on the wasm module (assembly/rows.ts). Rows go through wasm
// memory in chunks of at most CHUNK_FLOATS per array, as the softmax does (x, g, y and dx are read
// and written where they are when they live in wasm memory, resident.ts); mean and rstd travel
// as float64. The backward sums dw and db per chunk in float32 lanes and adds each chunk's sums
// into the caller's float64 accumulators, so float32 error grows with one chunk's rows, not all.
// All on this thread (TSGRAD_THREADS does not split them): the worker's call table carries
// 32-bit integers, and eps (like cross-entropy's Σw) is a float.
import type { FloatArray } from '../types.js';
import { layerNorm as layerNormJs, layerNormBackward as layerNormBackwardJs } from '../js/norm.js';
import { layout, memoryF32, memoryF64, wasmModule, type WasmModule } from './loader.js';
import { residentPtr } from './resident.js';

/** 1 MB per array, as the softmax's chunks (an L2 cache). */
const CHUNK_FLOATS = 1 << 18;

export function layerNormWasm(x: FloatArray, rows: number, D: number, w: FloatArray | null, b: FloatArray | null, eps: number, y: FloatArray, mean: Float64Array, rstd: Float64Array): void {
  layerNormOn(wasmModule(), x, rows, D, w, b, eps, y, mean, rstd);
}

export function layerNormBackwardWasm(x: FloatArray, g: FloatArray, rows: number, D: number, w: FloatArray | null, mean: Float64Array, rstd: Float64Array, dx: FloatArray | null, dw: Float64Array, db: Float64Array): void {
  layerNormBackwardOn(wasmModule(), x, g, rows, D, w, mean, rstd, dx, dw, db);
}

/** Copies D floats of `src` to byte offset `at`, or D copies of `none` when there is no src (no affine w or b). */
function place(mem: Float32Array, src: FloatArray | null, none: number, at: number, D: number): void {
  if (src) mem.set(src.subarray(0, D), at >> 2);
  else mem.fill(none, at >> 2, (at >> 2) + D);
}

const isF32 = (a: FloatArray | null): boolean => a === null || a instanceof Float32Array;

/** layerNormWasm on a given module (the tests run both builds through this). */
export function layerNormOn(w: WasmModule | null, x: FloatArray, rows: number, D: number, weight: FloatArray | null, bias: FloatArray | null, eps: number, y: FloatArray, mean: Float64Array, rstd: Float64Array): void {
  if (w === null || !isF32(x) || !isF32(y) || !isF32(weight) || !isF32(bias)) return layerNormJs(x, rows, D, weight, bias, eps, y, mean, rstd);
  if (rows === 0 || D === 0) return layerNormJs(x, rows, D, weight, bias, eps, y, mean, rstd); // D = 0: js's NaN statistics
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / D));
  const { offsets, end } = layout(w.heapBase, chunkRows * D, D, D, 2 * chunkRows, 2 * chunkRows);
  const mem = memoryF32(w, end);
  if (mem === null) return layerNormJs(x, rows, D, weight, bias, eps, y, mean, rstd);
  const f64 = memoryF64(w);
  const [buf, wAt, bAt, meanAt, rstdAt] = offsets;
  const px = residentPtr(w, x), py = residentPtr(w, y);
  place(mem, weight, 1, wAt, D);
  place(mem, bias, 0, bAt, D);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    const from = r0 * D;
    if (px < 0) mem.set(x.subarray(from, from + n * D), buf >> 2);
    // y overwrites x's copy, unless either lives in wasm memory
    w.exports.layerNormRows(px < 0 ? buf : px + from * 4, py < 0 ? buf : py + from * 4, wAt, bAt, meanAt, rstdAt, n, D, eps);
    if (py < 0) y.set(mem.subarray(buf >> 2, (buf >> 2) + n * D), from);
    mean.set(f64.subarray(meanAt >> 3, (meanAt >> 3) + n), r0);
    rstd.set(f64.subarray(rstdAt >> 3, (rstdAt >> 3) + n), r0);
  }
}

/** layerNormBackwardWasm on a given module. */
export function layerNormBackwardOn(w: WasmModule | null, x: FloatArray, g: FloatArray, rows: number, D: number, weight: FloatArray | null, mean: Float64Array, rstd: Float64Array, dx: FloatArray | null, dw: Float64Array, db: Float64Array): void {
  if (w === null || !isF32(x) || !isF32(g) || !isF32(weight) || !isF32(dx)) return layerNormBackwardJs(x, g, rows, D, weight, mean, rstd, dx, dw, db);
  if (rows === 0 || D === 0) return;
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / D));
  const { offsets, end } = layout(w.heapBase, chunkRows * D, chunkRows * D, D, D, D, 2 * chunkRows, 2 * chunkRows);
  const mem = memoryF32(w, end);
  if (mem === null) return layerNormBackwardJs(x, g, rows, D, weight, mean, rstd, dx, dw, db);
  const f64 = memoryF64(w);
  const [xBuf, gBuf, wAt, dwAt, dbAt, meanAt, rstdAt] = offsets;
  const px = residentPtr(w, x), pg = residentPtr(w, g), pdx = dx ? residentPtr(w, dx) : -1;
  place(mem, weight, 1, wAt, D);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    const from = r0 * D;
    if (px < 0) mem.set(x.subarray(from, from + n * D), xBuf >> 2);
    if (pg < 0) mem.set(g.subarray(from, from + n * D), gBuf >> 2);
    f64.set(mean.subarray(r0, r0 + n), meanAt >> 3);
    f64.set(rstd.subarray(r0, r0 + n), rstdAt >> 3);
    mem.fill(0, dwAt >> 2, (dwAt >> 2) + D);
    mem.fill(0, dbAt >> 2, (dbAt >> 2) + D);
    // dx overwrites g's copy (or is written where it lives)
    const [xAt, gAt, dxAt] = [px < 0 ? xBuf : px + from * 4, pg < 0 ? gBuf : pg + from * 4, pdx < 0 ? gBuf : pdx + from * 4];
    w.exports.layerNormBackwardRows(xAt, gAt, wAt, meanAt, rstdAt, dxAt, dwAt, dbAt, n, D, dx ? 1 : 0);
    if (dx && pdx < 0) dx.set(mem.subarray(gBuf >> 2, (gBuf >> 2) + n * D), from);
    for (let j = 0, p = dwAt >> 2, q = dbAt >> 2; j < D; j++) {
      dw[j] += mem[p + j];
      db[j] += mem[q + j];
    }
  }
}
