// Streaming flat arrays through wasm memory with the worker (jobs.ts runStreamed), for
// memory-bound kernels: block i of every array goes into buffer set i mod `slots`, this thread
// copies blocks in and results out while either thread computes the blocks already in.
import type { FloatArray } from '../types.js';
import { layout, memoryF32, type WasmModule } from './loader.js';
import { CALL_WORDS, type KernelCall } from './threads.js';
import { runStreamed } from './jobs.js';

export interface Stream {
  /** The arrays copied in, all of one length. */
  inputs: FloatArray[];
  /** After a block: the buffer of input k is copied out into array `to` (k, to). */
  outputs: [number, FloatArray][];
  /** Elements per block (a multiple of the kernel's row length). */
  block: number;
  slots: number;
  /** Float numbers the kernel reads from memory (its call table holds integers only). */
  params?: number[];
  /** The piece for one block: its buffers (byte offsets, one per input), its length, where the params are. */
  call: (ptrs: number[], n: number, paramsAt: number) => KernelCall;
}

/** Runs the stream; false (nothing done) when wasm memory cannot hold it. */
export function streamBlocks(w: WasmModule, { inputs, outputs, block, slots, params = [], call }: Stream): boolean {
  const total = inputs[0].length, count = Math.ceil(total / block);
  const { offsets, end } = layout(w.heapBase, params.length, count * CALL_WORDS, ...Array(slots * inputs.length).fill(block));
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  const [paramsAt, table] = offsets;
  mem.set(params, paramsAt >> 2);
  const buffers = (i: number) => offsets.slice(2 + (i % slots) * inputs.length, 2 + (i % slots + 1) * inputs.length);
  const span = (i: number) => [i * block, Math.min(total, (i + 1) * block)];
  const pieces = Array.from({ length: count }, (_, i) => call(buffers(i), span(i)[1] - span(i)[0], paramsAt));
  runStreamed(w, pieces, table, slots,
    (i) => { const [from, to] = span(i); buffers(i).forEach((ptr, k) => mem.set(inputs[k].subarray(from, to), ptr >> 2)); },
    (i) => { const [from, to] = span(i), ptrs = buffers(i); for (const [k, out] of outputs) out.set(mem.subarray(ptrs[k] >> 2, (ptrs[k] >> 2) + to - from), from); });
  return true;
}
