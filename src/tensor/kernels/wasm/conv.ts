// The convolution and pooling layout kernels on the wasm module (assembly/conv.ts, maxpool.ts, avgpool.ts). Whole
// [H, W] planes go through wasm memory in chunks of at most CHUNK_FLOATS floats per array (copy
// in, compute, copy out), which bounds the memory the module needs; im2col / col2im of a plane
// whose columns exceed a chunk go a few col rows (kernel offsets) at a time. Outputs that the js
// kernels accumulate into (dx) are copied in first, so `+=` means the same on both families.
// Float64 data, and a plane (or one col row) larger than a chunk, run the js kernel.
import type { AvgPoolMode, FloatArray, WindowGeometry } from '../types.js';
import * as js from '../js/im2col.js';
import { layout, memoryF32, memoryI32, wasmModule, type WasmModule } from './loader.js';

/** 1 MB per array, as the maps and the softmax: whatever the call's size, the module's memory stays bounded. */
const CHUNK_FLOATS = 1 << 18;

export function im2colWasm(x: FloatArray, col: FloatArray, planes: number, g: WindowGeometry): void {
  im2colOn(wasmModule(), x, col, planes, g);
}

export function col2imWasm(col: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry): void {
  col2imOn(wasmModule(), col, dx, planes, g);
}

export function maxPool2dWasm(x: FloatArray, out: FloatArray, argmax: Int32Array, planes: number, g: WindowGeometry): void {
  maxPool2dOn(wasmModule(), x, out, argmax, planes, g);
}

export function maxPool2dBackwardWasm(dy: FloatArray, argmax: Int32Array, dx: FloatArray, planes: number, g: WindowGeometry): void {
  maxPool2dBackwardOn(wasmModule(), dy, argmax, dx, planes, g);
}

export function avgPool2dWasm(x: FloatArray, out: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  avgPool2dOn(wasmModule(), x, out, planes, g, mode);
}

export function avgPool2dBackwardWasm(dy: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  avgPool2dBackwardOn(wasmModule(), dy, dx, planes, g, mode);
}

/** WindowGeometry as the assembly kernels take it: 12 i32 in this order. */
export const geometry = (g: WindowGeometry): number[] =>
  [g.inH, g.inW, g.outH, g.outW, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW];

/** The avg pooling arguments: the geometry without dilation, then countIncludePad, hasOverride, the override. */
const avgArgs = (g: WindowGeometry, mode: AvgPoolMode): number[] => {
  const override = mode.divisorOverride ?? null;
  return [...geometry(g).slice(0, 10), mode.countIncludePad ? 1 : 0, override === null ? 0 : 1, override ?? 0];
};

const f32 = (...arrays: FloatArray[]): boolean => arrays.every((a) => a instanceof Float32Array);

/** Planes per chunk for per-plane arrays of these sizes (floats), or 0 when one plane exceeds a chunk. */
const planesPerChunk = (...perPlane: number[]): number => Math.floor(CHUNK_FLOATS / Math.max(1, ...perPlane));

/**
 * How im2col / col2im walk the call: `planes` whole planes at a time with all K = kH·kW col rows,
 * or (when one plane's K·L floats exceed a chunk) one plane `rows` col rows at a time; null when
 * even a plane or one col row of L = outH·outW floats exceeds a chunk (js).
 */
function colPlan(g: WindowGeometry): { planes: number; rows: number } | null {
  const K = g.kernelH * g.kernelW, L = g.outH * g.outW, P = g.inH * g.inW;
  if (P > CHUNK_FLOATS || L > CHUNK_FLOATS) return null;
  if (K * L <= CHUNK_FLOATS) return { planes: planesPerChunk(K * L, P), rows: K };
  return { planes: 1, rows: Math.floor(CHUNK_FLOATS / L) };
}

/** im2colWasm on a given module (the tests run both builds through this). */
export function im2colOn(w: WasmModule | null, x: FloatArray, col: FloatArray, planes: number, g: WindowGeometry): void {
  const plan = colPlan(g);
  if (w === null || plan === null || !f32(x, col)) return js.im2col(x, col, planes, g);
  if (col.length === 0) return;
  const K = g.kernelH * g.kernelW, L = g.outH * g.outW, P = g.inH * g.inW;
  const np0 = Math.min(planes, plan.planes);
  const { offsets, end } = layout(w.heapBase, np0 * P, np0 * plan.rows * L);
  const mem = memoryF32(w, end);
  if (mem === null) return js.im2col(x, col, planes, g);
  const [xBuf, colBuf] = offsets;
  const geo = geometry(g);
  for (let p0 = 0; p0 < planes; p0 += plan.planes) {
    const np = Math.min(plan.planes, planes - p0);
    mem.set(x.subarray(p0 * P, (p0 + np) * P), xBuf >> 2);
    for (let k0 = 0; k0 < K; k0 += plan.rows) {
      const k1 = Math.min(K, k0 + plan.rows);
      w.exports.im2col(xBuf, colBuf, np, k0, k1, ...geo);
      // rows k0 … k1 of planes p0 … p0 + np: contiguous in col (np > 1 only with all K rows)
      col.set(mem.subarray(colBuf >> 2, (colBuf >> 2) + np * (k1 - k0) * L), (p0 * K + k0) * L);
    }
  }
}

/** col2imWasm on a given module: dx planes in, every chunk of their col rows added, dx planes out. */
export function col2imOn(w: WasmModule | null, col: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry): void {
  const plan = colPlan(g);
  if (w === null || plan === null || !f32(col, dx)) return js.col2im(col, dx, planes, g);
  if (col.length === 0 || dx.length === 0) return;
  const K = g.kernelH * g.kernelW, L = g.outH * g.outW, P = g.inH * g.inW;
  const np0 = Math.min(planes, plan.planes);
  const { offsets, end } = layout(w.heapBase, np0 * plan.rows * L, np0 * P);
  const mem = memoryF32(w, end);
  if (mem === null) return js.col2im(col, dx, planes, g);
  const [colBuf, dxBuf] = offsets;
  const geo = geometry(g);
  for (let p0 = 0; p0 < planes; p0 += plan.planes) {
    const np = Math.min(plan.planes, planes - p0);
    mem.set(dx.subarray(p0 * P, (p0 + np) * P), dxBuf >> 2);
    for (let k0 = 0; k0 < K; k0 += plan.rows) {
      const k1 = Math.min(K, k0 + plan.rows);
      const from = (p0 * K + k0) * L;
      mem.set(col.subarray(from, from + np * (k1 - k0) * L), colBuf >> 2);
      w.exports.col2im(colBuf, dxBuf, np, k0, k1, ...geo);
    }
    dx.set(mem.subarray(dxBuf >> 2, (dxBuf >> 2) + np * P), p0 * P);
  }
}

/** A per-plane array of a pooling call: `floats` per plane, copied into wasm memory (`into`) and/or back out (`back`). */
interface PlaneArray { data: FloatArray | Int32Array; floats: number; into: boolean; back: boolean }

/**
 * Runs `kernel(pointers, np)` over the call's planes a chunk at a time, each array copied in before
 * and/or out after; false when the module cannot have the memory (the caller runs js).
 */
function byPlaneChunks(w: WasmModule, planes: number, arrays: PlaneArray[], kernel: (ptrs: number[], np: number) => void): boolean {
  const chunk = planesPerChunk(...arrays.map((a) => a.floats));
  const n = Math.min(planes, chunk);
  const { offsets, end } = layout(w.heapBase, ...arrays.map((a) => n * a.floats));
  const f = memoryF32(w, end);
  if (f === null) return false;
  const views = arrays.map((a) => (a.data instanceof Int32Array ? memoryI32(w) : f));
  for (let p0 = 0; p0 < planes; p0 += chunk) {
    const np = Math.min(chunk, planes - p0);
    arrays.forEach((a, i) => { if (a.into) views[i].set(a.data.subarray(p0 * a.floats, (p0 + np) * a.floats), offsets[i] >> 2); });
    kernel(offsets, np);
    arrays.forEach((a, i) => { if (a.back) a.data.set(views[i].subarray(offsets[i] >> 2, (offsets[i] >> 2) + np * a.floats), p0 * a.floats); });
  }
  return true;
}

const planeIn = (data: FloatArray | Int32Array, floats: number): PlaneArray => ({ data, floats, into: true, back: false });
const planeOut = (data: FloatArray | Int32Array, floats: number): PlaneArray => ({ data, floats, into: false, back: true });
/** An output the js kernel adds into (dx): copied in and back, so `+=` means the same on both families. */
const planeInOut = (data: FloatArray, floats: number): PlaneArray => ({ data, floats, into: true, back: true });

/** maxPool2dWasm on a given module. */
export function maxPool2dOn(w: WasmModule | null, x: FloatArray, out: FloatArray, argmax: Int32Array, planes: number, g: WindowGeometry): void {
  const P = g.inH * g.inW, L = g.outH * g.outW;
  if (w === null || planesPerChunk(P, L) === 0 || !f32(x, out)) return js.maxPool2d(x, out, argmax, planes, g);
  if (out.length === 0) return;
  const geo = geometry(g);
  const ran = byPlaneChunks(w, planes, [planeIn(x, P), planeOut(out, L), planeOut(argmax, L)],
    ([xBuf, outBuf, argBuf], np) => w.exports.maxPool2d(xBuf, outBuf, argBuf, np, ...geo));
  if (!ran) js.maxPool2d(x, out, argmax, planes, g);
}

/** maxPool2dBackwardWasm on a given module. */
export function maxPool2dBackwardOn(w: WasmModule | null, dy: FloatArray, argmax: Int32Array, dx: FloatArray, planes: number, g: WindowGeometry): void {
  const P = g.inH * g.inW, L = g.outH * g.outW;
  if (w === null || planesPerChunk(P, L) === 0 || !f32(dy, dx)) return js.maxPool2dBackward(dy, argmax, dx, planes, g);
  if (dy.length === 0 || dx.length === 0) return;
  const ran = byPlaneChunks(w, planes, [planeIn(dy, L), planeIn(argmax, L), planeInOut(dx, P)],
    ([dyBuf, argBuf, dxBuf], np) => w.exports.maxPool2dBackward(dyBuf, argBuf, dxBuf, np, L, P));
  if (!ran) js.maxPool2dBackward(dy, argmax, dx, planes, g);
}

/** avgPool2dWasm on a given module. */
export function avgPool2dOn(w: WasmModule | null, x: FloatArray, out: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  const P = g.inH * g.inW, L = g.outH * g.outW;
  if (w === null || planesPerChunk(P, L) === 0 || !f32(x, out)) return js.avgPool2d(x, out, planes, g, mode);
  if (out.length === 0) return;
  const args = avgArgs(g, mode);
  const ran = byPlaneChunks(w, planes, [planeIn(x, P), planeOut(out, L)],
    ([xBuf, outBuf], np) => w.exports.avgPool2d(xBuf, outBuf, np, ...args));
  if (!ran) js.avgPool2d(x, out, planes, g, mode);
}

/** avgPool2dBackwardWasm on a given module. */
export function avgPool2dBackwardOn(w: WasmModule | null, dy: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  const P = g.inH * g.inW, L = g.outH * g.outW;
  if (w === null || planesPerChunk(P, L) === 0 || !f32(dy, dx)) return js.avgPool2dBackward(dy, dx, planes, g, mode);
  if (dy.length === 0 || dx.length === 0) return;
  const args = avgArgs(g, mode);
  const ran = byPlaneChunks(w, planes, [planeIn(dy, L), planeInOut(dx, P)],
    ([dyBuf, dxBuf], np) => w.exports.avgPool2dBackward(dyBuf, dxBuf, np, ...args));
  if (!ran) js.avgPool2dBackward(dy, dx, planes, g, mode);
}
