// Layers on tiny inputs with weights set by hand, init ranges, and gradients of every parameter
// through gradcheck in float64.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { f64, gradcheckModule, setValues } from './module-helpers.js';

const flat = (t: tg.Tensor) => Array.from(t.data);

describe('nn layers', () => {
  beforeEach(() => tg.manualSeed(1));

  describe('Linear', () => {
    it('computes x·Wᵀ + b with W [out, in]', () => {
      const lin = new nn.Linear(2, 3).double();
      expect(lin.weight.shape).to.deep.equal([3, 2]);
      setValues(lin.weight, [[1, 2], [3, 4], [5, 6]]);
      setValues(lin.bias!, [0.5, -1, 0]);
      expect(lin.forward(f64([[1, -1], [0, 2]])).toArray()).to.deep.equal([[-0.5, -2, -1], [4.5, 7, 12]]);
      expect(new nn.Linear(2, 3, { bias: false }).bias).to.equal(null);
    });

    it("initialises W and b uniformly in ±1/√in (PyTorch's default), reproducibly under a seed", () => {
      tg.manualSeed(7);
      const a = new nn.Linear(16, 32);
      tg.manualSeed(7);
      const b = new nn.Linear(16, 32);
      expect(flat(a.weight)).to.deep.equal(flat(b.weight));
      for (const t of [a.weight, a.bias!]) {
        expect(Math.max(...flat(t).map(Math.abs))).to.be.at.most(0.25).and.above(0.2);
      }
      const mean = flat(a.weight).reduce((s, v) => s + v, 0) / a.weight.size;
      expect(Math.abs(mean)).to.be.below(0.03);
    });

    it('passes gradcheck for input, weight and bias (batched input)', () => {
      const lin = new nn.Linear(3, 2);
      expect(gradcheckModule(lin, [tg.randn([2, 4, 3], { dtype: 'float64', requiresGrad: true })], (x) => lin.forward(x))).to.equal(true);
    });
  });

  describe('activations', () => {
    const x = () => f64([-2, -0.5, 0, 1]);
    it('ReLU, Sigmoid, Tanh (D3–D5)', () => {
      expect(new nn.ReLU().forward(x()).toArray()).to.deep.equal([0, 0, 0, 1]);
      assertClose(new nn.Sigmoid().forward(x()).data, [-2, -0.5, 0, 1].map((v) => 1 / (1 + Math.exp(-v))), 1e-12);
      assertClose(new nn.Tanh().forward(x()).data, [-2, -0.5, 0, 1].map(Math.tanh), 1e-12);
    });

    it('GELU exact and tanh forms', () => {
      assertClose(new nn.GELU().forward(f64([1, -1])).data, [0.8413447460685429, -0.15865525393145707], 1e-12);
      assertClose(new nn.GELU({ approximate: 'tanh' }).forward(f64([1])).data, [0.8411919906082768], 1e-12);
      expect(() => new nn.GELU({ approximate: 'fast' as 'tanh' })).to.throw(/approximate/);
      expect(new nn.GELU({ approximate: 'tanh' }).toString()).to.equal("GELU(approximate='tanh')");
    });

    it('Softmax and LogSoftmax along a dim', () => {
      const e = [1, 2, 3].map(Math.exp), s = e[0] + e[1] + e[2];
      assertClose(new nn.Softmax(1).forward(f64([[1, 2, 3]])).data, e.map((v) => v / s), 1e-12);
      assertClose(new nn.LogSoftmax(0).forward(f64([1, 2, 3])).data, e.map((v) => Math.log(v / s)), 1e-12);
    });
  });

  describe('Sequential', () => {
    it('applies its modules in order and names their parameters 0.weight, 2.bias, …', () => {
      const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1)).double();
      setValues((seq[0] as nn.Linear).weight, [[1, 0], [0, -1]]);
      setValues((seq[0] as nn.Linear).bias!, [0, 0]);
      setValues((seq[2] as nn.Linear).weight, [[2, 3]]);
      setValues((seq[2] as nn.Linear).bias!, [1]);
      expect(seq.forward(f64([[1, 2], [-1, -2]])).toArray()).to.deep.equal([[3], [7]]);
      expect(seq.namedParameters().map(([k]) => k)).to.deep.equal(['0.weight', '0.bias', '2.weight', '2.bias']);
    });
  });

  describe('Conv2d, pools, Flatten', () => {
    it('Conv2d cross-correlates with weight [out, in, kH, kW] plus bias', () => {
      const conv = new nn.Conv2d(1, 1, 2).double();
      setValues(conv.weight, [[[[1, 0], [0, -1]]]]);
      setValues(conv.bias!, [0.5]);
      const x = tg.arange(1, 10).to('float64').reshape(1, 1, 3, 3);
      expect(conv.forward(x).toArray()).to.deep.equal([[[[-3.5, -3.5], [-3.5, -3.5]]]]);
      const padded = new nn.Conv2d(1, 1, 2, { stride: 2, padding: 1, bias: false }).double();
      setValues(padded.weight, [[[[1, 0], [0, -1]]]]);
      // out = p[2i][2j] − p[2i+1][2j+1] on the zero-padded 5×5 image p: 0 − 1, 0 − 3, 0 − 7, 5 − 9
      expect(padded.forward(x).toArray()).to.deep.equal([[[[-1, -3], [-7, -4]]]]);
    });

    it('Conv2d init is U(±1/√(in·kH·kW)) and its gradients check', () => {
      const conv = new nn.Conv2d(2, 3, 3, { padding: 1 });
      expect(conv.weight.shape).to.deep.equal([3, 2, 3, 3]);
      for (const t of [conv.weight, conv.bias!]) expect(Math.max(...flat(t).map(Math.abs))).to.be.at.most(1 / Math.sqrt(18));
      const x = tg.randn([2, 2, 4, 4], { dtype: 'float64', requiresGrad: true });
      expect(gradcheckModule(conv, [x], (x) => conv.forward(x))).to.equal(true);
    });

    it('MaxPool2d, AvgPool2d (stride = kernel by default) and Flatten', () => {
      const x = tg.arange(16).to('float64').reshape(1, 1, 4, 4);
      expect(new nn.MaxPool2d(2).forward(x).toArray()).to.deep.equal([[[[5, 7], [13, 15]]]]);
      expect(new nn.AvgPool2d(2).forward(x).toArray()).to.deep.equal([[[[2.5, 4.5], [10.5, 12.5]]]]);
      expect(new nn.MaxPool2d(3, 1).forward(x).toArray()).to.deep.equal([[[[10, 11], [14, 15]]]]);
      expect(new nn.Flatten().forward(tg.zeros([2, 3, 4, 5])).shape).to.deep.equal([2, 60]);
      expect(new nn.Flatten(0, 1).forward(tg.zeros([2, 3, 4])).shape).to.deep.equal([6, 4]);
    });
  });

  describe('Embedding', () => {
    it('picks rows; init N(0, 1); the padding row is zero and gets no gradient', () => {
      const emb = new nn.Embedding(3, 2).double();
      setValues(emb.weight, [[1, 2], [3, 4], [5, 6]]);
      const idx = tg.tensor([[0, 2], [1, 1]], { dtype: 'int32' });
      expect(emb.forward(idx).toArray()).to.deep.equal([[[1, 2], [5, 6]], [[3, 4], [3, 4]]]);
      const big = new nn.Embedding(1000, 10);
      const v = flat(big.weight), mean = v.reduce((s, x) => s + x, 0) / v.length;
      const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
      expect(Math.abs(mean)).to.be.below(0.05);
      expect(Math.abs(std - 1)).to.be.below(0.05);
      const padded = new nn.Embedding(4, 3, { paddingIdx: 1 });
      expect(flat(padded.weight).slice(3, 6)).to.deep.equal([0, 0, 0]);
      padded.forward(tg.tensor([1, 2, 1], { dtype: 'int32' })).sum().backward();
      expect(flat(padded.weight.grad!)).to.deep.equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    });

    it('passes gradcheck for its weight', () => {
      const emb = new nn.Embedding(5, 3);
      const idx = tg.tensor([[0, 4, 4], [2, 0, 1]], { dtype: 'int32' });
      expect(gradcheckModule(emb, [], () => emb.forward(idx))).to.equal(true);
    });
  });

  describe('LayerNorm', () => {
    it('normalises the last dims then scales and shifts', () => {
      const ln = new nn.LayerNorm(3).double();
      setValues(ln.weight!, [1, 2, 0.5]);
      setValues(ln.bias!, [0, 1, -1]);
      const r = 1 / Math.sqrt(2 / 3 + 1e-5);
      assertClose(ln.forward(f64([[1, 2, 3]])).data, [-r, 1, 0.5 * r - 1], 1e-12);
      expect(new nn.LayerNorm([2, 3], { bias: false }).bias).to.equal(null);
    });

    it('passes gradcheck for input, weight and bias', () => {
      const ln = new nn.LayerNorm(4);
      ln.weight!.data.set([1, 0.5, -1, 2]);
      ln.bias!.data.set([0.1, 0.2, 0.3, 0.4]);
      expect(gradcheckModule(ln, [tg.randn([2, 3, 4], { dtype: 'float64', requiresGrad: true })], (x) => ln.forward(x))).to.equal(true);
    });
  });

  describe('BatchNorm', () => {
    const x = () => f64([[1, 2], [3, 6]]); // per feature: mean [2, 4], biased var [1, 4], unbiased [2, 8]

    it('training normalises with batch statistics and updates the running stats (momentum 0.1)', () => {
      const bn = new nn.BatchNorm1d(2).double();
      const y = bn.forward(x());
      assertClose(y.data, [-1, -1, 1, 1].map((v, i) => v / Math.sqrt(1 + 1e-5 / [1, 4][i % 2])), 1e-12);
      assertClose(bn.runningMean!.data, [0.2, 0.4], 1e-12);
      assertClose(bn.runningVar!.data, [0.9 + 0.2, 0.9 + 0.8], 1e-12);
      expect(bn.numBatchesTracked!.item()).to.equal(1);
    });

    it('after N steps: running = (1 − 0.9ᴺ)·batch + 0.9ᴺ·initial; eval uses them', () => {
      const bn = new nn.BatchNorm1d(2).double();
      setValues(bn.weight!, [2, 1]);
      setValues(bn.bias!, [0, -1]);
      for (let i = 0; i < 3; i++) bn.forward(x());
      const k = 1 - 0.9 ** 3;
      const rm = [2 * k, 4 * k], rv = [0.9 ** 3 + 2 * k, 0.9 ** 3 + 8 * k];
      assertClose(bn.runningMean!.data, rm, 1e-12);
      assertClose(bn.runningVar!.data, rv, 1e-12);
      expect(bn.numBatchesTracked!.item()).to.equal(3);
      bn.eval();
      const xs = [1, 2, 3, 6], w = [2, 1], b = [0, -1];
      assertClose(bn.forward(x()).data, xs.map((v, i) => ((v - rm[i % 2]) / Math.sqrt(rv[i % 2] + 1e-5)) * w[i % 2] + b[i % 2]), 1e-12);
      assertClose(bn.runningMean!.data, rm, 1e-12); // eval leaves the stats alone
      expect(bn.numBatchesTracked!.item()).to.equal(3);
    });

    it('momentum null keeps a cumulative average; trackRunningStats false uses batch stats in eval', () => {
      const bn = new nn.BatchNorm1d(2, { momentum: null }).double();
      bn.forward(x());
      bn.forward(f64([[3, 4], [5, 8]])); // mean [4, 6], unbiased var [2, 8]
      assertClose(bn.runningMean!.data, [3, 5], 1e-12);
      assertClose(bn.runningVar!.data, [2, 8], 1e-12);
      const free = new nn.BatchNorm1d(2, { trackRunningStats: false }).double().eval();
      expect(free.runningMean).to.equal(null);
      expect(free.stateDict()).to.have.keys(['weight', 'bias']);
      assertClose(free.forward(x()).data, [-1, -1, 1, 1], 1e-4);
    });

    it('BatchNorm2d normalises per channel over N, H, W', () => {
      const bn = new nn.BatchNorm2d(2).double();
      const input = tg.randn([3, 2, 2, 2], { dtype: 'float64' });
      const y = bn.forward(input);
      for (let c = 0; c < 2; c++) {
        const vals: number[] = [], outs: number[] = [];
        for (let n = 0; n < 3; n++) for (let s = 0; s < 4; s++) {
          vals.push(input.data[(n * 2 + c) * 4 + s]);
          outs.push(y.data[(n * 2 + c) * 4 + s]);
        }
        const mu = vals.reduce((a, v) => a + v, 0) / 12, v = vals.reduce((a, x) => a + (x - mu) ** 2, 0) / 12;
        assertClose(outs, vals.map((x) => (x - mu) / Math.sqrt(v + 1e-5)), 1e-12);
        assertClose([bn.runningVar!.data[c]], [0.9 + 0.1 * v * 12 / 11], 1e-12);
      }
      expect(() => bn.forward(tg.zeros([2, 3, 2, 2]))).to.throw(/BatchNorm2d: expected input \[N, 2, H, W\]/);
    });

    it('passes gradcheck in training (batch statistics) and in eval (running statistics)', () => {
      const bn = new nn.BatchNorm2d(2);
      bn.weight!.data.set([1.5, -0.5]);
      bn.bias!.data.set([0.1, 0.2]);
      const x = tg.randn([3, 2, 2, 2], { dtype: 'float64', requiresGrad: true });
      expect(gradcheckModule(bn, [x], (x) => bn.forward(x))).to.equal(true);
      bn.eval();
      expect(gradcheckModule(bn, [x], (x) => bn.forward(x))).to.equal(true);
    });
  });

  describe('Dropout', () => {
    it('zeros with probability p and scales survivors by 1/(1−p) in training; identity in eval', () => {
      const drop = new nn.Dropout(0.5);
      const y = drop.forward(tg.ones([1000], { dtype: 'float64' }));
      expect(flat(y).every((v) => v === 0 || v === 2)).to.equal(true);
      const kept = flat(y).filter((v) => v === 2).length;
      expect(kept).to.be.within(430, 570);
      const x = tg.ones([5]);
      expect(drop.eval().forward(x)).to.equal(x);
      expect(() => new nn.Dropout(1.5)).to.throw(/between 0 and 1/);
    });
  });
});
