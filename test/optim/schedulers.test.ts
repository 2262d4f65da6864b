// Learning-rate schedulers against PyTorch's closed forms; composition; state round trip.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { assertClose } from '../helpers.js';

const { StepLR, CosineAnnealingLR, LinearWarmup } = optim.lrScheduler;

/** An SGD with one group per lr. */
const sgd = (...lrs: number[]) => new optim.SGD(lrs.map((lr) => ({ params: [new nn.Parameter(tg.zeros([1]))], lr })), { lr: lrs[0] });

/** getLastLr() after construction and after each of n steps, per group; also checks the optimizer's lr. */
function lrs(sched: optim.lrScheduler.LRScheduler, n: number): number[][] {
  const out = [sched.getLastLr()];
  for (let i = 0; i < n; i++) {
    sched.step();
    out.push(sched.getLastLr());
    expect(sched.optimizer.paramGroups.map((g) => g.lr)).to.deep.equal(out[out.length - 1]);
  }
  return out;
}

const cosine = (base: number, etaMin: number, tMax: number) => (t: number) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;

describe('optim.lrScheduler', () => {
  it('StepLR: base·γ^⌊t/stepSize⌋ for each group', () => {
    const seq = lrs(new StepLR(sgd(0.1, 1), { stepSize: 3, gamma: 0.5 }), 9);
    seq.forEach((lr, t) => assertClose(lr, [0.1, 1].map((b) => b * 0.5 ** Math.floor(t / 3)), 1e-15));
    expect(seq.map((l) => l[1])).to.deep.equal([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]);
    expect(new StepLR(sgd(0.1), { stepSize: 1 }).lrAt(2)[0]).to.be.closeTo(0.001, 1e-15); // γ = 0.1 by default
  });

  it('CosineAnnealingLR: η_min + (base − η_min)(1 + cos(πt/tMax))/2', () => {
    const seq = lrs(new CosineAnnealingLR(sgd(0.1), { tMax: 4 }), 4);
    assertClose(seq.flat(), [0.1, 0.08535533905932738, 0.05, 0.014644660940672627, 0], 1e-15);
    const f = cosine(0.5, 0.01, 10);
    lrs(new CosineAnnealingLR(sgd(0.5), { tMax: 10, etaMin: 0.01 }), 12).forEach((lr, t) => assertClose(lr, [f(t)], 1e-15));
  });

  it('LinearWarmup: base·(s + (1 − s)·t/W), then constant (PyTorch LinearLR)', () => {
    const seq = lrs(new LinearWarmup(sgd(0.3), { warmupSteps: 4, startFactor: 1 / 3 }), 6);
    assertClose(seq.flat(), [0, 1, 2, 3, 4, 4, 4].map((t) => 0.3 * (1 / 3 + ((2 / 3) * Math.min(t, 4)) / 4)), 1e-15);
    expect(lrs(new LinearWarmup(sgd(1), { warmupSteps: 4 }), 5).flat()).to.deep.equal([0, 0.25, 0.5, 0.75, 1, 1]); // from 0 by default
  });

  it('LinearWarmup then cosine: warmup for W steps, then cosine from its own t = 0', () => {
    const opt = sgd(0.1, 0.2);
    const sched = new LinearWarmup(opt, { warmupSteps: 5, startFactor: 0.1, after: new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 }) });
    lrs(sched, 20).forEach((lr, t) => {
      const expected = [0.1, 0.2].map((b) => (t < 5 ? b * (0.1 + (0.9 * t) / 5) : cosine(b, 0.001, 10)(t - 5)));
      assertClose(lr, expected, 1e-15);
    });
    expect(opt.paramGroups.map((g) => g.initialLr)).to.deep.equal([0.1, 0.2]);
  });

  it('stateDict / loadStateDict resume the same lr sequence', () => {
    const make = (opt: optim.SGD) => new LinearWarmup(opt, { warmupSteps: 3, after: new StepLR(opt, { stepSize: 2, gamma: 0.5 }) });
    const opt1 = sgd(1);
    const s1 = make(opt1);
    for (let i = 0; i < 4; i++) s1.step();
    const saved = structuredClone({ sched: s1.stateDict(), opt: opt1.stateDict() });
    const rest1 = lrs(s1, 5);
    const opt2 = sgd(1);
    const s2 = make(opt2);
    opt2.loadStateDict(saved.opt);
    s2.loadStateDict(saved.sched);
    expect(s2.getLastLr()).to.deep.equal(rest1[0]);
    expect(opt2.paramGroups[0].lr).to.equal(rest1[0][0]);
    expect(lrs(s2, 5)).to.deep.equal(rest1);
    expect(s2.lastEpoch).to.equal(9);
  });

  it('validates its options', () => {
    expect(() => new StepLR(sgd(0.1), { stepSize: 0 })).to.throw(/stepSize/);
    expect(() => new CosineAnnealingLR(sgd(0.1), { tMax: 0 })).to.throw(/tMax/);
    expect(() => new LinearWarmup(sgd(0.1), { warmupSteps: 2, after: new StepLR(sgd(0.1), { stepSize: 1 }) })).to.throw(/same optimizer/);
  });
});
