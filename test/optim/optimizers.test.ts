// Optimizers on a tiny quadratic against updates computed by hand (D17, D18, AdamW), parameter
// groups, and state dicts that continue the identical trajectory.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const param = (values: number[], dtype: 'float32' | 'float64' = 'float64') => new nn.Parameter(tg.tensor(values, { dtype }));

/** L = ½ Σ θ², so ∇L = θ. */
const halfSquares = (ps: Tensor[]) => ps.map((p) => p.mul(p).sum().mul(0.5)).reduce((a, b) => a.add(b));

/** zeroGrad, backward of loss(params), step; returns each parameter's values after every step. */
function run(opt: optim.Optimizer<any>, params: Tensor[], steps: number, loss = halfSquares): number[][][] {
  const trace: number[][][] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    loss(params).backward();
    opt.step();
    trace.push(params.map((p) => Array.from(p.data)));
  }
  return trace;
}

const scaled = (k: number) => [1 * k, -2 * k]; // θ₀ = [1, −2] times k

describe('optim.SGD', () => {
  it('D17: θ ← θ − α∇L', () => {
    const p = param([1, -2]);
    const trace = run(new optim.SGD([p], { lr: 0.1 }), [p], 2);
    assertClose(trace[0][0], scaled(0.9), 1e-15);
    assertClose(trace[1][0], scaled(0.81), 1e-15);
  });

  it('momentum: b₁ = g₁, bₜ = μbₜ₋₁ + (1 − τ)gₜ, θ ← θ − αb', () => {
    const p = param([1, -2]);
    const trace = run(new optim.SGD([p], { lr: 0.1, momentum: 0.9 }), [p], 2);
    assertClose(trace[0][0], scaled(0.9), 1e-15); // b = θ₀
    assertClose(trace[1][0], scaled(0.72), 1e-15); // b = 0.9θ₀ + 0.9θ₀ = 1.8θ₀
    const q = param([1, -2]);
    const damped = run(new optim.SGD([q], { lr: 0.1, momentum: 0.9, dampening: 0.5 }), [q], 2);
    assertClose(damped[0][0], scaled(0.9), 1e-15); // no dampening on the first step, as PyTorch
    assertClose(damped[1][0], scaled(0.765), 1e-15); // b = 0.9θ₀ + 0.5·0.9θ₀ = 1.35θ₀
  });

  it('nesterov: θ ← θ − α(g + μb)', () => {
    const p = param([1, -2]);
    const trace = run(new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), [p], 2);
    assertClose(trace[0][0], scaled(0.81), 1e-15); // g + μb = 1.9θ₀
    assertClose(trace[1][0], scaled(0.5751), 1e-15); // b = 1.71θ₀, g + μb = 0.81θ₀ + 1.539θ₀
  });

  it('weightDecay adds λθ to the gradient — the same as adding (λ/2)·l2Penalty to the loss (D19)', () => {
    const p = param([1, -2]);
    const trace = run(new optim.SGD([p], { lr: 0.1, weightDecay: 0.1 }), [p], 2);
    assertClose(trace[0][0], scaled(0.89), 1e-15);
    assertClose(trace[1][0], scaled(0.89 * 0.89), 1e-15);
    const q = param([1, -2]);
    const viaLoss = run(new optim.SGD([q], { lr: 0.1 }), [q], 2, (ps) => halfSquares(ps).add(nn.utils.l2Penalty(ps).mul(0.05)));
    assertClose(viaLoss[1][0], trace[1][0], 1e-15);
  });

  it('validates its options', () => {
    expect(() => new optim.SGD([param([1])], { lr: -1 })).to.throw(/learning rate/);
    expect(() => new optim.SGD([param([1])], { lr: 0.1, nesterov: true })).to.throw(/nesterov/);
    expect(() => new optim.SGD([], { lr: 0.1 })).to.throw(/empty/);
    expect(() => new optim.SGD([param([1]).mul(2)], { lr: 0.1 })).to.throw(/non-leaf/);
    const p = param([1]);
    expect(() => new optim.SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 })).to.throw(/more than one group/);
  });
});

/** Adam written out per element, independently of the implementation. */
function adamByHand(theta: number[], steps: number, o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; correct: boolean }): number[][] {
  const m = theta.map(() => 0), v = theta.map(() => 0), out: number[][] = [];
  theta = [...theta];
  for (let t = 1; t <= steps; t++) {
    theta = theta.map((th, i) => {
      let g = th; // ∇ ½θ² = θ, taken before any decay
      if (o.decoupled) th *= 1 - o.lr * o.wd;
      else g += o.wd * th;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g;
      v[i] = o.b2 * v[i] + (1 - o.b2) * g * g;
      const mHat = o.correct ? m[i] / (1 - o.b1 ** t) : m[i];
      const vHat = o.correct ? v[i] / (1 - o.b2 ** t) : v[i];
      return th - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    });
    out.push(theta);
  }
  return out;
}

describe('optim.Adam / AdamW', () => {
  const base = { lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false, correct: true };

  it('bias-corrected Adam: the first step moves each θ by ≈ α·sign(g)', () => {
    const p = param([1, -2]);
    const trace = run(new optim.Adam([p], { lr: 0.1 }), [p], 5);
    assertClose(trace[0][0], [1 - 0.1 / (1 + 1e-8), -2 + 0.1 * (2 / (2 + 1e-8))], 1e-14);
    trace.forEach((t, i) => assertClose(t[0], adamByHand([1, -2], 5, base)[i], 1e-14));
  });

  it('biasCorrection false is exactly D18: θ ← θ − α·m/(√v + ε)', () => {
    const p = param([1, -2]);
    const trace = run(new optim.Adam([p], { lr: 0.01, biasCorrection: false }), [p], 5);
    // step 1: m = 0.1g, v = 0.001g², m/√v = 0.1/√0.001 ≈ 3.162 times sign(g)
    assertClose(trace[0][0], [1 - (0.01 * 0.1) / (Math.sqrt(0.001) + 1e-8), -2 + (0.01 * 0.2) / (Math.sqrt(0.004) + 1e-8)], 1e-14);
    trace.forEach((t, i) => assertClose(t[0], adamByHand([1, -2], 5, { ...base, lr: 0.01, correct: false })[i], 1e-14));
  });

  it('Adam weightDecay is L2 (g + λθ); AdamW decays θ(1 − αλ) first, default λ = 0.01', () => {
    const p = param([1, -2]);
    const adam = run(new optim.Adam([p], { lr: 0.1, weightDecay: 0.5 }), [p], 4);
    adam.forEach((t, i) => assertClose(t[0], adamByHand([1, -2], 4, { ...base, wd: 0.5 })[i], 1e-14));
    const q = param([1, -2]);
    const adamw = new optim.AdamW([q], { lr: 0.1 });
    expect(adamw.paramGroups[0].weightDecay).to.equal(0.01);
    const trace = run(adamw, [q], 4);
    assertClose(trace[0][0], [1 * (1 - 0.001) - 0.1 / (1 + 1e-8), -2 * (1 - 0.001) + 0.1 * (2 / (2 + 1e-8))], 1e-14);
    trace.forEach((t, i) => assertClose(t[0], adamByHand([1, -2], 4, { ...base, wd: 0.01, decoupled: true })[i], 1e-14));
  });

  it('validates betas and eps', () => {
    expect(() => new optim.Adam([param([1])], { betas: [1, 0.999] })).to.throw(/beta parameter at index 0/);
    expect(() => new optim.Adam([param([1])], { eps: -1 })).to.throw(/eps/);
  });
});

describe('optim.Optimizer', () => {
  it('param groups keep their own lr and options; zeroGrad clears; parameters without grad are skipped', () => {
    const a = param([1, -2]), b = param([4]), frozen = param([7]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b, frozen], lr: 0.5, momentum: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).to.deep.equal([[0.1, 0], [0.5, 0.5]]);
    opt.zeroGrad();
    halfSquares([a, b]).backward();
    opt.step();
    assertClose(a.data, scaled(0.9), 1e-15);
    assertClose(b.data, [2], 1e-15);
    expect(Array.from(frozen.data)).to.deep.equal([7]);
    expect(opt.state.has(frozen)).to.equal(false);
    opt.zeroGrad();
    expect([a, b].every((p) => p.grad === null)).to.equal(true);
    opt.addParamGroup({ params: [param([5])], lr: 1 });
    expect(opt.paramGroups[2]).to.include({ lr: 1, momentum: 0, nesterov: false });
  });

  for (const [name, make] of [
    ['SGD with momentum', (ps: Tensor[]) => new optim.SGD([{ params: ps.slice(0, 1) }, { params: ps.slice(1), lr: 0.05 }], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01, weightDecay: 1e-3 })],
    ['AdamW', (ps: Tensor[]) => new optim.AdamW([{ params: ps.slice(0, 1) }, { params: ps.slice(1), weightDecay: 0 }], { lr: 0.01 })],
  ] as const) {
    it(`${name}: a stateDict round trip continues the identical trajectory (bitwise, float32)`, () => {
      tg.manualSeed(11);
      const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 1));
      const x = tg.randn([8, 3]), y = tg.randn([8, 1]);
      const loss = () => model.forward(x).sub(y).pow(2).mean();
      const opt = make(model.parameters());
      const steps = (o: optim.Optimizer<any>, m: nn.Module, n: number) => {
        for (let i = 0; i < n; i++) {
          o.zeroGrad();
          m.forward(x).sub(y).pow(2).mean().backward();
          o.step();
        }
      };
      steps(opt, model, 3);
      opt.paramGroups[0].lr *= 0.5; // as a scheduler would; restored from the state dict
      const live = opt.stateDict();
      for (const entry of Object.values(live.state)) for (const v of Object.values(entry)) expect(typeof v === 'number' || v instanceof tg.Tensor).to.equal(true);
      const saved = structuredClone({ model: model.stateDict(), opt: live }); // plain data: deep copies, as a checkpoint
      steps(opt, model, 4);
      const expected = model.parameters().map((p) => Array.from(p.data));

      tg.manualSeed(99);
      const fresh = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 1));
      const restoredModel = Object.fromEntries(Object.entries(saved.model).map(([k, t]) => [k, tg.tensor(t.data, { shape: t.shape })]));
      fresh.loadStateDict(restoredModel);
      const opt2 = make(fresh.parameters());
      const restoredState = Object.fromEntries(Object.entries(saved.opt.state).map(([k, e]) =>
        [k, Object.fromEntries(Object.entries(e).map(([f, v]) => [f, typeof v === 'number' ? v : tg.tensor(v.data, { shape: v.shape })]))]));
      opt2.loadStateDict({ state: restoredState, paramGroups: saved.opt.paramGroups });
      expect(opt2.paramGroups[0].lr).to.equal(opt.paramGroups[0].lr);
      steps(opt2, fresh, 4);
      fresh.parameters().forEach((p, i) => expect(Array.from(p.data)).to.deep.equal(expected[i]));
      expect(loss().item()).to.be.a('number');
    });
  }

  it('loadStateDict rejects a different group layout or buffer size', () => {
    const a = param([1, 2]), b = param([3]);
    const opt = new optim.Adam([a, b]);
    run(opt, [a, b], 1);
    const sd = opt.stateDict();
    expect(() => new optim.Adam([{ params: [a] }, { params: [b] }]).loadStateDict(sd)).to.throw(/1 parameter groups, this optimizer has 2/);
    expect(() => new optim.Adam([param([1, 2, 3]), b]).loadStateDict(sd)).to.throw(/'expAvg' of parameter 0 has 2 values, the parameter has 3/);
  });

  it('Adam over a million parameters updates in place (the same arrays)', () => {
    const p = new nn.Parameter(tg.randn([1000, 1000]));
    const data = p.data;
    const opt = new optim.Adam([p]);
    p.grad = tg.ones([1000, 1000]);
    opt.step();
    expect(p.data).to.equal(data);
    expect(opt.state.get(p)!.expAvg).to.be.instanceOf(Float32Array);
  });
});
