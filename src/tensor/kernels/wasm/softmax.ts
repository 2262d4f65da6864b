// Row softmax forward and backward on the wasm module. Rows go through wasm memory in chunks of
// about CHUNK_FLOATS, so a chunk is copied in, computed and copied out while it is still in cache:
// main memory is read and written once, as by a kernel working in place.
import type { FloatArray } from '../types.js';
import { softmaxJs, softmaxBackwardJs } from '../js/softmax.js';
import { layout, memoryF32, wasmModule, type WasmModule } from './loader.js';

const CHUNK_FLOATS = 1 << 20; // 4 MB per array: measured best of 32K…4M floats (large copies run faster)

export function softmaxWasm(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  softmaxOn(wasmModule(), x, out, rows, cols);
}

export function softmaxBackwardWasm(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  softmaxBackwardOn(wasmModule(), y, dy, dx, rows, cols);
}

/** softmaxWasm on a given module (the tests run both builds through this). */
export function softmaxOn(w: WasmModule | null, x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  if (w === null || !(x instanceof Float32Array) || !(out instanceof Float32Array)) return softmaxJs(x, out, rows, cols);
  if (rows === 0 || cols === 0) return;
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
  const { offsets, end } = layout(w.heapBase, chunkRows * cols);
  const mem = memoryF32(w, end);
  if (mem === null) return softmaxJs(x, out, rows, cols);
  const buf = offsets[0];
  const at = buf >> 2;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const len = Math.min(chunkRows, rows - r0) * cols;
    const from = r0 * cols;
    mem.set(x.subarray(from, from + len), at);
    w.exports.softmaxRows(buf, buf, len / cols, cols); // in place
    out.set(mem.subarray(at, at + len), from);
  }
}

export function softmaxBackwardOn(w: WasmModule | null, y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  if (w === null || !(y instanceof Float32Array) || !(dy instanceof Float32Array) || !(dx instanceof Float32Array)) {
    return softmaxBackwardJs(y, dy, dx, rows, cols);
  }
  if (rows === 0 || cols === 0) return;
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
  const { offsets, end } = layout(w.heapBase, chunkRows * cols, chunkRows * cols);
  const mem = memoryF32(w, end);
  if (mem === null) return softmaxBackwardJs(y, dy, dx, rows, cols);
  const [yBuf, gBuf] = offsets;
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const len = Math.min(chunkRows, rows - r0) * cols;
    const from = r0 * cols;
    mem.set(y.subarray(from, from + len), yBuf >> 2);
    mem.set(dy.subarray(from, from + len), gBuf >> 2);
    w.exports.softmaxBackwardRows(yBuf, gBuf, gBuf, len / cols, cols); // dx overwrites dy's copy
    dx.set(mem.subarray(gBuf >> 2, (gBuf >> 2) + len), from);
  }
}
