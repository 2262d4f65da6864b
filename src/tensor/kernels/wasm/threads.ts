// An optional second thread for the wasm kernels: a worker that shares the module's memory and
// runs kernel calls while the main thread runs others, so the API stays synchronous.
//
// The gain is bimodal on cloud hosts (1.8–2× when the two vCPUs are two cores, ≤ 1× when they
// share one, see WASM.md), and copies in and out stay on the main thread, so TSGRAD_THREADS=auto
// measures it once per machine (loader.ts, calibrate.ts); 1|2 force it. It is then used for calls
// above THREAD_MIN_FLOPS only.
//
// This file holds the worker and the job protocol; jobs.ts the kinds of job. Over one Int32Array on a
// SharedArrayBuffer:
//  - shared (runShared): a fixed list for the worker and one for the main thread, for kernels whose
//    halves keep their own accumulators (conv2d's dW); if the worker has not come when the main
//    thread is done with its list, the main thread runs the worker's list too;
//  - claimed (runClaimed): a list of independent pieces that both threads take from one atomic
//    counter until none is left. Each piece writes its own part of the output and the arithmetic
//    of a piece does not depend on who runs it, so the result does not depend on timing; the work
//    simply flows to whichever thread is free (the worker wakes 20–230 µs late, and V8's GC and
//    compiler threads share its core).
// A claimed job may carry a prologue (copying operands in) that the main thread runs after
// posting it, while the worker wakes; the worker starts its pieces once GATE shows the job, and
// marks each piece it finishes, so the main thread can copy that piece's output out early.
// The main thread writes the worker's calls into wasm memory, stores their place and a new job
// number in `control`, and notifies. The worker wakes (it polls for SPIN_MS after each job, then
// sleeps in Atomics.wait) and accepts the job by moving ACCEPTED from job − 1 to job. When the
// main thread is done with its part before that, it closes the job by the same move, so a late
// worker never delays it and never touches the job. Nothing is allocated by the kernels, and
// each thread has its own scratch buffers, so the two never write the same bytes.
import { Worker } from 'node:worker_threads';
import type { WasmModule } from './loader.js';

/**
 * A kernel call: an export name and its arguments (pointers are byte offsets). `scratch` marks,
 * bit i for argument i, the pointers into a thread's own scratch: on the worker they move by the
 * job's scratch delta (claimed jobs, where either thread may run a piece).
 */
export interface KernelCall {
  op: 'gemm' | 'gemmPackedA' | 'gemmPackedB' | 'gemvRows' | 'gemvCols' | 'softmaxRows' | 'softmaxBackwardRows' | 'attentionHead' | 'attentionHeadBackward'
    | 'unaryMap' | 'unaryGradMap' | 'im2col' | 'col2im' | 'binarySame' | 'binaryCols' | 'reduceSum' | 'adamStepAt';
  args: number[];
  scratch?: number;
}
const OPS: KernelCall['op'][] = ['gemm', 'gemmPackedA', 'gemmPackedB', 'gemvRows', 'gemvCols', 'softmaxRows', 'softmaxBackwardRows', 'attentionHead', 'attentionHeadBackward',
  'unaryMap', 'unaryGradMap', 'im2col', 'col2im', 'binarySame', 'binaryCols', 'reduceSum', 'adamStepAt'];
/**
 * Words per call in the call table: the op index, the scratch mask, up to 18 arguments (im2col
 * takes 17), then the number of the job for which this piece's inputs are in (streamed jobs), and
 * last the number of the job whose worker finished this piece (claimed and streamed jobs).
 */
export const CALL_WORDS = 22;
const ARG_WORDS = CALL_WORDS - 4;
export const PIECE_READY = CALL_WORDS - 2;
export const PIECE_DONE = CALL_WORDS - 1;

/**
 * Below this many flops per kernel call, offering pieces to the worker costs more than it saves.
 * The main thread never waits for a late worker (it claims the pieces itself), so this is lower
 * than it was with fixed halves (30e6): on W5, 8e6 gave 174 ms/step, 30e6 183, 3e6 183 (means of
 * 4 alternating runs each, noisy 2-vCPU VM).
 */
export const THREAD_MIN_FLOPS = 8e6;

/** How many pieces a split kernel call (a map, a block of rows) is cut into for runClaimed. */
export const SPLIT_PIECES = 4;

/**
 * [start, end) of up to `pieces` consecutive parts of [0, length), each start a multiple of
 * `multiple` (a SIMD width or a tile), so no piece's rounded-up lanes reach into the next one.
 */
export function pieceBounds(length: number, pieces: number, multiple: number): [number, number][] {
  const step = Math.max(multiple, Math.ceil(length / pieces / multiple) * multiple);
  const bounds: [number, number][] = [];
  for (let p0 = 0; p0 < length; p0 += step) bounds.push([p0, Math.min(length, p0 + step)]);
  return bounds;
}

/**
 * How long a thread polls for the other before sleeping in Atomics.wait (waking from it takes
 * 20–230 µs). Measured on W5, whole runs paired 10 times: 0.96× the wall time of no polling.
 */
const SPIN_MS = 0.2;

const JOB = 0; // job number, bumped by the main thread for each job
export const DONE = 1; // last job number the worker finished
const TABLE = 2; // byte offset of the worker's calls in wasm memory
const COUNT = 3; // how many calls
const FAILED = 4; // 1 if a call threw on the worker
const READY = 5; // 1 once the worker has instantiated the module, −1 if it could not
export const ACCEPTED = 6; // last job number taken by the worker, or closed by the main thread before it came
const CLAIMED = 7; // 1 for a claimed job, 0 for a shared one
export const NEXT = 8; // the next unclaimed piece of a claimed job
const DELTA = 9; // bytes from the main thread's scratch to the worker's, for a claimed job
const WORKER_PIECES = 10; // pieces of claimed jobs the worker has run, in all
export const GATE = 11; // a claimed job's pieces may start once GATE equals its number (set after the main thread's prologue)
const STREAMED = 12; // 1 for a streamed job: each piece waits for its own PIECE_READY instead of GATE
/** How long the first call waits for the worker to start (it takes 30–60 ms) before giving up on it. */
const START_TIMEOUT_MS = 5000;

// Plain JS run with eval so that it needs no file of its own (works from src/ and dist/ alike).
const workerSource = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, ops } = workerData;
const ctl = new Int32Array(control);
let instance;
try {
  try { require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch {}
  instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('tsgrad wasm: abort'); } } });
  Atomics.store(ctl, ${READY}, 1);
} catch (error) {
  Atomics.store(ctl, ${READY}, -1);
}
Atomics.notify(ctl, ${READY});
let words = new Uint32Array(memory.buffer);
const argv = new Array(${ARG_WORDS}).fill(0);
function runCall(at, delta) {
  const mask = words[at + 1];
  for (let i = 0; i < argv.length; i++) argv[i] = words[at + 2 + i] + ((mask >>> i) & 1 ? delta : 0);
  instance.exports[ops[words[at]]](...argv);
}
let seen = 0;
while (instance) {
  // spin a little before sleeping: the next call of a training step usually comes within µs
  const spinUntil = performance.now() + ${SPIN_MS};
  while (Atomics.load(ctl, ${JOB}) === seen && performance.now() < spinUntil) {}
  Atomics.wait(ctl, ${JOB}, seen);
  const job = Atomics.load(ctl, ${JOB});
  seen = job;
  // a job the main thread already closed (it ran every call itself) is not ours to touch
  if (Atomics.compareExchange(ctl, ${ACCEPTED}, job - 1, job) !== job - 1) continue;
  try {
    if (words.length * 4 !== memory.buffer.byteLength) words = new Uint32Array(memory.buffer); // grown
    const table = Atomics.load(ctl, ${TABLE}) >>> 2;
    const count = Atomics.load(ctl, ${COUNT});
    if (Atomics.load(ctl, ${CLAIMED}) === 1) {
      const streamed = Atomics.load(ctl, ${STREAMED}) === 1;
      if (!streamed) { // the main thread is still copying the operands in: spin a little, then sleep
        const until = performance.now() + ${SPIN_MS};
        for (let gate; (gate = Atomics.load(ctl, ${GATE})) !== job;) if (performance.now() > until) Atomics.wait(ctl, ${GATE}, gate, 1);
      }
      const delta = Atomics.load(ctl, ${DELTA});
      for (let i; (i = Atomics.add(ctl, ${NEXT}, 1)) < count;) {
        const at = table + i * ${CALL_WORDS};
        if (streamed) while (Atomics.load(words, at + ${PIECE_READY}) !== job) {} // its inputs are being copied in
        runCall(at, delta);
        Atomics.store(words, at + ${PIECE_DONE}, job);
        Atomics.add(ctl, ${WORKER_PIECES}, 1);
      }
    } else {
      for (let i = 0; i < count; i++) runCall(table + i * ${CALL_WORDS}, 0);
    }
  } catch (error) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${DONE}, job);
  Atomics.notify(ctl, ${DONE});
}
`;

export interface Helper {
  module: WasmModule; // the module whose memory the worker shares
  worker: Worker;
  control: Int32Array;
  job: number;
  closed: number;
  alive: boolean;
}

let helper: Helper | null | undefined;

/**
 * Starts the worker and waits (synchronously: its events cannot reach a thread blocked in
 * Atomics.wait) until it reports that it instantiated the module. Null if that fails.
 */
function startHelper(w: WasmModule): Helper | null {
  if (!w.shared) return null;
  try {
    const control = new Int32Array(new SharedArrayBuffer(16 * 4));
    const worker = new Worker(workerSource, {
      eval: true,
      execArgv: [], // plain CommonJS: no loader or --input-type inherited from this process
      workerData: { module: w.module, memory: w.memory, control: control.buffer, ops: OPS },
    });
    worker.unref(); // never keeps the process alive; it sleeps in Atomics.wait between jobs
    Atomics.wait(control, READY, 0, START_TIMEOUT_MS);
    if (Atomics.load(control, READY) !== 1) {
      void worker.terminate();
      return null;
    }
    const h: Helper = { module: w, worker, control, job: 0, closed: 0, alive: true };
    worker.on('error', () => (h.alive = false));
    worker.on('exit', () => (h.alive = false));
    return h;
  } catch {
    return null;
  }
}

/** The worker for module w, started on first use; null when there is none (then everything runs here). */
export function helperFor(w: WasmModule): Helper | null {
  if (helper === undefined) helper = startHelper(w);
  return helper !== null && helper.module === w && helper.alive ? helper : null;
}

/** Writes the calls at byte `table` of wasm memory and posts them to the worker as a new job. */
export function post(h: Helper, calls: KernelCall[], table: number, claimed: boolean, delta: number, streamed = false): number {
  const words = new Uint32Array(h.module.memory.buffer);
  calls.forEach((call, i) => {
    if (call.args.length > ARG_WORDS) throw new Error(`tsgrad wasm: ${call.op} has ${call.args.length} arguments, the call table holds ${ARG_WORDS}`);
    const at = (table >> 2) + i * CALL_WORDS;
    words[at] = OPS.indexOf(call.op);
    words[at + 1] = call.scratch ?? 0;
    words.set(call.args, at + 2);
    words[at + PIECE_READY] = 0;
    words[at + PIECE_DONE] = 0;
  });
  const c = h.control;
  Atomics.store(c, TABLE, table);
  Atomics.store(c, COUNT, calls.length);
  Atomics.store(c, CLAIMED, claimed ? 1 : 0);
  Atomics.store(c, NEXT, 0);
  Atomics.store(c, DELTA, delta);
  Atomics.store(c, STREAMED, streamed ? 1 : 0);
  const job = ++h.job;
  Atomics.store(c, JOB, job);
  Atomics.notify(c, JOB);
  return job;
}

/** Waits until the worker reports job `job` done, and rethrows a failure of one of its calls. */
export function awaitWorker(h: Helper, job: number): void {
  // Wait for DONE to move away from the value just read (re-reading it for wait() would sleep
  // forever if the worker finished in between). Calls on the worker catch their errors, so it
  // always reports DONE; only a crash of the whole worker could leave this waiting.
  const spinUntil = performance.now() + SPIN_MS;
  for (;;) {
    const done = Atomics.load(h.control, DONE);
    if (done === job) break;
    if (performance.now() < spinUntil) continue; // the worker's share usually ends within µs of ours
    Atomics.wait(h.control, DONE, done);
  }
  if (Atomics.exchange(h.control, FAILED, 0) !== 0) throw new Error('tsgrad wasm: a kernel call failed on the worker thread');
}

/**
 * What the worker has done so far (all 0 without one), for tests: jobs posted to it, jobs the
 * main thread closed before it came, and pieces of claimed jobs it ran.
 */
export function threadStats(): { jobs: number; closed: number; workerPieces: number } {
  if (!helper) return { jobs: 0, closed: 0, workerPieces: 0 };
  return { jobs: helper.job, closed: helper.closed, workerPieces: Atomics.load(helper.control, WORKER_PIECES) };
}

/** Runs one call on this thread. */
export function run(w: WasmModule, call: KernelCall): void {
  const fn = w.exports[call.op] as (...args: number[]) => void;
  fn(...call.args);
}
