// Row gathers and scatter-adds on the wasm module (assembly/gather.ts): indexSelect / embedding
// forward (gatherRows) and their gradients (scatterAddRows). The table lives in JS, so only the
// rows a call touches go into wasm memory: per block of the outer dim, the rows min … max of the
// indices (their range), or, for a scatter-add into a table whose range exceeds a chunk (a 30522-
// or 50257-row vocabulary), each distinct row it adds into, copied in, added to and copied back.
// Every array in wasm memory holds at most CHUNK_FLOATS floats, whatever the call's or the table's
// size. Measured (bench/gather.ts): js's gather is a subarray + set per row (~40 ns, then memcpy
// speed), so wasm wins on short rows only (inner 1: 10–13×, 16: 3.5–6×, 128: 1.1×, 256 and up:
// js, e.g. every embedding but W5's); js's scatter-add is a scalar loop (~2 ns a float) that
// wasm's f32x4 adds beat 1.5–5× over a range (W5's wte gradient 4.5×), but one distinct row at a
// time only on rows of ~768 (GPT-2's wte gradient 1.2–2×; BERT's rows of 128: a tie, js). `COST`
// estimates each way per call; float64 and int data, and indices outside [0, len), run js.
import type { TypedArray } from '../../dtype.js';
import * as js from '../js/layout.js';
import { layout, memoryF32, memoryI32, wasmModule, type WasmModule } from './loader.js';

/** 1 MB per array, as the maps, the convolution and the layout kernels. */
const CHUNK_FLOATS = 1 << 18;
/**
 * Rough costs in ns on the 2-vCPU dev host (`npx tsx bench/gather.ts`): js per row (a subarray +
 * set, or the add loop's setup) and per float; wasm a fixed cost per call (buffers, views, the
 * index pass), per float copied in or out, per row and per float of its loop, and per distinct
 * row copied in and back one by one, whose floats are mostly cache misses in a large table.
 */
const COST = {
  jsRow: 40, jsFloat: 0.06, jsAddRow: 2, jsAddFloat: 1.9,
  wasmCall: 1300, wasmCopyFloat: 0.1, wasmRow: 3, wasmFloat: 0.15, wasmTouchedRow: 85, wasmTouchedFloat: 1.5,
};


export function gatherRowsWasm(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray): void {
  gatherRowsOn(wasmModule(), src, outer, len, inner, index, out);
}

export function scatterAddRowsWasm(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray, skip: number): void {
  scatterAddRowsOn(wasmModule(), src, outer, len, inner, index, out, skip);
}

/** Smallest and largest index[r] other than `skip`; null when every row is skipped. */
function rangeOf(index: Int32Array, skip: number): { min: number; max: number } | null {
  let min = Infinity, max = -Infinity;
  for (let r = 0; r < index.length; r++) {
    const i = index[r];
    if (i === skip) continue;
    if (i < min) min = i;
    if (i > max) max = i;
  }
  return min === Infinity ? null : { min, max };
}

/**
 * Where a call's table rows sit in wasm memory: per outer index the rows min … min + rangeRows − 1,
 * in planes of `planeRows` rows. planeRows = len (whole planes, when the rows between two outer
 * indices' ranges cost less to copy than a set call) lets a block of planes go in one copy.
 */
interface Rows { min: number; rangeRows: number; planeRows: number; whole: boolean }

function rowsOf(outer: number, len: number, inner: number, min: number, rangeRows: number): Rows {
  const whole = outer > 1 && len * inner <= CHUNK_FLOATS && (len - rangeRows) * inner * COST.wasmCopyFloat < COST.jsRow;
  return { min, rangeRows, planeRows: whole ? len : rangeRows, whole };
}

/** ns to copy the rows of `outer` planes one way: a set per plane, or per block of whole planes. */
function rowsCopyNs(outer: number, inner: number, rows: Rows): number {
  const sets = !rows.whole ? outer : Math.ceil(outer / Math.max(1, Math.floor(CHUNK_FLOATS / (rows.planeRows * inner))));
  return COST.jsRow * sets + COST.wasmCopyFloat * outer * rows.planeRows * inner;
}

/** Copies the rows of planes o0 … o0 + no − 1 between the table and wasm memory from float `at`, either way. */
function moveRows(toWasm: boolean, mem: Float32Array, at: number, table: Float32Array, o0: number, no: number, len: number, inner: number, rows: Rows): void {
  const { min, rangeRows, whole } = rows;
  // whole planes: one span from row min of plane o0 to the last range row of plane o0 + no − 1
  const [sets, floats] = whole ? [1, ((no - 1) * len + rangeRows) * inner] : [no, rangeRows * inner];
  for (let o = 0; o < sets; o++) {
    const from = ((o0 + o) * len + min) * inner, to = at + o * floats;
    if (toWasm) mem.set(table.subarray(from, from + floats), to);
    else table.set(mem.subarray(to, to + floats), from);
  }
}

/**
 * How a call of `count` rows per outer index goes through wasm memory with `planeFloats` table
 * floats per outer index in it: `outers` outer indices at a time with all their rows, or (when one
 * outer index's rows exceed a chunk) one at a time, `rows` of its rows per kernel call.
 */
function blocks(outer: number, count: number, inner: number, planeFloats: number): { outers: number; rows: number } {
  const rows = Math.min(count, Math.floor(CHUNK_FLOATS / inner));
  if (rows < count) return { outers: 1, rows };
  return { outers: Math.max(1, Math.min(outer, Math.floor(CHUNK_FLOATS / Math.max(planeFloats, count * inner)))), rows };
}

/** ns of wasm's part common to both kernels: the call, the n floats of src or out copied, its loop over the rows. */
const loopNs = (rows: number, n: number): number => COST.wasmCall + COST.wasmCopyFloat * n + COST.wasmRow * rows + COST.wasmFloat * n;

/**
 * gatherRowsWasm on a given module (the tests run both builds through this; gated = false skips
 * the cost estimate). js when the indices' range of rows exceeds a chunk: copying the rows one by
 * one is what the js kernel does.
 */
export function gatherRowsOn(w: WasmModule | null, src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray, gated = true): void {
  const fallback = (): void => js.gatherRows(src, outer, len, inner, index, out);
  if (w === null || !(src instanceof Float32Array) || !(out instanceof Float32Array)) return fallback();
  const count = index.length, n = outer * count * inner, jsNs = COST.jsRow * outer * count + COST.jsFloat * n;
  if (n === 0) return;
  // wasm's cost without the table rows to copy in: long rows go to js here, before the pass over the indices
  if (inner > CHUNK_FLOATS || (gated && loopNs(outer * count, n) >= jsNs)) return fallback();
  const range = rangeOf(index, NaN);
  if (range === null || range.min < 0 || range.max >= len) return fallback(); // out of range: whatever js does
  const rows = rowsOf(outer, len, inner, range.min, range.max - range.min + 1);
  if (rows.rangeRows * inner > CHUNK_FLOATS || (gated && loopNs(outer * count, n) + rowsCopyNs(outer, inner, rows) >= jsNs)) return fallback();
  const planeFloats = rows.planeRows * inner, { outers, rows: perCall } = blocks(outer, count, inner, planeFloats);
  const { offsets, end } = layout(w.heapBase, outers * planeFloats, outers * perCall * inner, perCall);
  const mem = memoryF32(w, end);
  if (mem === null) return fallback();
  const [rowsBuf, outBuf, indexBuf] = offsets, ints = memoryI32(w), kernels = w.exports;
  for (let o0 = 0; o0 < outer; o0 += outers) {
    const no = Math.min(outers, outer - o0);
    moveRows(true, mem, rowsBuf >> 2, src, o0, no, len, inner, rows);
    for (let r0 = 0; r0 < count; r0 += perCall) {
      const nr = Math.min(perCall, count - r0);
      ints.set(index.subarray(r0, r0 + nr), indexBuf >> 2);
      kernels.gatherRows(rowsBuf, no, rows.planeRows, inner, indexBuf, nr, rows.min, outBuf);
      // rows r0 … r0 + nr of outer indices o0 … o0 + no: contiguous in out (no > 1 only with all rows)
      out.set(mem.subarray(outBuf >> 2, (outBuf >> 2) + no * nr * inner), (o0 * count + r0) * inner);
    }
  }
}

/**
 * How a scatter-add should run: 'range' (each outer index's rows min … max copied in and back),
 * 'touched' (each distinct row copied in and back: at most `count` per outer index), or 'js'.
 */
function scatterMode(outer: number, count: number, inner: number, rows: Rows, gated: boolean): 'range' | 'touched' | 'js' {
  const n = outer * count * inner, loop = loopNs(outer * count, n), touched = outer * Math.min(count, rows.rangeRows);
  const rangeNs = rows.rangeRows * inner <= CHUNK_FLOATS ? loop + 2 * rowsCopyNs(outer, inner, rows) : Infinity;
  const touchedNs = loop + touched * (COST.wasmTouchedRow + COST.wasmTouchedFloat * inner);
  const best = rangeNs <= touchedNs ? 'range' : 'touched';
  return !gated || Math.min(rangeNs, touchedNs) < COST.jsAddRow * outer * count + COST.jsAddFloat * n ? best : 'js';
}

/** scatterAddRowsWasm on a given module (gated = false skips the js choice of `scatterMode`). */
export function scatterAddRowsOn(w: WasmModule | null, src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray, skip: number, gated = true): void {
  const fallback = (): void => js.scatterAddRows(src, outer, len, inner, index, out, skip);
  if (w === null || !(src instanceof Float32Array) || !(out instanceof Float32Array) || inner > CHUNK_FLOATS) return fallback();
  const count = index.length;
  if (outer * count * inner === 0) return;
  const range = rangeOf(index, skip);
  if (range === null) return; // every row skipped
  if (range.min < 0 || range.max >= len) return fallback();
  const rows = rowsOf(outer, len, inner, range.min, range.max - range.min + 1);
  const mode = scatterMode(outer, count, inner, rows, gated);
  const ran = mode === 'range' ? scatterRange(w, src, outer, len, inner, index, out, skip, rows)
    : mode === 'touched' && scatterTouched(w, src, outer, len, inner, index, out, skip);
  if (!ran) fallback();
}

/** Each outer index's rows min … max in wasm memory: copied in, added into by every chunk of src rows, copied back. */
function scatterRange(w: WasmModule, src: Float32Array, outer: number, len: number, inner: number, index: Int32Array, out: Float32Array, skip: number, rows: Rows): boolean {
  const count = index.length, planeFloats = rows.planeRows * inner;
  const { outers, rows: perCall } = blocks(outer, count, inner, planeFloats);
  const { offsets, end } = layout(w.heapBase, outers * planeFloats, outers * perCall * inner, perCall);
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  const [rowsBuf, srcBuf, indexBuf] = offsets, ints = memoryI32(w), kernels = w.exports;
  for (let o0 = 0; o0 < outer; o0 += outers) {
    const no = Math.min(outers, outer - o0);
    moveRows(true, mem, rowsBuf >> 2, out, o0, no, len, inner, rows);
    for (let r0 = 0; r0 < count; r0 += perCall) {
      const nr = Math.min(perCall, count - r0), from = (o0 * count + r0) * inner;
      ints.set(index.subarray(r0, r0 + nr), indexBuf >> 2);
      mem.set(src.subarray(from, from + no * nr * inner), srcBuf >> 2);
      kernels.scatterAddRows(srcBuf, no, rows.planeRows, inner, indexBuf, nr, rows.min, skip, rowsBuf);
    }
    moveRows(false, mem, rowsBuf >> 2, out, o0, no, len, inner, rows);
  }
  return true;
}

/** Slot of each table row in the touched-rows buffer, −1 when absent; grows to the largest table's rows (4 bytes a row, 1/inner of the table). */
let slotOf = new Int32Array(0);

/**
 * Each chunk of src rows with only the distinct table rows it adds into: those copied into slots
 * (in first-seen order), the kernel run on slot numbers (skipped rows get slot −1), the slots copied back.
 */
function scatterTouched(w: WasmModule, src: Float32Array, outer: number, len: number, inner: number, index: Int32Array, out: Float32Array, skip: number): boolean {
  const count = index.length, rows = Math.min(count, Math.floor(CHUNK_FLOATS / inner));
  const { offsets, end } = layout(w.heapBase, rows * inner, rows * inner, rows);
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  const [slotsBuf, srcBuf, indexBuf] = offsets, ints = memoryI32(w), kernels = w.exports;
  if (slotOf.length < len) slotOf = new Int32Array(len).fill(-1);
  const tableRows: number[] = []; // the table row in each slot
  for (let o = 0; o < outer; o++) {
    for (let r0 = 0; r0 < count; r0 += rows) {
      const nr = Math.min(rows, count - r0), from = (o * count + r0) * inner;
      tableRows.length = 0;
      for (let r = 0; r < nr; r++) {
        const i = index[r0 + r];
        let slot = -1; // a skipped row: the kernel below leaves slot −1 out
        if (i !== skip) {
          slot = slotOf[i];
          if (slot < 0) {
            slot = slotOf[i] = tableRows.length;
            tableRows.push(i);
            const at = (o * len + i) * inner;
            mem.set(out.subarray(at, at + inner), (slotsBuf >> 2) + slot * inner);
          }
        }
        ints[(indexBuf >> 2) + r] = slot;
      }
      mem.set(src.subarray(from, from + nr * inner), srcBuf >> 2);
      kernels.scatterAddRows(srcBuf, 1, tableRows.length, inner, indexBuf, nr, 0, -1, slotsBuf);
      for (let slot = 0; slot < tableRows.length; slot++) {
        const at = (slotsBuf >> 2) + slot * inner;
        out.set(mem.subarray(at, at + inner), (o * len + tableRows[slot]) * inner);
        slotOf[tableRows[slot]] = -1;
      }
    }
  }
  return true;
}
