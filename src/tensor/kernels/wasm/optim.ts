// Optimizer updates on the wasm module (assembly/optim.ts): θ, the gradient and the optimizer's
// state are updated where they are when all live in wasm memory (resident.ts); else they go
// through wasm memory in chunks of at most CHUNK_FLOATS per array, are updated in place there,
// and θ and the state are copied back; with the worker, large Adam updates are split or streamed
// (this thread copies while the worker updates). float64 parameters run on the js kernels.
import type { AdamArgs, FloatArray } from '../types.js';
import { adamUpdate as adamJs, sgdMomentumUpdate as sgdMomentumJs, sgdUpdate as sgdJs } from '../js/optim.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { streamBlocks } from './stream.js';
import { runResident } from './jobs.js';
import { residentPtrs } from './resident.js';

/** 256 KB per array: four arrays (Adam) then fit in an L2 cache of 1 MB. */
const CHUNK_FLOATS = 1 << 16;
/**
 * With the worker, a large update is streamed (jobs.ts runStreamed): this thread copies chunk
 * after chunk in and out while the worker updates the chunks already in, through this many sets
 * of chunk buffers.
 */
const STREAM_SLOTS = 4;

const allF32 = (...arrays: FloatArray[]): boolean => arrays.every((a) => a instanceof Float32Array);

export function sgdUpdateWasm(theta: FloatArray, grad: FloatArray, lr: number, weightDecay: number): void {
  sgdUpdateOn(wasmModule(), theta, grad, lr, weightDecay);
}

export function sgdMomentumUpdateWasm(
  theta: FloatArray, grad: FloatArray, buf: FloatArray, first: boolean,
  lr: number, momentum: number, dampening: number, nesterov: boolean, weightDecay: number,
): void {
  sgdMomentumUpdateOn(wasmModule(), theta, grad, buf, first, lr, momentum, dampening, nesterov, weightDecay);
}

export function adamUpdateWasm(args: AdamArgs): void {
  adamUpdateOn(wasmModule(), args);
}

/**
 * Runs `step(ptrs, n)` over chunks of `arrays` (n floats of each at byte offsets `ptrs`): copies
 * every array in, and the first `written` ones back. Returns false (nothing done) if the memory
 * cannot hold a chunk.
 */
function chunked(w: WasmModule, arrays: FloatArray[], written: number, step: (ptrs: number[], n: number) => void): boolean {
  const total = arrays[0].length;
  const resident = residentPtrs(w, ...arrays);
  if (resident) return (step(resident, total), true);
  const chunk = Math.min(CHUNK_FLOATS, total);
  const { offsets, end } = layout(w.heapBase, ...arrays.map(() => chunk));
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  for (let from = 0; from < total; from += chunk) {
    const n = Math.min(chunk, total - from);
    arrays.forEach((a, i) => mem.set(a.subarray(from, from + n), offsets[i] >> 2));
    step(offsets, n);
    for (let i = 0; i < written; i++) arrays[i].set(mem.subarray(offsets[i] >> 2, (offsets[i] >> 2) + n), from);
  }
  return true;
}

/**
 * Whether an Adam update of n floats is streamed with the worker (two chunks or more). SGD is not:
 * one multiply-add per element is too little to hide the copies behind (streamed, it ran 0.9–1.2×).
 */
const streaming = (w: WasmModule, n: number): boolean => w.shared && threadsRequested() && n >= 2 * CHUNK_FLOATS;

export function sgdUpdateOn(w: WasmModule | null, theta: FloatArray, grad: FloatArray, lr: number, weightDecay: number): void {
  if (w === null || !allF32(theta, grad) || theta.length === 0) return sgdJs(theta, grad, lr, weightDecay);
  const done = chunked(w, [theta, grad], 1, ([t, g], n) => w.exports.sgdStep(t, g, n, lr, weightDecay));
  if (!done) sgdJs(theta, grad, lr, weightDecay);
}

export function sgdMomentumUpdateOn(
  w: WasmModule | null, theta: FloatArray, grad: FloatArray, buf: FloatArray, first: boolean,
  lr: number, momentum: number, dampening: number, nesterov: boolean, weightDecay: number,
): void {
  if (w === null || !allF32(theta, grad, buf) || theta.length === 0) {
    return sgdMomentumJs(theta, grad, buf, first, lr, momentum, dampening, nesterov, weightDecay);
  }
  // θ and the buffer are written back: they come first
  const done = chunked(w, [theta, buf, grad], 2, ([t, b, g], n) =>
    w.exports.sgdMomentumStep(t, g, b, n, first ? 1 : 0, lr, momentum, 1 - dampening, nesterov ? 1 : 0, weightDecay));
  if (!done) sgdMomentumJs(theta, grad, buf, first, lr, momentum, dampening, nesterov, weightDecay);
}

export function adamUpdateOn(w: WasmModule | null, args: AdamArgs): void {
  const { theta, grad, m, v, stepSize, beta1, beta2, eps, bc2Sqrt, l2, decay } = args;
  if (w === null || !allF32(theta, grad, m, v) || theta.length === 0) return adamJs(args);
  const params = [stepSize, beta1, 1 - beta1, beta2, 1 - beta2, eps, 1 / bc2Sqrt, l2, decay];
  const resident = residentPtrs(w, theta, m, v, grad);
  if (resident && runResident(w, streaming(w, theta.length), theta.length, 4, (from, n, at) => {
    const [t, mp, vp, g] = resident.map((p) => p + from * 4);
    return { op: 'adamStepAt', args: [t, g, mp, vp, n, at] };
  }, params)) return;
  if (streaming(w, theta.length) && streamBlocks(w, {
    inputs: [theta, m, v, grad], outputs: [[0, theta], [1, m], [2, v]], block: CHUNK_FLOATS, slots: STREAM_SLOTS, params,
    call: ([t, mp, vp, g], n, at) => ({ op: 'adamStepAt', args: [t, g, mp, vp, n, at] }),
  })) return;
  const done = chunked(w, [theta, m, v, grad], 3, ([t, mp, vp, g], n) =>
    w.exports.adamStep(t, g, mp, vp, n, stepSize, beta1, 1 - beta1, beta2, 1 - beta2, eps, 1 / bc2Sqrt, l2, decay));
  if (!done) adamJs(args);
}
