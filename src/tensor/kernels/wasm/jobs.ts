// The kinds of job the wasm kernels give the worker (threads.ts has the worker and the protocol):
// shared (fixed halves), claimed (pieces either thread takes, with a prologue and early copy-out),
// streamed (pieces whose inputs this thread copies in one by one while the worker computes), and
// resident (pieces over operands that live in wasm memory, resident.ts: nothing to copy).
import { layout, memoryF32, type WasmModule } from './loader.js';
import {
  ACCEPTED, CALL_WORDS, DONE, GATE, NEXT, PIECE_DONE, PIECE_READY, SPLIT_PIECES, awaitWorker, helperFor, pieceBounds, post, run, type Helper, type KernelCall,
} from './threads.js';

/**
 * Runs `mine` on this thread and `theirs` (written at byte `table` of wasm memory, room for
 * theirs.length · CALL_WORDS words) on the worker, and returns when both are done. Without a
 * worker everything runs here.
 */
export function runShared(w: WasmModule, mine: KernelCall[], theirs: KernelCall[], table: number): void {
  const h = helperFor(w);
  if (h === null || theirs.length === 0) {
    for (const call of [...mine, ...theirs]) run(w, call);
    return;
  }
  const job = post(h, theirs, table, false, 0);
  for (const call of mine) run(w, call);
  // the worker has not come yet: close the job and run its share here (with its own scratch)
  if (Atomics.compareExchange(h.control, ACCEPTED, job - 1, job) === job - 1) {
    h.closed++;
    for (const call of theirs) run(w, call);
    return;
  }
  awaitWorker(h, job);
}

/**
 * Runs every piece once, on this thread or the worker, whichever claims it first (room for
 * pieces.length · CALL_WORDS words at byte `table`). The pieces' scratch arguments are this
 * thread's; the worker's scratch lies `scratchDelta` bytes further on. `prologue` (copying the
 * operands in) runs on this thread after the job is posted and before any piece starts, so the
 * worker wakes up (20–230 µs) while it runs. `pieceDone(i)` runs on this thread once piece i is
 * done, by either thread (copying that piece's output out while the worker still computes).
 */
export function runClaimed(
  w: WasmModule, pieces: KernelCall[], table: number, scratchDelta = 0,
  prologue?: () => void, pieceDone?: (piece: number) => void,
): void {
  const h = pieces.length > 1 ? helperFor(w) : null;
  if (h === null) {
    prologue?.();
    pieces.forEach((call, i) => (run(w, call), pieceDone?.(i)));
    return;
  }
  const job = post(h, pieces, table, true, scratchDelta);
  const c = h.control;
  try {
    prologue?.();
  } catch (error) {
    Atomics.store(c, NEXT, pieces.length); // no piece may run on operands half copied in
    openGate(c, job);
    if (Atomics.compareExchange(c, ACCEPTED, job - 1, job) !== job - 1) awaitWorker(h, job);
    throw error;
  }
  openGate(c, job);
  const mine = pieceDone ? new Uint8Array(pieces.length) : null;
  try {
    for (let i; (i = Atomics.add(c, NEXT, 1)) < pieces.length;) {
      run(w, pieces[i]);
      if (mine) (mine[i] = 1), pieceDone!(i);
    }
  } catch (error) {
    // a piece or a copy out failed here: no piece starts any more, and the job ends before the next is posted
    Atomics.store(c, NEXT, pieces.length);
    if (Atomics.compareExchange(c, ACCEPTED, job - 1, job) !== job - 1) awaitWorker(h, job);
    throw error;
  }
  // every piece is claimed: if the worker has not come yet, close the job so that it never will
  if (Atomics.compareExchange(c, ACCEPTED, job - 1, job) === job - 1) {
    h.closed++;
    return;
  }
  try {
    if (mine) finishWorkerPieces(h, job, table, mine, pieceDone!);
  } finally {
    awaitWorker(h, job);
  }
}

/** runClaimed when `threaded`, else the prologue and then every piece in turn on this thread. */
export function runPieces(
  w: WasmModule, threaded: boolean, pieces: KernelCall[], table: number, scratchDelta: number,
  prologue: () => void, pieceDone?: (piece: number) => void,
): void {
  if (threaded) return runClaimed(w, pieces, table, scratchDelta, prologue, pieceDone);
  prologue();
  pieces.forEach((call, i) => (run(w, call), pieceDone?.(i)));
}

/** Lets a claimed job's pieces start, waking a worker that waits for it. */
function openGate(c: Int32Array, job: number): void {
  Atomics.store(c, GATE, job);
  Atomics.notify(c, GATE);
}

/** Runs pieceDone for each piece the worker ran, in order, as each finishes (stops early if the worker is done or failed). */
function finishWorkerPieces(h: Helper, job: number, table: number, mine: Uint8Array, pieceDone: (piece: number) => void): void {
  const words = new Int32Array(h.module.memory.buffer);
  for (let i = 0; i < mine.length; i++) {
    if (mine[i]) continue;
    const flag = (table >> 2) + i * CALL_WORDS + PIECE_DONE;
    // the worker is running piece i (or has run it): spin, as a piece takes well under a millisecond
    while (Atomics.load(words, flag) !== job) {
      if (Atomics.load(h.control, DONE) === job) {
        if (Atomics.load(words, flag) !== job) return; // it stopped on a failure: awaitWorker reports it
        break;
      }
    }
    pieceDone(i);
  }
}

/**
 * Runs pieces whose inputs this thread copies in piece after piece (copyIn(i), after which piece i
 * may start) and whose outputs it copies out in order as each is done (copyOut(i)), so that its
 * copies overlap the worker's compute: for memory-bound kernels, where the copies cost more than
 * the arithmetic. At most `slots` pieces are in flight (piece i reuses the buffers of piece
 * i − slots, which is copied out first). Either thread runs a piece whose inputs are in, as in
 * runClaimed; without the worker everything runs here, piece by piece.
 */
export function runStreamed(w: WasmModule, pieces: KernelCall[], table: number, slots: number, copyIn: (i: number) => void, copyOut: (i: number) => void): void {
  const h = pieces.length > 1 ? helperFor(w) : null;
  if (h === null) {
    pieces.forEach((call, i) => (copyIn(i), run(w, call), copyOut(i)));
    return;
  }
  const n = pieces.length, job = post(h, pieces, table, true, 0, true);
  const c = h.control, words = new Int32Array(h.module.memory.buffer);
  const word = (i: number, k: number) => (table >> 2) + i * CALL_WORDS + k;
  const mine = new Uint8Array(n);
  let nextIn = 0, nextOut = 0;
  try {
    while (nextOut < n) {
      if (nextIn < n && nextIn - nextOut < slots) {
        copyIn(nextIn);
        Atomics.store(words, word(nextIn, PIECE_READY), job);
        nextIn++;
      } else if (mine[nextOut] || Atomics.load(words, word(nextOut, PIECE_DONE)) === job) {
        copyOut(nextOut++);
      } else {
        // nothing to copy: run the next piece whose inputs are in, or wait for the worker's
        const i = Atomics.load(c, NEXT);
        if (i < nextIn && Atomics.compareExchange(c, NEXT, i, i + 1) === i) (run(w, pieces[i]), (mine[i] = 1));
        else if (Atomics.load(c, DONE) === job && Atomics.load(words, word(nextOut, PIECE_DONE)) !== job) break; // it stopped on a failure
      }
    }
  } catch (error) {
    Atomics.store(c, NEXT, n); // no piece starts any more; one the worker waits on runs on what is there, unread
    for (let i = nextIn; i < n; i++) Atomics.store(words, word(i, PIECE_READY), job);
    if (Atomics.compareExchange(c, ACCEPTED, job - 1, job) !== job - 1) awaitWorker(h, job);
    throw error;
  }
  if (Atomics.compareExchange(c, ACCEPTED, job - 1, job) === job - 1) {
    h.closed++; // it never came: every piece ran here
    return;
  }
  awaitWorker(h, job);
}

/**
 * Runs a kernel on operands that all live in wasm memory (resident.ts) where they are, with no
 * copies: `call(from, count, paramsAt)` is the piece for elements [from, from + count) of
 * [0, total), `from` a multiple of `unit` (a row, or 4 lanes); when `threaded`, SPLIT_PIECES
 * pieces that either thread claims. `params` are float numbers the kernel reads from memory at
 * paramsAt. False (nothing done) when the memory cannot hold the call table.
 */
export function runResident(
  w: WasmModule, threaded: boolean, total: number, unit: number,
  call: (from: number, count: number, paramsAt: number) => KernelCall, params: number[] = [],
): boolean {
  const bounds = threaded ? pieceBounds(total, SPLIT_PIECES, unit) : [[0, total]];
  const { offsets: [paramsAt, table], end } = layout(w.heapBase, params.length, bounds.length * CALL_WORDS);
  const mem = memoryF32(w, end);
  if (mem === null) return false;
  mem.set(params, paramsAt >> 2);
  runClaimed(w, bounds.map(([p0, p1]) => call(p0, p1 - p0, paramsAt)), table);
  return true;
}
