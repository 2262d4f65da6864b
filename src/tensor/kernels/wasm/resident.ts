// Resident float32 storage: while the wasm family runs on its shared-memory build, a large float32
// array can live in that wasm memory, and a kernel whose operands all live there runs on them in
// place, with no copy in or out (W2's softmax forward + backward of [4096, 1024] copied 80 MB per
// call, 7 of its 10 ms). arrayFor asks for a block only for arrays whose end tsgrad sees (pool.ts
// residentWanted: a backward walk's gradients, and the activations of programs that release their
// graphs), since a block comes back only when its array is handed back (pool.ts release: the
// walk's dead gradients, zeroGrad, releaseGraph) or when the collector has finalized the array,
// which a synchronous loop never lets happen.
//
// The memory, from address 0: [static data | resident blocks | the working area of a kernel call].
// A block is taken from a free list of its size, else from the top of the blocks; w.heapBase,
// where every call lays out its working buffers, stays above the highest block. Blocks are padded
// to 64 bytes, so a kernel that rounds a length up to 4 lanes stays inside its block, as it stays
// inside its buffer of the working area. Only the shared build: growing a shared memory leaves old
// views valid, while growing a private one detaches them. Wasm memory never shrinks, so the blocks
// are bounded by a budget (TSGRAD_RESIDENT_MB, default 1024; 0 turns this off): beyond it arrays
// are ordinary ones, and the working area keeps the rest of wasm32's 4 GiB.
import { memoryF32, wasmModule, type WasmModule } from './loader.js';

/** Arrays below this stay ordinary (V8 makes small arrays cheaply, and copying them costs little). */
export const MIN_RESIDENT_FLOATS = 4096;
const ALIGN = 64; // bytes: a cache line, as layout() aligns the working buffers

interface Arena {
  w: WasmModule;
  base: number;
  budget: number;
  /** First byte above the highest block (w.heapBase follows it). */
  top: number;
  inUse: number;
  /**
   * Free blocks by size in bytes → their addresses, with the array that was handed back (given out
   * again for the same length, as the pool does; null after a finalizer); and by end address →
   * size, to lower the top.
   */
  bySize: Map<number, FreeBlock[]>;
  byEnd: Map<number, number>;
  /** Every SharedArrayBuffer the memory was seen through: views made before a grow keep the old one. */
  buffers: WeakSet<ArrayBufferLike>;
}

interface FreeBlock { ptr: number; array: Float32Array | null }

let arena: Arena | null | undefined;
let allowed = true;
let opening = false;
const blocks = new WeakMap<Float32Array, { ptr: number; bytes: number }>();
const finalizer = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => (stats.finalized++, putBack(ptr, bytes, null)));
const stats = { made: 0, madeBytes: 0, reused: 0, reusedBytes: 0, freed: 0, freedBytes: 0, finalized: 0, operandsInPlace: 0 };

function budgetBytes(): number {
  const raw = process.env.TSGRAD_RESIDENT_MB ?? '1024';
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`TSGRAD_RESIDENT_MB: expected a number of MiB ≥ 0 (got '${raw}')`);
  return mb * 2 ** 20;
}

/** The backend may use resident storage (wasm, auto) or not (js, gpujs): set by setBackend. */
export function allowResident(on: boolean): void {
  allowed = on;
}

/** The arena, made on first use: null where the wasm module is not the shared build or the budget is 0. */
function open(): Arena | null {
  if (arena !== undefined) return arena;
  if (opening) return null; // loading the module (its calibration) makes arrays of its own
  opening = true;
  try {
    const w = wasmModule();
    const budget = w?.shared ? budgetBytes() : 0;
    arena = w !== null && budget > 0
      ? { w, base: w.heapBase, budget, top: w.heapBase, inUse: 0, bySize: new Map(), byEnd: new Map(), buffers: new WeakSet() }
      : null;
  } finally {
    opening = false;
  }
  return arena;
}

/** A float32 array of `length` in wasm memory (zero-filled when `zeroed`), or null: not allowed, too small, or over the budget. */
export function residentFloat32(length: number, zeroed: boolean): Float32Array | null {
  if (!allowed || length < MIN_RESIDENT_FLOATS) return null;
  const a = open();
  if (a === null) return null;
  const bytes = Math.ceil((length * 4) / ALIGN) * ALIGN;
  const free = takeFree(a, bytes);
  let ptr: number;
  if (free !== undefined) {
    ptr = free.ptr;
    stats.reused++;
    stats.reusedBytes += bytes;
  } else {
    if (a.top + bytes - a.base > a.budget || memoryF32(a.w, a.top + bytes) === null) return null;
    ptr = a.top;
    a.top += bytes;
    a.w.heapBase = a.top;
    stats.made++;
    stats.madeBytes += bytes;
  }
  a.inUse += bytes;
  // the working area of earlier calls, or an earlier block, was there
  if (zeroed) a.w.exports.zeroBytes(ptr, bytes);
  let array = free?.array;
  if (!array || array.length !== length) {
    const buffer = a.w.memory.buffer;
    a.buffers.add(buffer);
    array = new Float32Array(buffer, ptr, length);
  }
  blocks.set(array, { ptr, bytes });
  finalizer.register(array, { ptr, bytes }, array);
  return array;
}

/** Hands a resident array's block back now (true), or false for any other array; nothing may use the array after. */
export function freeResident(array: ArrayBufferView): boolean {
  const block = array instanceof Float32Array ? blocks.get(array) : undefined;
  if (block === undefined) return false;
  blocks.delete(array as Float32Array);
  finalizer.unregister(array);
  stats.freed++;
  stats.freedBytes += block.bytes;
  putBack(block.ptr, block.bytes, array as Float32Array);
  return true;
}

/** The byte offset of `array` in w's memory when it is resident there, else -1. */
export function residentPtr(w: WasmModule, array: ArrayBufferView): number {
  const ptr = ptrOf(w, array);
  if (ptr >= 0) stats.operandsInPlace++;
  return ptr;
}

const ptrOf = (w: WasmModule, array: ArrayBufferView): number => (arena && arena.w === w && arena.buffers.has(array.buffer) ? array.byteOffset : -1);

/** residentPtr of every array, or null unless all are resident (a kernel then runs on them in place). */
export function residentPtrs(w: WasmModule, ...arrays: ArrayBufferView[]): number[] | null {
  const ptrs = arrays.map((a) => ptrOf(w, a));
  if (!ptrs.every((p) => p >= 0)) return null;
  stats.operandsInPlace += ptrs.length;
  return ptrs;
}

/**
 * Where a kernel finds each of its arrays: `at[i]`, the byte offset where array i lives in wasm
 * memory, or -1; `room[i]`, the floats the call's working area must hold for it (0 when it lives
 * there, or for null: an array the call does not use).
 */
export function placesOf(w: WasmModule, arrays: (ArrayBufferView & { length: number } | null)[]): { at: number[]; room: number[] } {
  const at = arrays.map((a) => (a === null ? -1 : residentPtr(w, a)));
  return { at, room: arrays.map((a, i) => (a === null || at[i] >= 0 ? 0 : a.length)) };
}

function takeFree(a: Arena, bytes: number): FreeBlock | undefined {
  const block = a.bySize.get(bytes)?.pop();
  if (block !== undefined) a.byEnd.delete(block.ptr + bytes);
  return block;
}

function putBack(ptr: number, bytes: number, array: Float32Array | null): void {
  const a = arena;
  if (!a) return;
  a.inUse -= bytes;
  if (ptr + bytes !== a.top) {
    const list = a.bySize.get(bytes);
    if (list) list.push({ ptr, array });
    else a.bySize.set(bytes, [{ ptr, array }]);
    a.byEnd.set(ptr + bytes, bytes);
    return;
  }
  // the highest block: lower the top past it and past the free blocks just below it
  a.top = ptr;
  for (let size; (size = a.byEnd.get(a.top)) !== undefined;) {
    const list = a.bySize.get(size)!;
    const below = a.top - size;
    list.splice(list.findIndex((b) => b.ptr === below), 1);
    a.byEnd.delete(a.top);
    a.top = below;
  }
  a.w.heapBase = a.top;
}

/**
 * What resident storage holds now (bytes in use, bytes spanned by the blocks with the free ones)
 * and has done: blocks made at the top, reused from a free list, handed back, finalized.
 */
export function residentStats(): {
  inUseBytes: number; spanBytes: number; budgetBytes: number; made: number; madeBytes: number; reused: number; reusedBytes: number;
  freed: number; freedBytes: number; finalized: number; operandsInPlace: number;
} {
  return { inUseBytes: arena?.inUse ?? 0, spanBytes: arena ? arena.top - arena.base : 0, budgetBytes: arena?.budget ?? budgetBytes(), ...stats };
}
