// `npx tsx bench/layout.ts [case…]`: js vs wasm per call for stridedCopy / stridedScatter
// (src/tensor/kernels/wasm/layout.ts), copies in and out of wasm memory included, with wasm's
// own js fallbacks off, to set the dispatch threshold (`wasmLayoutElements` in
// src/tensor/kernels/index.ts, in output floats) and the per-call gates of wasm/layout.ts (run
// length, range per float). Sweeps a head split at growing size, the run length over a dense
// range, the density of a slice, a transpose (last stride ≠ 1), then times the W5 (char GPT)
// calls gated as dispatch runs them. Tables on stderr; one JSON line on stdout with the smallest
// size from which wasm is faster at every size of the head-split sweep.
import { jsKernels } from '../src/tensor/kernels/index.js';
import { wasmModule } from '../src/tensor/kernels/wasm/loader.js';
import { stridedCopyOn, stridedScatterOn } from '../src/tensor/kernels/wasm/layout.js';
import { randomArray } from './harness.js';
import { crossover, perCall } from './timing.js';

const perCallUs = (fn: () => void): number => perCall(fn) * 1e3;
const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** One stridedCopy call: src of srcLen floats read at offset with strides over shape. */
interface Copy { shape: number[]; strides: number[]; offset?: number; srcLen: number }
/** A permute of a contiguous array of `shape` by `dims`. */
function permuteOf(shape: number[], dims: number[]): Copy {
  const st = shape.map((_, i) => product(shape.slice(i + 1)));
  return { shape: dims.map((d) => shape[d]), strides: dims.map((d) => st[d]), srcLen: product(shape) };
}

/** [js, wasm] µs per call of a copy (gated: as dispatch would run it, wasm's own fallbacks on) and of its scatter. */
function timeCopy(c: Copy, gated: boolean, scatter = false): [number, number] {
  const w = wasmModule(), n = product(c.shape), off = c.offset ?? 0;
  const big = randomArray(c.srcLen, 1), dense = new Float32Array(n);
  if (scatter) {
    const g = randomArray(n, 2);
    return [perCallUs(() => jsKernels.stridedScatter(g, c.shape, big, off, c.strides)), perCallUs(() => stridedScatterOn(w, g, c.shape, big, off, c.strides, gated))];
  }
  return [perCallUs(() => jsKernels.stridedCopy(big, off, c.strides, c.shape, dense)), perCallUs(() => stridedCopyOn(w, big, off, c.strides, c.shape, dense, gated))];
}

const row = (label: string, size: number | string, [js, wasm]: [number, number]) =>
  process.stderr.write(`${label.padEnd(44)}${String(size).padStart(9)}${js.toFixed(2).padStart(10)}${wasm.toFixed(2).padStart(10)}${(js / wasm).toFixed(2).padStart(8)}\n`);
const header = (title: string) => process.stderr.write(`${title.padEnd(44)}${'size'.padStart(9)}${'js µs'.padStart(10)}${'wasm µs'.padStart(10)}${'js/wasm'.padStart(8)}\n`);

if (wasmModule() === null) throw new Error('bench/layout: the wasm kernels are not built (npm run build)');
const only = process.argv.slice(2);
const chosen = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));
const result: Record<string, number | null> = {};

if (chosen('size')) {
  // [T, 4, 32] → [4, T, 32] (heads of 32 out of an embedding of 128): runs of 32, a dense range
  header('size: head split [T,4,32] → [4,T,32]');
  const sweep = [1, 2, 4, 8, 16, 64, 256, 1024].map((T) => {
    const times = timeCopy(permuteOf([T, 4, 32], [1, 0, 2]), false);
    row('  copy', T * 128, times);
    row('  scatter (its adjoint)', T * 128, timeCopy(permuteOf([T, 4, 32], [1, 0, 2]), false, true));
    return { size: T * 128, js: times[0], wasm: times[1] };
  });
  const from = crossover(sweep);
  result.headSplit = Number.isFinite(from) ? from : null;
}
if (chosen('run')) {
  // [64, k, L] → [k, 64, L] at ~64K floats: how long a contiguous run must be for js's set to keep up
  header('run length: [64,k,L] → [k,64,L], 64K floats');
  for (const L of [8, 32, 64, 128, 256, 512, 1024]) {
    row(`  L = ${L}`, 65536, timeCopy(permuteOf([64, 65536 / 64 / L, L], [1, 0, 2]), false));
    row(`  L = ${L} scatter`, 65536, timeCopy(permuteOf([64, 65536 / 64 / L, L], [1, 0, 2]), false, true));
  }
}
if (chosen('density')) {
  // a slice of 32 of every k·32 columns of [2048, k·32]: the range read is k floats per float out
  header('density: slice [2048, 32] of [2048, k·32]');
  for (const k of [1, 1.5, 2, 3, 4]) {
    const cols = Math.round(k * 32);
    const c = { shape: [2048, 32], strides: [cols, 1], srcLen: 2048 * cols };
    row(`  range/out = ${k}`, 65536, timeCopy(c, false));
    row(`  range/out = ${k} scatter (cat)`, 65536, timeCopy(c, false, true));
  }
}
if (chosen('strided')) {
  header('last stride ≠ 1');
  for (const n of [4, 16, 64]) row(`  transpose [${n},${n}] strides [1,${n}]`, n * n, timeCopy({ shape: [n, n], strides: [1, n], srcLen: n * n }, false));
  row('  transpose [48,64,64] strides [4096,1,64]', 196608, timeCopy(permuteOf([48, 64, 64], [0, 2, 1]), false));
  row('  its scatter', 196608, timeCopy(permuteOf([48, 64, 64], [0, 2, 1]), false, true));
  row('  expand [256] → [256,256] strides [0,1]', 65536, timeCopy({ shape: [256, 256], strides: [0, 1], srcLen: 256 }, false));
  row('  expand [256,1] → [256,256] strides [1,0]', 65536, timeCopy({ shape: [256, 256], strides: [1, 0], srcLen: 256 }, false));
}
if (chosen('w5')) {
  // the char GPT step (B 12, T 64, C 128, 4 heads): qkv split, head split and merge, as dispatch runs them
  header('W5 calls (gated)');
  row('  [12,4,64,32] strides [8192,32,128,1]', 98304, timeCopy({ shape: [12, 4, 64, 32], strides: [8192, 32, 128, 1], srcLen: 98304 }, true));
  row('  [12,64,4,32] strides [8192,32,2048,1]', 98304, timeCopy({ shape: [12, 64, 4, 32], strides: [8192, 32, 2048, 1], srcLen: 98304 }, true));
  for (const offset of [0, 128, 256]) row(`  [12,64,128] strides [24576,384,1] offset ${offset}`, 98304, timeCopy({ shape: [12, 64, 128], strides: [24576, 384, 1], offset, srcLen: 294912 }, true));
  row('  the same, ungated', 98304, timeCopy({ shape: [12, 64, 128], strides: [24576, 384, 1], offset: 128, srcLen: 294912 }, false));
  row('  its scatter (slice backward), ungated', 98304, timeCopy({ shape: [12, 64, 128], strides: [24576, 384, 1], offset: 128, srcLen: 294912 }, false, true));
}
console.log(JSON.stringify(result));
