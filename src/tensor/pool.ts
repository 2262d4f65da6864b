// Recycled storage. A new large typed array costs more than its size suggests: the engine zero-
// fills it, the OS maps fresh pages on first touch (measured 1.6–15 µs per 4 KiB page on cloud VMs:
// 100–300 ms for BERT-tiny's 250 MB logits gradient), and V8 counts it as external memory, which
// triggers the collections that free it. The backward walk knows which of its own gradients are
// dead once a node has used them (backward.ts); it hands those arrays back here, and arrayFor
// (dtype.ts) takes an array of the same dtype and length from here before making a new one.
//
// Only arrays that nothing outside the engine can hold come back: gradients made during one walk,
// never a returned gradient or a user's tensor, and a .grad only when zeroGrad drops one nobody
// read (tensor.ts dropGrad). What the next forward pass does not take back is dropped when the
// next walk begins, and the pool holds at most MAX_POOLED_BYTES of it. Dropped .grad arrays are
// kept apart, for that walk's own gradients of the same sizes, and what it does not take is
// dropped when it ends.
import type { DType, TypedArray } from './dtype.js';
import { freeResident, residentStats } from './kernels/wasm/resident.js';

/** Arrays smaller than this are left to V8 (small typed arrays are cheap to make). */
const MIN_POOLED_BYTES = 16 * 1024;
/**
 * The most the pool keeps at once: dead gradients wait here for an allocation of their size
 * instead of being collected, so the bound keeps them from adding to a step's peak memory (W6,
 * GPT-2 small, holds up to 179 MiB unbounded; its peak RSS stays within run-to-run noise).
 */
const MAX_POOLED_BYTES = 256 * 2 ** 20;

const free = new Map<string, TypedArray[]>(); // `${dtype}:${length}` → arrays, most recently freed last
let pooledBytes = 0;
const keptGrads = new Map<string, TypedArray[]>(); // dropped .grad arrays, for the next walk
let keptBytes = 0;
let enabled = process.env.TSGRAD_POOL !== '0';
const stats = { reused: 0, reusedBytes: 0, released: 0, releasedBytes: 0 };

const keyOf = (dtype: DType, length: number) => `${dtype}:${length}`;

/** Turn recycling on or off (TSGRAD_POOL=0 starts with it off); off also empties the pool. */
export function setPooling(on: boolean): void {
  enabled = on;
  if (!on) dropAll();
}

/** An array of `dtype` and `size` from the pool (zero-filled unless `zeroed` is false), or null when none is there. */
export function takePooled(dtype: DType, size: number, zeroed = true): TypedArray | null {
  if (!enabled) return null;
  const key = keyOf(dtype, size);
  let array = free.get(key)?.pop();
  if (array) pooledBytes -= array.byteLength;
  else if ((array = keptGrads.get(key)?.pop())) keptBytes -= array.byteLength;
  else return null;
  stats.reused++;
  stats.reusedBytes += array.byteLength;
  return zeroed ? array.fill(0) : array;
}

/** Whether release(array) would keep it: large enough and the whole of its buffer (not a view into another). */
function poolable(array: TypedArray): boolean {
  return enabled && array.byteLength >= MIN_POOLED_BYTES && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength
    && !isShared(array);
}

/**
 * The storage an array reads: its buffer, or for one in shared memory (a resident block of wasm
 * memory, kernels/wasm/resident.ts) the array itself, since every block shares the memory's buffer.
 * Views of a tensor share its array. The engine counts who holds storage by this key.
 */
export const storageOf = (array: TypedArray): object => (isShared(array) ? array : array.buffer);

/** A page that is not cross-origin isolated has no SharedArrayBuffer at all (the playground). */
const isShared = (array: TypedArray): boolean => typeof SharedArrayBuffer !== 'undefined' && array.buffer instanceof SharedArrayBuffer;

/**
 * Hand a dead array back (true when the pool kept it, or a resident one's block went back to wasm
 * memory); the caller guarantees that nothing will read or write it again.
 */
export function release(dtype: DType, array: TypedArray): boolean {
  if (enabled && freeResident(array)) return true;
  if (!poolable(array) || pooledBytes + array.byteLength > MAX_POOLED_BYTES) return false;
  file(free, dtype, array);
  pooledBytes += array.byteLength;
  return true;
}

/**
 * Keep a dropped .grad's array for the next backward walk, beyond MAX_POOLED_BYTES: the walk
 * makes the same gradients again, and these arrays were live a moment ago, so keeping them until
 * then adds nothing to the step's peak.
 */
export function keepForBackward(dtype: DType, array: TypedArray): void {
  if (enabled && freeResident(array)) return; // at once: the walk's gradients take blocks of their size
  if (!poolable(array)) return;
  file(keptGrads, dtype, array);
  keptBytes += array.byteLength;
}

function file(into: Map<string, TypedArray[]>, dtype: DType, array: TypedArray): void {
  const key = keyOf(dtype, array.length);
  const list = into.get(key) ?? [];
  list.push(array);
  into.set(key, list);
  stats.released++;
  stats.releasedBytes += array.byteLength;
}

// The arrays arrayFor handed out since the current walk began (null outside a walk).
let madeInWalk: Set<object> | null = null;

// Which new float32 arrays may live in wasm memory (kernels/wasm/resident.ts): only those whose
// end tsgrad sees, since JavaScript tells of an array's death only through a finalizer, which a
// synchronous loop never lets run. Those are a backward walk's gradients (the walk recycles them,
// or zeroGrad), and the activations of a forward pass that records a graph while the program
// releases its graphs. A program is taken to release them until it shows otherwise: a walk
// begins with no releaseGraph since the walk before (so at most two steps' activations of a loop
// that never releases get blocks), or its recording forward passes take UNRELEASED_CAP of blocks
// with no walk or release between. (Assuming the opposite until the first release would leave the
// first step's activations in JS arrays beside the blocks of the next: W5's peak RSS +14 MB.)
const UNRELEASED_CAP = 256 * 2 ** 20;
let recording = true;
let graphsReleased = true;
let releasesSinceWalk = 0;
let walks = 0;
let unreleasedBytes = 0;

/** The engine's grad mode changed (engine.ts withGradMode). */
export function noteRecording(on: boolean): void {
  recording = on;
}

/** releaseGraph freed a graph: the forward passes after it may make their activations resident. */
export function noteGraphReleased(): void {
  graphsReleased = true;
  releasesSinceWalk++;
  unreleasedBytes = 0;
}

/** Whether arrayFor may make a large float32 array resident now. */
export const residentWanted = (): boolean => enabled && (madeInWalk !== null || (recording && graphsReleased));

/** arrayFor made a resident array of `bytes` (counted against UNRELEASED_CAP outside a walk). */
export function noteResident(bytes: number): void {
  if (madeInWalk !== null) return;
  unreleasedBytes += bytes;
  if (unreleasedBytes > UNRELEASED_CAP) graphsReleased = false;
}

/** Called by arrayFor for every array it returns. */
export function noteMade(array: TypedArray): void {
  if (madeInWalk !== null) madeInWalk.add(storageOf(array));
}

/** Begin collecting the buffers made from now on (the walk's own gradients); null if one is already collecting. */
export function collectMade(): Set<object> | null {
  if (madeInWalk !== null) return null;
  madeInWalk = new Set();
  return madeInWalk;
}

export function stopCollecting(made: Set<object>): void {
  if (madeInWalk === made) madeInWalk = null;
}

/**
 * A backward walk begins: what the forward pass did not take back (W6: 147 MiB) is dropped, so
 * the pool holds nothing at the start of the walk, where a step's memory is highest.
 */
export function beginWalk(): void {
  free.clear();
  pooledBytes = 0;
  if (walks++ > 0 && releasesSinceWalk === 0) graphsReleased = false; // the last walk's graph was not released
  releasesSinceWalk = 0;
  unreleasedBytes = 0;
}

/** A walk ended: the dropped .grad arrays it did not take back are let go. */
export function endWalk(): void {
  keptGrads.clear();
  keptBytes = 0;
}

function dropAll(): void {
  beginWalk();
  endWalk();
}

/**
 * What the pool has done since the process started (reused = arrays handed out again), and holds
 * now, with the blocks of resident storage handed back and out again the same way.
 */
export function poolStats(): { reused: number; reusedBytes: number; released: number; releasedBytes: number; heldBytes: number } {
  const r = residentStats();
  return {
    reused: stats.reused + r.reused, reusedBytes: stats.reusedBytes + r.reusedBytes,
    released: stats.released + r.freed, releasedBytes: stats.releasedBytes + r.freedBytes,
    heldBytes: pooledBytes + keptBytes + r.spanBytes - r.inUseBytes,
  };
}
