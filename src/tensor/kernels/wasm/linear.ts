// A linear layer's gradients in one call on the wasm module: g, x and W are copied in once, and
// dX = g·W, dW = gᵀ·x and db = Σ_rows g run as pieces of one job (both threads claim them), where
// three kernel calls would copy g in three times and wake the worker twice. Each product is cut
// as matmul.ts cuts a single product; finished rows go out while the other pieces run. An operand
// or gradient that lives in wasm memory (resident.ts) is read or written where it is.
import type { FloatArray, LinearBackwardArgs } from '../types.js';
import { linearBackward as linearBackwardJs, linearBackwardWith } from '../js/linear.js';
import { layout, memoryF32, memoryF64, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { gemmScratchFloats, matmulOn, productPieces, productPlan, type ProductAt } from './matmul.js';
import { CALL_WORDS, THREAD_MIN_FLOPS, type KernelCall } from './threads.js';
import { runPieces } from './jobs.js';
import { placesOf } from './resident.js';

/**
 * Above this many floats of W (64 MB), the three run as separate calls: the copy of g that one
 * call saves is small beside such products, and holding W, dW and g at once would add their
 * size to the peak memory (GPT-2 small's tied head: +140 MB resident).
 */
const SEPARATE_FLOATS = 1 << 24;

export function linearBackwardWasm(args: LinearBackwardArgs, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null): void {
  linearBackwardOn(wasmModule(), args, dx, dw, db);
}

/** linearBackwardWasm on a given module (the tests run both builds through this). */
export function linearBackwardOn(w: WasmModule | null, args: LinearBackwardArgs, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null): void {
  const { g, x, w: weight, rows, inF, outF } = args;
  const f32 = (a: FloatArray | null) => a === null || a instanceof Float32Array;
  if (w === null || !f32(g) || !f32(x) || !f32(weight) || !f32(dx) || !f32(dw) || !f32(db)) return linearBackwardJs(args, dx, dw, db);
  if (rows === 0 || inF === 0 || outF === 0) return linearBackwardJs(args, dx, dw, db); // nothing to multiply: zeros, on js
  // one product at a time, so that wasm memory holds one product's operands, not both
  if (weight.length > SEPARATE_FLOATS) return linearBackwardWith((product) => matmulOn(w, product))(args, dx, dw, db);
  const flops = 2 * rows * inF * outF * ((dx ? 1 : 0) + (dw ? 1 : 0));
  const threaded = w.shared && threadsRequested() && flops >= THREAD_MIN_FLOPS;
  const e = w.exports;
  // dX [rows, inF] = g [rows, outF] · W [outF, inF];  dW [outF, inF] = gᵀ · x [rows, inF]
  const dxShape = { m: rows, n: inF, k: outF, transA: false, transB: false, lda: outF, ldb: inF };
  const dwShape = { m: outF, n: inF, k: rows, transA: true, transB: false, lda: outF, ldb: inF };
  const dxPlan = productPlan(e, dxShape, threaded), dwPlan = productPlan(e, dwShape, threaded);
  const scratchFloats = gemmScratchFloats(e);
  const pieces = (dx ? dxPlan.pieces : 0) + (dw ? dwPlan.pieces : 0) + (db ? 1 : 0);
  // x is read only for dW, W only for dX
  const { at, room } = placesOf(w, [g, dw ? x : null, dx ? weight : null, dx, dw]);
  const [gAt, xAt, wAt, dxAt, dwAt] = at;
  const { offsets, end } = layout(
    w.heapBase, ...room, db ? 2 * outF : 0,
    dx ? dxPlan.packedFloats : 0, dw ? dwPlan.packedFloats : 0, ...scratchFloats, ...(threaded ? [...scratchFloats, pieces * CALL_WORDS] : []),
  );
  const mem = memoryF32(w, end);
  if (mem === null) return linearBackwardJs(args, dx, dw, db); // more than wasm32's 4 GiB
  const [gPtr, xPtr, wPtr, dxPtr, dwPtr] = at.map((p, i) => (p < 0 ? offsets[i] : p));
  const [dbPtr, dxPacked, dwPacked, packA, packB, edge] = offsets.slice(5);
  const scratch = { packA, packB, edge };
  const calls: KernelCall[] = [];
  const done: (() => void)[] = []; // what to copy out when each call is done ([] entries: at the end)
  const atEnd: (() => void)[] = [];
  const packs: (() => void)[] = [];
  const addProduct = (out: FloatArray, p: ProductAt, plan: ReturnType<typeof productPlan>, packed: number, inPlace: boolean) => {
    const pieces = productPieces(e, p, plan, scratch, packed);
    const copyRows = (r0: number, r1: number) => {
      if (!inPlace) out.set(mem.subarray((p.cp >> 2) + r0 * p.n, (p.cp >> 2) + r1 * p.n), r0 * p.n);
    };
    pieces.calls.forEach((call, i) => {
      calls.push(call);
      const rows = pieces.rows[i];
      done.push(rows ? () => copyRows(rows[0], rows[1]) : () => {});
    });
    if (pieces.rows.some((r) => r === null)) atEnd.push(() => copyRows(0, p.m));
    packs.push(pieces.pack);
  };
  if (dx) addProduct(dx, { ap: gPtr, bp: wPtr, cp: dxPtr, ...dxShape }, dxPlan, dxPacked, dxAt >= 0);
  if (dw) addProduct(dw, { ap: gPtr, bp: xPtr, cp: dwPtr, ...dwShape }, dwPlan, dwPacked, dwAt >= 0);
  if (db) {
    calls.push({ op: 'reduceSum', args: [gPtr, dbPtr, 1, rows, outF, 0] }); // float64 sums of the columns of g
    done.push(() => db.set(memoryF64(w).subarray(dbPtr >> 3, (dbPtr >> 3) + outF)));
  }
  const copyIn = () => {
    if (gAt < 0) mem.set(g, gPtr >> 2);
    if (dw && xAt < 0) mem.set(x, xPtr >> 2);
    if (dx && wAt < 0) mem.set(weight, wPtr >> 2);
    for (const pack of packs) pack();
  };
  runPieces(w, threaded, calls, offsets[14], offsets[11] - offsets[8], copyIn, (i) => done[i]()); // the worker's scratch is the second set
  for (const copy of atEnd) copy();
}
