// W4: one SGD step of LeNet-5 on a batch of 32 images 1×28×28, in ms/step.
import * as tg from '../../src/index.js';
import { LeNet5 } from '../../src/models/lenet.js';
import type { Workload } from '../harness.js';
import { emitStep, trainingStep } from '../training.js';

export const w4: Workload = {
  id: 'W4',
  title: 'LeNet-5 training step',
  run(ctx) {
    tg.manualSeed(0);
    const model = new LeNet5();
    const x = tg.rand([32, 1, 28, 28]), y = tg.randint(0, 10, [32]);
    const optimizer = new tg.optim.SGD(model.parameters(), { lr: 0.1 });
    ctx.progress('W4 B32');
    const setup = { forward: () => model.forward(x, y).loss!, optimizer };
    return emitStep(ctx, 'W4', 'B32', trainingStep(setup), (t) => [t.median_ms, 'ms/step'], {}, setup);
  },
};
