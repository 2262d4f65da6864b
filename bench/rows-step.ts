// `npx tsx bench/rows-step.ts [rounds]`: what the wasm row and update kernels (LayerNorm,
// cross-entropy, optimizer steps) save on one W5 training step (the character GPT, Adam, 12 × 64
// tokens), everything else unchanged (`auto`). The two settings alternate in one process, round
// after round, so that a busy shared machine slows both alike; prints the medians in ms per step.
import * as tg from '../src/index.js';
import { wasmKernels } from '../src/tensor/kernels/index.js';
import { GPT } from '../src/models/gpt.js';
import { preset } from '../src/models/presets.js';
import { trainingStep } from './training.js';

const names = ['layerNorm', 'layerNormBackward', 'crossEntropy', 'crossEntropyBackward', 'sgdUpdate', 'sgdMomentumUpdate', 'adamUpdate'] as const;
const family = wasmKernels as unknown as Record<string, unknown>;
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
for (let r = 0; r < rounds + 2; r++) {
  for (const setting of ['js', 'wasm'] as const) {
    rowKernels(setting === 'wasm');
    const start = performance.now();
    step();
    if (r >= 2) times[setting].push(performance.now() - start); // two warm-up rounds
  }
}
rowKernels(true);
const median = (a: number[]): number => a.sort((x, y) => x - y)[a.length >> 1];
process.stdout.write(JSON.stringify({ workload: 'W5', rounds, rowKernelsJsMs: +median(times.js).toFixed(1), rowKernelsWasmMs: +median(times.wasm).toFixed(1) }) + '\n');
