// An optional second thread for the wasm kernels: a worker that shares the module's memory and
// runs a list of kernel calls while the main thread runs the rest, so the API stays synchronous.
//
// The gain is bimodal on cloud hosts (1.8–2× when the two vCPUs are two cores, ≤ 1× when they
// share one, see WASM.md), and copies in and out stay on the main thread, so TSGRAD_THREADS=auto
// measures it once per machine (loader.ts, calibrate.ts); 1|2 force it. It is then used for calls
// above THREAD_MIN_FLOPS only.
//
// Protocol, over one Int32Array on a SharedArrayBuffer: the main thread writes the worker's calls
// into wasm memory, stores their place and a new job number in `control`, and notifies; the
// worker wakes (it polls for SPIN_MS after each job, then sleeps in Atomics.wait), runs them,
// stores the job number in DONE and notifies; the main thread, after its own share, polls and
// then waits for that number. Nothing is allocated by the kernels, and
// each thread has its own scratch buffers, so the two never write the same bytes.
import { Worker } from 'node:worker_threads';
import type { WasmModule } from './loader.js';

/** A kernel call: an export name and its arguments (pointers are byte offsets). */
export interface KernelCall {
  op: 'gemm' | 'gemvRows' | 'gemvCols' | 'softmaxRows' | 'softmaxBackwardRows'
    | 'unaryMap' | 'unaryGradMap' | 'im2col' | 'col2im' | 'binarySame' | 'binaryCols';
  args: number[];
}
const OPS: KernelCall['op'][] = ['gemm', 'gemvRows', 'gemvCols', 'softmaxRows', 'softmaxBackwardRows',
  'unaryMap', 'unaryGradMap', 'im2col', 'col2im', 'binarySame', 'binaryCols'];
/** Words per call in the call table: the op index, then up to 19 arguments (im2col takes 17). */
export const CALL_WORDS = 20;

/** Below this many flops per kernel call list, waking the worker (20–230 µs) costs more than it saves. */
export const THREAD_MIN_FLOPS = 30e6;

/**
 * How long a thread polls for the other before sleeping in Atomics.wait (waking from it takes
 * 20–230 µs). Measured on W5, whole runs paired 10 times: 0.96× the wall time of no polling.
 */
const SPIN_MS = 0.2;

const JOB = 0; // job number, bumped by the main thread for each job
const DONE = 1; // last job number the worker finished
const TABLE = 2; // byte offset of the worker's calls in wasm memory
const COUNT = 3; // how many calls
const FAILED = 4; // 1 if a call threw on the worker
const READY = 5; // 1 once the worker has instantiated the module, −1 if it could not
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
let seen = 0;
while (instance) {
  // spin a little before sleeping: the next call of a training step usually comes within µs
  const spinUntil = performance.now() + ${SPIN_MS};
  while (Atomics.load(ctl, ${JOB}) === seen && performance.now() < spinUntil) {}
  Atomics.wait(ctl, ${JOB}, seen);
  seen = Atomics.load(ctl, ${JOB});
  try {
    if (words.length * 4 !== memory.buffer.byteLength) words = new Uint32Array(memory.buffer); // grown
    const table = Atomics.load(ctl, ${TABLE}) >>> 2;
    const count = Atomics.load(ctl, ${COUNT});
    for (let i = 0; i < count; i++) {
      const at = table + i * ${CALL_WORDS};
      instance.exports[ops[words[at]]](...words.subarray(at + 1, at + ${CALL_WORDS}));
    }
  } catch (error) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
`;

interface Helper {
  module: WasmModule; // the module whose memory the worker shares
  worker: Worker;
  control: Int32Array;
  job: number;
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
    const control = new Int32Array(new SharedArrayBuffer(8 * 4));
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
    const h: Helper = { module: w, worker, control, job: 0, alive: true };
    worker.on('error', () => (h.alive = false));
    worker.on('exit', () => (h.alive = false));
    return h;
  } catch {
    return null;
  }
}

/**
 * Runs `mine` on this thread and `theirs` (written at byte `table` of wasm memory, room for
 * theirs.length · CALL_WORDS words) on the worker, and returns when both are done. Without a
 * worker everything runs here.
 */
export function runShared(w: WasmModule, mine: KernelCall[], theirs: KernelCall[], table: number): void {
  if (helper === undefined) helper = startHelper(w);
  const h = helper;
  if (h === null || h.module !== w || !h.alive || theirs.length === 0) {
    for (const call of [...mine, ...theirs]) run(w, call);
    return;
  }
  const words = new Uint32Array(w.memory.buffer);
  theirs.forEach((call, i) => {
    const at = (table >> 2) + i * CALL_WORDS;
    words[at] = OPS.indexOf(call.op);
    words.set(call.args, at + 1);
  });
  const job = ++h.job;
  Atomics.store(h.control, TABLE, table);
  Atomics.store(h.control, COUNT, theirs.length);
  Atomics.store(h.control, JOB, job);
  Atomics.notify(h.control, JOB);
  for (const call of mine) run(w, call);
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

/** How many jobs the worker has been given so far (0 without one): tests check that a split happened. */
export function workerJobs(): number {
  return helper ? helper.job : 0;
}

/** Runs one call on this thread. */
export function run(w: WasmModule, call: KernelCall): void {
  const fn = w.exports[call.op] as (...args: number[]) => void;
  fn(...call.args);
}
