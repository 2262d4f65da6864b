// W5: one Adam step of a character GPT (vocab 65, block 64, 4 layers, 4 heads, width 128, exact
// GELU, untied head with bias: 818,241 parameters) on 12 × 64 tokens, in tokens/s.
import * as tg from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { preset } from '../../src/models/presets.js';
import type { Workload } from '../harness.js';
import { emitStep, trainingStep } from '../training.js';

export const w5: Workload = {
  id: 'W5',
  title: 'character GPT training step',
  run(ctx) {
    tg.manualSeed(0);
    const model = new GPT(preset('gpt-baby'));
    const idx = tg.randint(0, 65, [12, 64]), targets = tg.randint(0, 65, [12, 64]);
    const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
    ctx.progress(`W5 B12xT64 (${model.numParameters()} parameters)`);
    const setup = { forward: () => model.forward(idx, targets).loss!, optimizer };
    return emitStep(ctx, 'W5', 'B12xT64', trainingStep(setup),
      (t) => [768 / (t.median_ms / 1000), 'tok/s'], { withRss: true }, setup);
  },
};
