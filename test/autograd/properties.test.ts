// Algebraic properties and hand-computed values of the core ops.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { assertClose, shape } from '../helpers.js';

const seeded = <T>(seed: number, f: () => T): T => {
  tg.manualSeed(seed);
  return f();
};

describe('algebraic properties', () => {
  it('softmax rows sum to 1 and are shift-invariant', () => {
    fc.assert(fc.property(shape(1, 3, 6), fc.integer(), fc.double({ min: -50, max: 50, noNaN: true }), (s, seed, shift) => {
      const x = seeded(seed, () => tg.randn(s, { dtype: 'float64' }));
      const p = x.softmax(-1);
      assertClose(p.sum(-1).data, new Float64Array(p.size / s[s.length - 1]).fill(1), 1e-12);
      assertClose(x.add(shift).softmax(-1).data, p.data, 1e-12, 1e-9);
    }));
  });
  it('softmax of ±1000 logits has no NaN', () => {
    const p = tg.tensor([[1000, -1000, 0], [-1000, -1000, -1000]]).softmax(-1);
    expect(Array.from(p.data).some(Number.isNaN)).to.equal(false);
    assertClose(p.data, [1, 0, 0, 1 / 3, 1 / 3, 1 / 3], 1e-7);
    expect(Array.from(tg.tensor([1000, -1000]).logSoftmax(0).data)).to.deep.equal([0, -2000]);
  });
  it('(Aᵀ)ᵀ = A and permute then inverse permute is the identity', () => {
    fc.assert(fc.property(shape(2, 4, 4), fc.integer(), (s, seed) => {
      const a = seeded(seed, () => tg.randn(s));
      expect(Array.from(a.transpose(0, -1).transpose(0, -1).data)).to.deep.equal(Array.from(a.data));
      const dims = s.map((_, i) => i).reverse();
      expect(Array.from(a.permute(dims).permute(dims).data)).to.deep.equal(Array.from(a.data));
    }));
  });
  it('matmul is associative within tolerance', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 4, maxLength: 4 }), fc.integer(), ([m, k, l, n], seed) => {
      const [a, b, c] = seeded(seed, () => [tg.randn([m, k], { dtype: 'float64' }), tg.randn([k, l], { dtype: 'float64' }), tg.randn([l, n], { dtype: 'float64' })]);
      assertClose(a.matmul(b).matmul(c).data, a.matmul(b.matmul(c)).data, 1e-10, 1e-10);
    }));
  });
  it('reductions agree with each other: mean = sum / n, var = mean((x − mean)²)·n/(n−1), logsumexp = log Σ exp', () => {
    fc.assert(fc.property(shape(1, 3, 5).filter((s) => s[s.length - 1] > 1), fc.integer(), (s, seed) => {
      const x = seeded(seed, () => tg.randn(s, { dtype: 'float64' }));
      const n = s[s.length - 1];
      assertClose(x.mean(-1).data, x.sum(-1).div(n).data, 1e-12);
      assertClose(x.var(-1).data, x.sub(x.mean(-1, true)).pow(2).mean(-1).mul(n / (n - 1)).data, 1e-12);
      assertClose(x.logsumexp(-1).data, x.exp().sum(-1).log().data, 1e-12);
      assertClose(x.max(-1).data, x.neg().min(-1).neg().data, 0);
      const flatMax = x.max().item();
      expect(x.data[x.argmax().item()]).to.equal(flatMax);
      if (s.length >= 2) assertClose(x.sum([0, -1]).data, x.sum(-1).sum(0).data, 1e-12);
    }));
  });
  it('max(dim) over several dims and keepdim', () => {
    const x = tg.arange(24).reshape(2, 3, 4).to('float32');
    expect(x.max([0, 2]).toArray()).to.deep.equal([15, 19, 23]);
    expect(x.max(1, true).shape).to.deep.equal([2, 1, 4]);
    expect(x.argmax(-1).toArray()).to.deep.equal([[3, 3, 3], [3, 3, 3]]);
  });
});

describe('hand-computed values', () => {
  it('matmul of a 2×2 by 2×2', () => {
    expect(tg.tensor([[1, 2], [3, 4]]).matmul(tg.tensor([[5, 6], [7, 8]])).toArray()).to.deep.equal([[19, 22], [43, 50]]);
  });
  it('softmax of [1, 2, 3]: e^i / (e + e² + e³)', () => {
    const z = Math.E + Math.E ** 2 + Math.E ** 3;
    assertClose(tg.tensor([1, 2, 3], { dtype: 'float64' }).softmax(0).data, [Math.E / z, Math.E ** 2 / z, Math.E ** 3 / z], 1e-15);
  });
  it('gradient of a small expression worked on paper', () => {
    // f = Σ (a·b + a²) with a = [1, 2], b = [3, 4]: ∂f/∂a = b + 2a = [5, 8], ∂f/∂b = a = [1, 2]
    const a = tg.tensor([1, 2], { requiresGrad: true });
    const b = tg.tensor([3, 4], { requiresGrad: true });
    a.mul(b).add(a.pow(2)).sum().backward();
    expect(Array.from(a.grad!.data)).to.deep.equal([5, 8]);
    expect(Array.from(b.grad!.data)).to.deep.equal([1, 2]);
  });
  it('var is unbiased by default: var([1, 2, 3, 4]) = 5/3', () => {
    assertClose(tg.tensor([1, 2, 3, 4], { dtype: 'float64' }).var().data, [5 / 3], 1e-15);
    assertClose(tg.tensor([1, 2, 3, 4], { dtype: 'float64' }).var(null, false, { correction: 0 }).data, [1.25], 1e-15);
  });
  it('gelu exact and tanh at x = 1 (PyTorch values)', () => {
    assertClose(tg.tensor([1], { dtype: 'float64' }).gelu().data, [0.8413447460685429], 1e-15);
    assertClose(tg.tensor([1], { dtype: 'float64' }).gelu({ approximate: 'tanh' }).data, [0.8411919906082768], 1e-15);
  });
  it('maximum splits the gradient of a tie in half', () => {
    const a = tg.tensor([1, 2], { requiresGrad: true });
    const b = tg.tensor([1, 3], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(Array.from(a.grad!.data)).to.deep.equal([0.5, 0]);
    expect(Array.from(b.grad!.data)).to.deep.equal([0.5, 1]);
  });
  it('slice with negative indices and step, split with sizes', () => {
    const x = tg.arange(10);
    expect(x.slice(0, -3).toArray()).to.deep.equal([7, 8, 9]);
    expect(x.slice(0, 1, 8, 3).toArray()).to.deep.equal([1, 4, 7]);
    expect(x.split([3, 7]).map((t) => t.shape[0])).to.deep.equal([3, 7]);
    expect(x.split(4).map((t) => t.shape[0])).to.deep.equal([4, 4, 2]);
  });
  it('squeeze of a dim that is not 1 is a no-op; expand accepts -1', () => {
    expect(tg.zeros([2, 1, 3]).squeeze(0).shape).to.deep.equal([2, 1, 3]);
    expect(tg.zeros([2, 1, 3]).squeeze(1).shape).to.deep.equal([2, 3]);
    expect(tg.zeros([2, 1]).expand(-1, 5).shape).to.deep.equal([2, 5]);
  });
});
