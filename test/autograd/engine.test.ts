// The backward engine: accumulation, noGrad, detach, deep graphs, and memory that stays flat.
import { expect } from 'chai';
import * as tg from '../../src/index.js';

describe('autograd engine', () => {
  it('accumulates gradients into leaves across backward calls until zeroGrad', () => {
    const x = tg.tensor([1, 2], { requiresGrad: true });
    x.mul(x).sum().backward(); // d(Σx²)/dx = 2x
    expect(Array.from(x.grad!.data)).to.deep.equal([2, 4]);
    x.mul(3).sum().backward();
    expect(Array.from(x.grad!.data)).to.deep.equal([5, 7]);
    x.zeroGrad();
    expect(x.grad).to.equal(null);
  });
  it('a tensor used twice gets both contributions', () => {
    const x = tg.tensor(3, { requiresGrad: true });
    const y = x.mul(x).add(x); // y = x² + x, dy/dx = 2x + 1 = 7
    y.backward();
    expect(x.grad!.item()).to.equal(7);
  });
  it('noGrad records nothing; detach cuts the graph', () => {
    const x = tg.tensor([1, 2], { requiresGrad: true });
    const y = tg.noGrad(() => x.mul(2));
    expect(y.requiresGrad).to.equal(false);
    expect(y.gradFn).to.equal(null);
    const z = x.mul(2).detach();
    expect(z.requiresGrad).to.equal(false);
    const w = x.mul(z).sum();
    w.backward();
    expect(Array.from(x.grad!.data)).to.deep.equal([2, 4]);
  });
  it('backward with an explicit gradient for a non-scalar', () => {
    const x = tg.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(2).backward(tg.tensor([1, 0.5, 0]));
    expect(Array.from(x.grad!.data)).to.deep.equal([2, 1, 0]);
  });
  it('retainGrad keeps the gradient of an intermediate', () => {
    const x = tg.tensor([1, 2], { requiresGrad: true });
    const h = x.mul(3).retainGrad();
    h.sum().backward();
    expect(Array.from(h.grad!.data)).to.deep.equal([1, 1]);
  });
  it('backward through a chain of 100,000 ops (no recursion limit)', () => {
    const x = tg.tensor(1, { requiresGrad: true, dtype: 'float64' });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.add(1e-6);
    y = y.mul(2);
    y.backward();
    expect(x.grad!.item()).to.equal(2);
  });
  it('gradcheck reports the input, the element and both values when a gradient is wrong', () => {
    const x = tg.randn([3], { dtype: 'float64', requiresGrad: true });
    const wrong = (t: tg.Tensor) => tg.add(t.detach().mul(t.detach()), t.mul(0)); // claims ∂/∂x = 0
    expect(() => tg.gradcheck(wrong, [x])).to.throw(/gradcheck: input 0 \(shape \[3\]\), element 0: analytic gradient 0 vs numerical/);
  });
  it('setDetectAnomaly names the op that produced a non-finite gradient', () => {
    tg.setDetectAnomaly(true);
    try {
      const x = tg.tensor([0, 1], { requiresGrad: true });
      expect(() => x.sqrt().sum().backward()).to.throw(/backward: sqrt produced a non-finite gradient/);
    } finally {
      tg.setDetectAnomaly(false);
    }
  });
  it('1,000 forward/backward iterations on [256, 256] keep memory flat', function () {
    this.timeout(120_000);
    const w = tg.randn([256, 256], { requiresGrad: true });
    const x = tg.randn([256, 256]);
    const step = () => {
      const loss = x.matmul(w).relu().mean();
      loss.backward();
      w.zeroGrad();
    };
    for (let i = 0; i < 100; i++) step();
    global.gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) step();
    global.gc?.();
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    expect(grown).to.be.below(150, `RSS grew by ${grown.toFixed(0)} MB`);
  });
});
