// W6: one Adam step of a GPT-2-small-shaped model (124,439,808 parameters, tied embeddings, tanh
// GELU) on 1 × 128 tokens, in s/step with the peak resident memory. Left out of --quick.
import * as tg from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { preset } from '../../src/models/presets.js';
import type { Workload } from '../harness.js';
import { emitStep, trainingStep } from '../training.js';

export const w6: Workload = {
  id: 'W6',
  title: 'GPT-2 small training step',
  skipWhenQuick: true,
  run(ctx) {
    tg.manualSeed(0);
    const model = new GPT({ ...preset('gpt2-small'), dropout: 0 });
    const idx = tg.randint(0, 50257, [1, 128]), targets = tg.randint(0, 50257, [1, 128]);
    const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-4 });
    ctx.progress(`W6 B1xT128 (${model.numParameters()} parameters)`);
    const setup = { forward: () => model.forward(idx, targets).loss!, optimizer };
    return emitStep(ctx, 'W6', 'B1xT128', trainingStep(setup), (t) => [t.median_ms / 1000, 's/step'], { withRss: true, slow: true }, setup);
  },
};
