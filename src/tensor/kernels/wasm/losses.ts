// Cross-entropy forward and backward on the wasm module (assembly/rows.ts). The O(rows·C) work
// (max, exp, sums, the gradient row) runs in wasm over chunks of at most CHUNK_FLOATS logits; the
// O(rows) part (the target's term, ignored rows, per-row scales) stays here in float64, with the
// same formulas as the js kernel (src/tensor/kernels/js/losses.ts). Logits and their gradient are
// read and written where they are when they live in wasm memory (resident.ts).
import type { CrossEntropyArgs, FloatArray } from '../types.js';
import { crossEntropy as crossEntropyJs, crossEntropyBackward as crossEntropyBackwardJs } from '../js/losses.js';
import { layout, memoryF32, memoryF64, wasmModule, type WasmModule } from './loader.js';
import { residentPtr } from './resident.js';

/** 1 MB of logits per chunk, as the softmax's chunks (a row of a 30522-word vocabulary is 120 KB). */
const CHUNK_FLOATS = 1 << 18;
/** Floats per row in the backward's coefficient table: a, hi, b and one unused (16-byte rows). */
const COEF = 4;

export function crossEntropyWasm(args: CrossEntropyArgs, losses: Float64Array): void {
  crossEntropyOn(wasmModule(), args, losses);
}

export function crossEntropyBackwardWasm(args: CrossEntropyArgs, scale: number | Float64Array, dz: FloatArray): void {
  crossEntropyBackwardOn(wasmModule(), args, scale, dz);
}

/** Copies the class weights (or ones) as float32 to byte offset `at`; returns their float64 sum W. */
function placeWeights(mem: Float32Array, weight: ArrayLike<number> | null, C: number, at: number): number {
  const p = at >> 2;
  if (weight === null) {
    mem.fill(1, p, p + C);
    return C;
  }
  let sum = 0;
  for (let c = 0; c < C; c++) {
    mem[p + c] = weight[c];
    sum += weight[c];
  }
  return sum;
}

/** crossEntropyWasm on a given module (the tests run both builds through this). */
export function crossEntropyOn(w: WasmModule | null, args: CrossEntropyArgs, losses: Float64Array): void {
  const { logits: z, rows, classes: C, target: y, ignoreIndex, weight, smoothing: eps, lse } = args;
  if (w === null || !(z instanceof Float32Array) || rows === 0 || C === 0) return crossEntropyJs(args, losses);
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / C));
  const { offsets, end } = layout(w.heapBase, chunkRows * C, C, C, 2 * chunkRows, 2 * chunkRows);
  const mem = memoryF32(w, end);
  if (mem === null) return crossEntropyJs(args, losses);
  const f64 = memoryF64(w);
  const [zBuf, scratch, wAt, lseAt, smoothAt] = offsets;
  const pz = residentPtr(w, z);
  const weightSum = placeWeights(mem, weight, C, wAt);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    if (pz < 0) mem.set(z.subarray(r0 * C, (r0 + n) * C), zBuf >> 2);
    w.exports.crossEntropyRows(pz < 0 ? zBuf : pz + r0 * C * 4, wAt, lseAt, smoothAt, scratch, n, C, eps > 0 ? 1 : 0, weightSum);
    lse.set(f64.subarray(lseAt >> 3, (lseAt >> 3) + n), r0);
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      if (y[r] === ignoreIndex) {
        losses[r] = 0;
        continue;
      }
      // (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c), the sum from the kernel
      let loss = (1 - eps) * (weight ? weight[y[r]] : 1) * (lse[r] - z[r * C + y[r]]);
      if (eps > 0) loss += (eps / C) * f64[(smoothAt >> 3) + i];
      losses[r] = loss;
    }
  }
}

/** crossEntropyBackwardWasm on a given module. */
export function crossEntropyBackwardOn(w: WasmModule | null, args: CrossEntropyArgs, scale: number | Float64Array, dz: FloatArray): void {
  const { logits: z, rows, classes: C, target: y, ignoreIndex, weight, smoothing: eps, lse } = args;
  if (w === null || !(z instanceof Float32Array) || !(dz instanceof Float32Array) || rows === 0 || C === 0) {
    return crossEntropyBackwardJs(args, scale, dz);
  }
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / C));
  const { offsets, end } = layout(w.heapBase, chunkRows * C, C, COEF * chunkRows);
  const mem = memoryF32(w, end);
  if (mem === null) return crossEntropyBackwardJs(args, scale, dz);
  const [zBuf, wAt, coefAt] = offsets;
  const pz = residentPtr(w, z), pdz = residentPtr(w, dz);
  const weightSum = placeWeights(mem, weight, C, wAt);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    if (pz < 0) mem.set(z.subarray(r0 * C, (r0 + n) * C), zBuf >> 2);
    // per row: dz_c = a·exp(z_c − hi) − b·w_c with a = s·A·exp(hi − lse), A = (1 − ε)·w_y + (ε/C)·W
    for (let i = 0, p = coefAt >> 2; i < n; i++, p += COEF) {
      const r = r0 + i;
      const s = typeof scale === 'number' ? scale : scale[r];
      const ignored = y[r] === ignoreIndex;
      const A = ignored ? 0 : (1 - eps) * (weight ? weight[y[r]] : 1) + (eps / C) * weightSum;
      const hi = Math.fround(lse[r]);
      mem[p] = s * A * Math.exp(hi - lse[r]);
      mem[p + 1] = hi;
      mem[p + 2] = ignored ? 0 : (s * eps) / C;
    }
    // dz overwrites z's copy, unless either lives in wasm memory
    w.exports.crossEntropyBackwardRows(pz < 0 ? zBuf : pz + r0 * C * 4, pdz < 0 ? zBuf : pdz + r0 * C * 4, wAt, coefAt, n, C);
    if (pdz < 0) dz.set(mem.subarray(zBuf >> 2, (zBuf >> 2) + n * C), r0 * C);
    for (let r = r0; r < r0 + n; r++) {
      const b = r * C;
      if (y[r] === ignoreIndex) dz.fill(0, b, b + C); // as js: exact zeros, whatever the logits
      else dz[b + y[r]] -= (typeof scale === 'number' ? scale : scale[r]) * (1 - eps) * (weight ? weight[y[r]] : 1);
    }
  }
}
