// Packed multi-head attention on the wasm module (assembly/attention.ts): qkv is copied in once,
// then each head's scores, softmax and products run inside wasm memory, and only the merged
// output and the probabilities (backward: dqkv) come out. With a second thread the heads are
// pieces both threads claim; each thread has its own gemm scratch (and dS for the backward). An
// array that lives in wasm memory (resident.ts) is read or written where it is.
import type { FloatArray, PackedAttentionArgs } from '../types.js';
import { packedAttention as attentionJs, packedAttentionBackward as attentionBackwardJs } from '../js/attention.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { CALL_WORDS, THREAD_MIN_FLOPS, type KernelCall } from './threads.js';
import { runPieces } from './jobs.js';
import { gemmScratchFloats } from './matmul.js';
import { placesOf } from './resident.js';

export function packedAttentionWasm(args: PackedAttentionArgs, out: FloatArray, probs: FloatArray): void {
  packedAttentionOn(wasmModule(), args, out, probs);
}

export function packedAttentionBackwardWasm(args: PackedAttentionArgs, probs: FloatArray, dOut: FloatArray, dqkv: FloatArray): void {
  packedAttentionBackwardOn(wasmModule(), args, probs, dOut, dqkv);
}

/** What both directions share: sizes, whether the worker joins in, and the per-thread scratch in floats. */
function plan(w: WasmModule, { batch, T, heads, headDim }: PackedAttentionArgs, flopsPerHead: number) {
  const count = batch * heads, C = heads * headDim;
  const threaded = w.shared && threadsRequested() && count > 1 && count * flopsPerHead >= THREAD_MIN_FLOPS;
  return { count, C, threaded, scratch: gemmScratchFloats(w.exports) };
}

/** Byte offset of head i's first element (b = i / heads, h = i % heads) in a [batch, T, rowLength] array. */
const headAt = (i: number, { T, heads, headDim }: PackedAttentionArgs, rowLength: number) =>
  (Math.floor(i / heads) * T * rowLength + (i % heads) * headDim) * 4;

/** packedAttentionWasm on a given module (the tests run both builds through this). */
export function packedAttentionOn(w: WasmModule | null, args: PackedAttentionArgs, out: FloatArray, probs: FloatArray): void {
  const { qkv, T, headDim: d, scale, causal, keep } = args;
  if (w === null || !(qkv instanceof Float32Array) || !(out instanceof Float32Array) || !(probs instanceof Float32Array) || (keep && !(keep instanceof Float32Array))) {
    return attentionJs(args, out, probs);
  }
  const { count, C, threaded, scratch: gemmScratch } = plan(w, args, 4 * T * T * d);
  if (count === 0 || T === 0) return;
  const scratch = [keep ? T * T : 0, ...gemmScratch]; // the dropped-out weights, then the gemm's
  const { at, room } = placesOf(w, [qkv, probs, out, keep ?? null]);
  const { offsets, end } = layout(w.heapBase, ...room, 1, ...scratch, ...(threaded ? [...scratch, count * CALL_WORDS] : []));
  const mem = memoryF32(w, end);
  if (mem === null) return attentionJs(args, out, probs);
  const [qkvPtr, probsPtr, outPtr, keepPtr] = at.map((p, i) => (p < 0 ? offsets[i] : p));
  const [scaleAt, pd, pa, pb, edge] = offsets.slice(4);
  const pieces: KernelCall[] = [];
  for (let i = 0; i < count; i++) {
    pieces.push({
      op: 'attentionHead',
      args: [qkvPtr + headAt(i, args, 3 * C), 3 * C, probsPtr + i * T * T * 4, outPtr + headAt(i, args, C), T, d, scaleAt, causal ? 1 : 0, keep ? keepPtr + i * T * T * 4 : 0, pd, pa, pb, edge],
      scratch: 0b1111 << 9,
    });
  }
  const copyIn = () => {
    if (at[0] < 0) mem.set(qkv, qkvPtr >> 2);
    if (keep && at[3] < 0) mem.set(keep, keepPtr >> 2);
    mem[scaleAt >> 2] = scale;
  };
  const headDone = at[1] >= 0 ? undefined : (i: number) => probs.set(mem.subarray((probsPtr >> 2) + i * T * T, (probsPtr >> 2) + (i + 1) * T * T), i * T * T);
  runPieces(w, threaded, pieces, offsets[13], offsets[9] - offsets[5], copyIn, headDone);
  if (at[2] < 0) out.set(mem.subarray(outPtr >> 2, (outPtr >> 2) + out.length));
}

/** packedAttentionBackwardWasm on a given module. */
export function packedAttentionBackwardOn(w: WasmModule | null, args: PackedAttentionArgs, probs: FloatArray, dOut: FloatArray, dqkv: FloatArray): void {
  const { qkv, T, headDim: d, scale, keep } = args;
  const f32 = [qkv, probs, dOut, dqkv, keep ?? new Float32Array(0)].every((a) => a instanceof Float32Array);
  if (w === null || !f32) return attentionBackwardJs(args, probs, dOut, dqkv);
  const { count, C, threaded, scratch: gemmScratch } = plan(w, args, 8 * T * T * d);
  if (count === 0 || T === 0) return;
  const scratch = [T * T, ...gemmScratch]; // dS, then the gemm's
  const { at, room } = placesOf(w, [qkv, probs, dOut, dqkv, keep ?? null]);
  const { offsets, end } = layout(w.heapBase, ...room, 1, ...scratch, ...(threaded ? [...scratch, count * CALL_WORDS] : []));
  const mem = memoryF32(w, end);
  if (mem === null) return attentionBackwardJs(args, probs, dOut, dqkv);
  const [qkvPtr, probsPtr, dOutPtr, dqkvPtr, keepPtr] = at.map((p, i) => (p < 0 ? offsets[i] : p));
  const [scaleAt, dS, pa, pb, edge] = offsets.slice(5);
  const pieces: KernelCall[] = [];
  for (let i = 0; i < count; i++) {
    pieces.push({
      op: 'attentionHeadBackward',
      args: [qkvPtr + headAt(i, args, 3 * C), 3 * C, probsPtr + i * T * T * 4, dOutPtr + headAt(i, args, C), dqkvPtr + headAt(i, args, 3 * C), T, d, scaleAt, keep ? keepPtr + i * T * T * 4 : 0, dS, pa, pb, edge],
      scratch: 0b1111 << 9,
    });
  }
  const copyIn = () => {
    ([qkv, probs, dOut, null, keep ?? null] as (FloatArray | null)[]).forEach((a, i) => {
      if (a !== null && at[i] < 0) mem.set(a, offsets[i] >> 2); // dqkv (3) is only written
    });
    mem[scaleAt >> 2] = scale;
  };
  runPieces(w, threaded, pieces, offsets[14], offsets[10] - offsets[6], copyIn);
  if (at[3] < 0) dqkv.set(mem.subarray(dqkvPtr >> 2, (dqkvPtr >> 2) + dqkv.length));
}
