// `npx tsx bench/gather.ts [case…]`: js vs wasm per call for gatherRows / scatterAddRows
// (src/tensor/kernels/wasm/gather.ts: indexSelect, embedding and their gradients), copies in and
// out of wasm memory included. js and wasm alternate round by round (~3 ms of calls each) in one
// process, and the tables give the medians and the median of the rounds' ratios, so that a busy
// (shared) machine slows both alike. Cases: `models` (the embedding shapes the models hit, gated
// as dispatch runs them), `inner` (the row length at 64K floats, wasm's gate off), `touched` (scatter into a large
// table: the range of rows against the distinct rows one by one), `small` (growing calls with
// inner 16 and 128, gate off, to set `wasmGatherElements` in src/tensor/kernels/index.ts). Tables
// on stderr; one JSON line on stdout with the smallest size from which wasm wins at every size of
// the `small` sweep, per kernel.
import { jsKernels } from '../src/tensor/kernels/index.js';
import { wasmModule } from '../src/tensor/kernels/wasm/loader.js';
import { gatherRowsOn, scatterAddRowsOn } from '../src/tensor/kernels/wasm/gather.js';
import { randomArray } from './harness.js';
import { crossover } from './timing.js';

const ROUNDS = 9;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Calls of fn that last ~3 ms, after a warm-up of 50 calls and 50 ms (both JITs optimise the path). */
function repsFor(fn: () => void): number {
  const warm = performance.now();
  for (let i = 0; i < 50 || performance.now() - warm < 50; i++) fn();
  for (let reps = 1; ; reps *= 2) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - start >= 3) return reps;
  }
}

/** µs per call of js and wasm in ROUNDS alternating rounds: the medians, and the median of the rounds' js/wasm. */
function compare(jsCall: () => void, wasmCall: () => void): { js: number; wasm: number; ratio: number } {
  const [jsReps, wasmReps] = [repsFor(jsCall), repsFor(wasmCall)];
  const round = (fn: () => void, reps: number): number => {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return ((performance.now() - start) / reps) * 1e3;
  };
  const js: number[] = [], wasm: number[] = [], ratio: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    js.push(round(jsCall, jsReps));
    wasm.push(round(wasmCall, wasmReps));
    ratio.push(js[r] / wasm[r]);
  }
  return { js: median(js), wasm: median(wasm), ratio: median(ratio) };
}

/** `count` indices into `len` rows, uniform from a fixed seed (repeats where len is small, as tokens). */
function indices(count: number, len: number, seed: number): Int32Array {
  const u = randomArray(count, seed, 0, 1);
  return Int32Array.from(u, (x) => Math.min(len - 1, Math.floor(x * len)));
}

/** A gather or scatter-add of `count` rows of `inner` floats from / into a [outer, len, inner] table. */
interface Shape { outer: number; len: number; inner: number; count: number }
const floats = (s: Shape): number => s.outer * s.count * s.inner;

type Timing = ReturnType<typeof compare> & { inModule: boolean };

/** Whether a call of fn reaches the module's export `name` (a gated call may run js). */
function reachesModule(name: 'gatherRows' | 'scatterAddRows', fn: () => void): boolean {
  const w = wasmModule()!, before = w.exports, exported = before as unknown as Record<string, (...args: number[]) => void>;
  let reached = false;
  w.exports = { ...before, [name]: (...args: number[]) => ((reached = true), exported[name](...args)) } as typeof before;
  try {
    fn();
  } finally {
    w.exports = before;
  }
  return reached;
}

function timeGather(s: Shape, gated: boolean): Timing {
  const w = wasmModule(), table = randomArray(s.outer * s.len * s.inner, 1), index = indices(s.count, s.len, 2), out = new Float32Array(floats(s));
  const wasmCall = () => gatherRowsOn(w, table, s.outer, s.len, s.inner, index, out, gated);
  return { ...compare(() => jsKernels.gatherRows(table, s.outer, s.len, s.inner, index, out), wasmCall), inModule: reachesModule('gatherRows', wasmCall) };
}

function timeScatter(s: Shape, gated: boolean, skip = -1): Timing {
  const w = wasmModule(), g = randomArray(floats(s), 3), index = indices(s.count, s.len, 4), table = new Float32Array(s.outer * s.len * s.inner);
  const wasmCall = () => scatterAddRowsOn(w, g, s.outer, s.len, s.inner, index, table, skip, gated);
  return { ...compare(() => jsKernels.scatterAddRows(g, s.outer, s.len, s.inner, index, table, skip), wasmCall), inModule: reachesModule('scatterAddRows', wasmCall) };
}

const header = (title: string) => process.stderr.write(`${title.padEnd(46)}${'floats'.padStart(9)}${'js µs'.padStart(10)}${'wasm µs'.padStart(10)}${'js/wasm'.padStart(8)}\n`);
/** A table row; "(ran js)" where wasm's own estimate sent the call to js (js against js: the ratio is noise). */
const row = (label: string, size: number, t: Timing) =>
  process.stderr.write(`${label.padEnd(46)}${String(size).padStart(9)}${t.js.toFixed(2).padStart(10)}${t.wasm.toFixed(2).padStart(10)}${t.ratio.toFixed(2).padStart(8)}${t.inModule ? '' : '  (ran js)'}\n`);
const embedding = (len: number, inner: number, count: number): Shape => ({ outer: 1, len, inner, count });

if (wasmModule() === null) throw new Error('bench/gather: the wasm kernels are not built (npm run build)');
const only = process.argv.slice(2);
const chosen = (name: string) => only.length === 0 || only.includes(name);
const result: Record<string, number | null> = {};

if (chosen('models')) {
  // [vocab or positions, width] by B·T indices: W5 (char GPT, width 128, 12×64 tokens), a width-384
  // char GPT, BERT-tiny (16×128 tokens), GPT-2 small (2048 tokens; 512 too), and indexSelect along a middle dim
  const cases: [string, Shape][] = [
    ['W5 wte [65,128] by 768', embedding(65, 128, 768)],
    ['W5 wpe [64,128] by 64', embedding(64, 128, 64)],
    ['char GPT wte [65,384] by 768', embedding(65, 384, 768)],
    ['char GPT wte [65,384] by 2048', embedding(65, 384, 2048)],
    ['BERT wte [30522,128] by 2048', embedding(30522, 128, 2048)],
    ['GPT-2 wte [50257,384] by 2048', embedding(50257, 384, 2048)],
    ['GPT-2 wte [50257,768] by 2048', embedding(50257, 768, 2048)],
    ['GPT-2 wte [50257,768] by 512', embedding(50257, 768, 512)],
    ['indexSelect dim 1 of [64,100,16] by 50', { outer: 64, len: 100, inner: 16, count: 50 }],
    ['indexSelect dim 1 of [1000,100] by 50 (inner 1)', { outer: 1000, len: 100, inner: 1, count: 50 }],
  ];
  header('models: gatherRows (gated)');
  for (const [label, s] of cases) row(`  ${label}`, floats(s), timeGather(s, true));
  header('models: scatterAddRows (gated)');
  for (const [label, s] of cases) row(`  ${label}`, floats(s), timeScatter(s, true));
}
if (chosen('inner')) {
  // 64K floats of rows of 1 … 768 from a 64-row table: js pays per row, wasm per float copied
  header('inner: rows of inner floats, 64K floats, ungated');
  for (const inner of [1, 4, 16, 64, 128, 256, 768]) {
    const s = embedding(64, inner, Math.round(65536 / inner));
    row(`  gather inner ${inner}`, floats(s), timeGather(s, false));
    row(`  scatter inner ${inner}`, floats(s), timeScatter(s, false));
  }
}
if (chosen('touched')) {
  // a scatter into a table whose range exceeds a chunk goes row by row: from which inner it pays
  header('touched: scatter by 2048 into [50257, inner], ungated');
  for (const inner of [8, 32, 64, 128, 768]) row(`  inner ${inner}`, 2048 * inner, timeScatter(embedding(50257, inner, 2048), false));
  header('  … and into [4000, 128] (range 512K floats: rows one by one)');
  row('  by 2048', 2048 * 128, timeScatter(embedding(4000, 128, 2048), false));
}
if (chosen('small')) {
  header('small: the threshold, ungated');
  for (const inner of [16, 128]) {
    const gathers: { size: number; js: number; wasm: number }[] = [], scatters: typeof gathers = [];
    for (const count of [8, 16, 32, 64, 128, 256]) {
      const s = embedding(64, inner, count), g = timeGather(s, false), a = timeScatter(s, false);
      row(`  gather inner ${inner}, ${count} rows`, floats(s), g);
      row(`  scatter inner ${inner}, ${count} rows`, floats(s), a);
      gathers.push({ size: floats(s), ...g });
      scatters.push({ size: floats(s), ...a });
    }
    const [gFrom, sFrom] = [crossover(gathers), crossover(scatters)];
    result[`gatherInner${inner}`] = Number.isFinite(gFrom) ? gFrom : null;
    result[`scatterInner${inner}`] = Number.isFinite(sFrom) ? sFrom : null;
  }
}
console.log(JSON.stringify(result));
