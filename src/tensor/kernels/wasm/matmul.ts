// out[b] = op(A_b) · op(B_b) on the wasm module: copy the used ranges of a and b into wasm memory,
// run one gemm (or gemv when m == 1 or n == 1) per batch entry there, copy C back.
import type { MatmulArgs } from '../types.js';
import { matmulJs } from '../js/matmul.js';
import { layout, memoryF32, wasmModule, type WasmModule } from './loader.js';

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
  const { a, b, out, batch, m, n, k, transA, transB, aOffsets, bOffsets } = args;
  if (w === null || !(a instanceof Float32Array) || !(b instanceof Float32Array) || !(out instanceof Float32Array)) {
    matmulJs(args); // float64 (or no module): the reference kernel
    return;
  }
  if (batch === 0 || m === 0 || n === 0) return;
  if (k === 0) {
    out.fill(0, 0, batch * m * n);
    return;
  }
  const [aLo, aHi] = usedRange(aOffsets, batch, m * k);
  const [bLo, bHi] = usedRange(bOffsets, batch, k * n);
  const e = w.exports;
  const { offsets, end } = layout(w.heapBase, aHi - aLo, bHi - bLo, batch * m * n, e.packAFloats(), e.packBFloats(), e.edgeFloats());
  const mem = memoryF32(w, end);
  if (mem === null) {
    matmulJs(args); // more than wasm32's 4 GiB
    return;
  }
  const [aPtr, bPtr, cPtr, packA, packB, edge] = offsets;
  mem.set(a.subarray(aLo, aHi), aPtr >> 2);
  mem.set(b.subarray(bLo, bHi), bPtr >> 2);
  for (let i = 0; i < batch; i++) {
    const ap = aPtr + (aOffsets[i] - aLo) * 4;
    const bp = bPtr + (bOffsets[i] - bLo) * 4;
    const cp = cPtr + i * m * n * 4;
    product(w, ap, bp, cp, m, n, k, transA, transB, packA, packB, edge);
  }
  out.set(mem.subarray(cPtr >> 2, (cPtr >> 2) + batch * m * n));
}

/** One product inside wasm memory; a vector operand goes to a matrix-vector kernel. */
function product(
  w: WasmModule, ap: number, bp: number, cp: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, packA: number, packB: number, edge: number,
): void {
  const e = w.exports;
  if (m === 1) {
    // c[1, n] = a[k] · op(B): a is contiguous whether or not it is transposed.
    if (transB) e.gemvRows(bp, k, ap, cp, n, k); // B stored [n, k]: c_j = B_j · a
    else e.gemvCols(bp, n, ap, cp, n, k); // B stored [k, n]: c = Σ_p a_p B_p
  } else if (n === 1) {
    // c[m, 1] = op(A) · b[k]
    if (transA) e.gemvCols(ap, m, bp, cp, m, k); // A stored [k, m]
    else e.gemvRows(ap, k, bp, cp, m, k); // A stored [m, k]
  } else {
    e.gemm(ap, transA ? 1 : 0, transA ? m : k, bp, transB ? 1 : 0, transB ? k : n, cp, n, m, n, k, packA, packB, edge);
  }
}
