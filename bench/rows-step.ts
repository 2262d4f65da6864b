// `npx tsx bench/rows-step.ts [rounds]`: what the wasm row and update kernels (LayerNorm,
// cross-entropy, optimizer steps) save on one W5 training step (the character GPT, Adam, 12 × 64
// tokens), everything else unchanged (`auto`). The two settings alternate in one process, round
// after round, so that a busy shared machine slows both alike; prints the medians in ms per step,
// and of the time spent inside those kernels per step.
import * as tg from '../src/index.js';
import { jsKernels, wasmKernels } from '../src/tensor/kernels/index.js';
import { GPT } from '../src/models/gpt.js';
import { preset } from '../src/models/presets.js';
import { trainingStep } from './training.js';

const names = ['layerNorm', 'layerNormBackward', 'crossEntropy', 'crossEntropyBackward', 'sgdUpdate', 'sgdMomentumUpdate', 'adamUpdate'] as const;
const family = wasmKernels as unknown as Record<string, unknown>;
// every kernel of the list, in both families, adds its time to `inKernels` and to its own list in
// `perKernel` (per call: single calls are hit by GC pauses and by the machine's other processes, so medians)
let inKernels = 0;
const perKernel: Record<'js' | 'wasm', Record<string, number[]>> = { js: {}, wasm: {} };
let current: 'js' | 'wasm' = 'js';
let measuring = false; // false during the warm-up rounds
for (const table of [jsKernels as unknown as Record<string, unknown>, family]) {
  for (const n of names) {
    const fn = table[n] as (...a: unknown[]) => void;
    table[n] = (...a: unknown[]) => {
      const start = performance.now();
      fn(...a);
      const spent = performance.now() - start;
      inKernels += spent;
      if (measuring) (perKernel[current][n] ??= []).push(spent);
    };
  }
}
const saved = names.map((n) => family[n]);
/** With `on` false, these kernels leave the wasm family, so that `auto` runs them on js. */
function rowKernels(on: boolean): void {
  names.forEach((n, i) => (on ? (family[n] = saved[i]) : delete family[n]));
}

if (!wasmKernels.available()) throw new Error('bench/rows-step: the wasm kernels are not built (npm run build)');
const rounds = Number(process.argv[2] ?? 10);
tg.manualSeed(0);
const model = new GPT(preset('gpt-baby'));
const idx = tg.randint(0, 65, [12, 64]), targets = tg.randint(0, 65, [12, 64]);
const step = trainingStep({ forward: () => model.forward(idx, targets).loss!, optimizer: new tg.optim.Adam(model.parameters(), { lr: 1e-3 }) });
const times: Record<'js' | 'wasm', number[]> = { js: [], wasm: [] };
const kernelTimes: Record<'js' | 'wasm', number[]> = { js: [], wasm: [] };
for (let r = 0; r < rounds + 2; r++) {
  for (const setting of ['js', 'wasm'] as const) {
    rowKernels(setting === 'wasm');
    current = setting;
    measuring = r >= 2;
    inKernels = 0;
    const start = performance.now();
    step();
    if (r < 2) continue; // two warm-up rounds
    times[setting].push(performance.now() - start);
    kernelTimes[setting].push(inKernels);
  }
}
rowKernels(true);
const median = (a: number[]): number => a.sort((x, y) => x - y)[a.length >> 1];
const ms = (a: number[]): number => +median(a).toFixed(1);
process.stdout.write(JSON.stringify({
  workload: 'W5', rounds, stepMs: { js: ms(times.js), wasm: ms(times.wasm) }, inRowKernelsMs: { js: ms(kernelTimes.js), wasm: ms(kernelTimes.wasm) },
  // per kernel: calls per step, and the median µs per call
  perKernel: Object.fromEntries((['js', 'wasm'] as const).map((k) => [k, Object.fromEntries(Object.entries(perKernel[k]).map(([n, t]) => [n, { calls: t.length / rounds, medianUs: Math.round(median(t) * 1e3) }]))])),
}) + '\n');
