// Gradient accumulation: N micro-batches of b with each loss scaled by 1/N give the update of one
// batch of N·b (mean losses), so a Trainer with gradAccum 2 on batches of 2 follows a Trainer on
// batches of 4 drawn from the same seed, within float32 rounding; the step record says grad_accum.
import { expect } from 'chai';
import { manualSeed, randint } from '../../src/index.js';
import { GPT } from '../../src/models/index.js';
import { preset } from '../../src/models/presets.js';
import { lmBatch } from '../../src/data/loader.js';
import { SGD, AdamW } from '../../src/optim/index.js';
import { Trainer } from '../../src/train/index.js';

function run(batch: number, gradAccum: number, optimizer: 'sgd' | 'adamw', steps = 3) {
  manualSeed(11);
  const ids = randint(0, 65, [4000]).data as Int32Array;
  const model = new GPT({ ...preset('gpt-nano'), dropout: 0 });
  const opt = optimizer === 'sgd' ? new SGD(model.parameters(), { lr: 0.5 }) : new AdamW(model.parameters(), { lr: 1e-2 });
  manualSeed(99); // the windows: lmBatch(b) twice draws what lmBatch(2b) draws once
  const trainer = new Trainer({ model, optimizer: opt, gradAccum, trainBatches: () => lmBatch(ids, 16, batch), clip: 1 });
  const history: ReturnType<Trainer['trainStep']>[] = [];
  for (let s = 0; s < steps; s++) history.push(trainer.trainStep());
  return { params: model.parameters().map((p) => Array.from(p.data as Float32Array)), history };
}

const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.map((p, i) => Math.max(...p.map((v, j) => Math.abs(v - b[i][j])))));

describe('Trainer gradAccum', function () {
  this.timeout(60_000);

  for (const optimizer of ['sgd', 'adamw'] as const) {
    it(`${optimizer}: 2 micro-batches of 2 (and 4 of 1) update as one batch of 4, within float32 tolerance`, () => {
      const big = run(4, 1, optimizer);
      for (const [b, n] of [[2, 2], [1, 4]]) {
        const acc = run(b, n, optimizer);
        expect(maxDiff(acc.params, big.params)).to.be.below(2e-5);
        acc.history.forEach((r, i) => {
          expect(r.loss).to.be.closeTo(big.history[i].loss, 1e-5); // the mean of the micro-batch means
          expect(r.grad_accum).to.equal(n);
        });
      }
      // and not by accident: stepping after every micro-batch moves elsewhere
      expect(maxDiff(run(2, 1, optimizer, 6).params, big.params)).to.be.above(1e-3);
    });
  }

  it('rejects a gradAccum that is not a positive integer', () => {
    const model = new GPT(preset('gpt-nano'));
    expect(() => new Trainer({ model, optimizer: new SGD(model.parameters(), { lr: 1 }), gradAccum: 0, trainBatches: () => 0 })).to.throw(/gradAccum must be a positive integer \(got 0\)/);
  });
});
