// W3: one SGD step of an MLP 784 → 256 (ReLU) → 10 on a batch of 64, in ms/step.
import * as tg from '../../src/index.js';
import { MLP } from '../../src/models/mlp.js';
import type { Workload } from '../harness.js';
import { emitStep, trainingStep } from '../training.js';

export const w3: Workload = {
  id: 'W3',
  title: 'MLP training step',
  run(ctx) {
    tg.manualSeed(0);
    const model = new MLP([784, 256, 10]);
    const x = tg.rand([64, 784]), y = tg.randint(0, 10, [64]);
    const optimizer = new tg.optim.SGD(model.parameters(), { lr: 0.1 });
    ctx.progress('W3 B64');
    const setup = { forward: () => model.forward(x, y).loss!, optimizer };
    return emitStep(ctx, 'W3', 'B64', trainingStep(setup), (t) => [t.median_ms, 'ms/step'], {}, setup);
  },
};
