// `npx tsx bench/rows.ts [kernel]`: js against wasm per call for the row and update kernels
// (LayerNorm, cross-entropy, the optimizer steps), copies into wasm memory included, at the sizes
// the bench workloads hit, and what the copies of an embedding gradient cost alone (bench/gather.ts
// times the wasm gather and scatter-add kernels themselves). Sets `thresholds` in src/tensor/kernels/index.ts; prints one line per case on stderr
// (µs per call, median of 7 rounds) and the crossovers as JSON on stdout.
import { jsKernels, type Kernels } from '../src/tensor/kernels/index.js';
import { memoryF32, wasmModule } from '../src/tensor/kernels/wasm/loader.js';
import { layerNormWasm, layerNormBackwardWasm } from '../src/tensor/kernels/wasm/norm.js';
import { crossEntropyWasm, crossEntropyBackwardWasm } from '../src/tensor/kernels/wasm/losses.js';
import { adamUpdateWasm, sgdMomentumUpdateWasm, sgdUpdateWasm } from '../src/tensor/kernels/wasm/optim.js';
import { randomArray } from './harness.js';
import { crossover, perCall } from './timing.js';

if (wasmModule() === null) throw new Error('bench/rows: the wasm kernels are not built (npm run build)');
const log = (s: string): boolean => process.stderr.write(s + '\n');
type Impl = Pick<Kernels, 'layerNorm' | 'layerNormBackward' | 'crossEntropy' | 'crossEntropyBackward' | 'adamUpdate' | 'sgdUpdate' | 'sgdMomentumUpdate'>;
const wasm: Impl = {
  layerNorm: layerNormWasm, layerNormBackward: layerNormBackwardWasm,
  crossEntropy: crossEntropyWasm, crossEntropyBackward: crossEntropyBackwardWasm,
  adamUpdate: adamUpdateWasm, sgdUpdate: sgdUpdateWasm, sgdMomentumUpdate: sgdMomentumUpdateWasm,
};
const only = process.argv[2]; // one kernel's name, or all

function sweep(name: string, sizes: [string, number][], time: (k: Impl, i: number) => number): number {
  if (only && only !== name) return NaN;
  log(`${name.padEnd(20)}  elements      js µs    wasm µs`);
  const rows = sizes.map(([label, size], i) => {
    const row = { size, js: time(jsKernels, i) * 1e3, wasm: time(wasm, i) * 1e3 };
    log(`  ${label.padEnd(18)}${String(size).padStart(10)} ${row.js.toFixed(2).padStart(10)} ${row.wasm.toFixed(2).padStart(10)}`);
    return row;
  });
  return crossover(rows);
}

// LayerNorm: rows × D of the tiny test GPT (16), W5's char GPT and GPT-2 small (768)
const ln: [number, number][] = [[4, 16], [24, 16], [64, 64], [256, 128], [512, 384], [1024, 768]];
const lnSizes = ln.map(([r, d]): [string, number] => [`${r}x${d}`, r * d]);
const lnData = ln.map(([r, d]) => ({
  r, d, x: randomArray(r * d, 1, -3, 3), g: randomArray(r * d, 2), w: randomArray(d, 3), b: randomArray(d, 4),
  y: new Float32Array(r * d), mean: new Float64Array(r), rstd: new Float64Array(r), dw: new Float64Array(d), db: new Float64Array(d),
}));
const layerNorm = sweep('layerNorm', lnSizes, (k, i) => {
  const c = lnData[i];
  return perCall(() => k.layerNorm(c.x, c.r, c.d, c.w, c.b, 1e-5, c.y, c.mean, c.rstd));
});
const layerNormBackward = sweep('layerNormBackward', lnSizes, (k, i) => {
  const c = lnData[i];
  jsKernels.layerNorm(c.x, c.r, c.d, c.w, c.b, 1e-5, c.y, c.mean, c.rstd);
  return perCall(() => k.layerNormBackward(c.x, c.g, c.r, c.d, c.w, c.mean, c.rstd, c.y, c.dw, c.db));
});

// Cross-entropy: rows × classes of the tiny GPT, a char GPT (65) and BERT's 30522-way head
const ce: [number, number][] = [[2, 5], [4, 17], [24, 17], [64, 65], [256, 65], [1024, 65], [128, 1024], [64, 30522]];
const ceSizes = ce.map(([r, c]): [string, number] => [`${r}x${c}`, r * c]);
const ceData = ce.map(([rows, classes]) => ({
  args: {
    logits: randomArray(rows * classes, 5, -4, 4), rows, classes, ignoreIndex: -100, weight: null, smoothing: 0,
    target: Int32Array.from({ length: rows }, (_, i) => (i * 7) % classes), lse: new Float64Array(rows),
  },
  losses: new Float64Array(rows), dz: new Float32Array(rows * classes),
}));
const crossEntropy = sweep('crossEntropy', ceSizes, (k, i) => perCall(() => k.crossEntropy(ceData[i].args, ceData[i].losses)));
const crossEntropyBackward = sweep('crossEntropyBackward', ceSizes, (k, i) => {
  jsKernels.crossEntropy(ceData[i].args, ceData[i].losses);
  return perCall(() => k.crossEntropyBackward(ceData[i].args, 1 / ce[i][0], ceData[i].dz));
});

// Optimizer steps over one parameter: a bias, a small and a GPT-2-sized weight
const opt = [16, 64, 256, 1024, 4096, 16384, 65536, 768 * 768];
const optSizes = opt.map((n): [string, number] => [String(n), n]);
const optData = opt.map((n) => ({ theta: randomArray(n, 6), grad: randomArray(n, 7), m: randomArray(n, 8), v: randomArray(n, 9, 0, 1) }));
const adamUpdate = sweep('adamUpdate', optSizes, (k, i) => {
  const { theta, grad, m, v } = optData[i];
  return perCall(() => k.adamUpdate({ theta, grad, m, v, stepSize: 1e-9, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc2Sqrt: 0.5, l2: 0, decay: 1 }));
});
const sgdUpdate = sweep('sgdUpdate', optSizes, (k, i) => perCall(() => k.sgdUpdate(optData[i].theta, optData[i].grad, 1e-9, 0)));
const sgdMomentumUpdate = sweep('sgdMomentumUpdate', optSizes, (k, i) => {
  const { theta, grad, m } = optData[i];
  return perCall(() => k.sgdMomentumUpdate(theta, grad, m, false, 1e-9, 0.9, 0, false, 0));
});

// The embedding's gradient (scatterAddRows of a [rows, C] gradient into a [V, C] table) has no wasm
// kernel: the table lives in JS, so a wasm version would copy the gradient in and every touched row
// of the table in and back out. Those copies alone, against the whole js kernel:
if (!only || only === 'scatterAddRows') {
  log('scatterAddRows        js µs    its copies alone µs');
  const w = wasmModule()!;
  for (const [count, C, V] of [[768, 128, 65], [2048, 128, 30522], [512, 768, 50257], [2048, 768, 50257]]) {
    const src = randomArray(count * C, 1), table = new Float32Array(V * C);
    const index = Int32Array.from({ length: count }, (_, i) => (i * 7919) % V);
    const js = perCall(() => jsKernels.scatterAddRows(src, 1, V, C, index, table, -1));
    const mem = memoryF32(w, w.heapBase + 2 * count * C * 4)!;
    const at = w.heapBase >> 2, rowsAt = at + count * C;
    const copies = perCall(() => {
      mem.set(src, at);
      for (let r = 0; r < count; r++) mem.set(table.subarray(index[r] * C, (index[r] + 1) * C), rowsAt + r * C);
      for (let r = 0; r < count; r++) table.set(mem.subarray(rowsAt + r * C, rowsAt + (r + 1) * C), index[r] * C);
    });
    log(`  ${`${count}x${C} into ${V}`.padEnd(20)}${(js * 1e3).toFixed(1).padStart(8)} ${(copies * 1e3).toFixed(1).padStart(12)}`);
  }
}

process.stdout.write(JSON.stringify({ layerNorm, layerNormBackward, crossEntropy, crossEntropyBackward, adamUpdate, sgdUpdate, sgdMomentumUpdate }) + '\n');
