// Layer functions (linear, dropout, embedding) and normalisation (layerNorm, batchNorm): gradient
// rows through the shared helper, values worked out by hand, and error messages.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, checkGradients, type GradRow } from '../helpers.js';

const F = tg.F;
const f64 = (data: number[] | number[][]) => tg.tensor(data, { dtype: 'float64' });
const dim = (lo: number, hi: number) => fc.integer({ min: lo, max: hi });
const shapeOf = (minDims: number, maxDims: number, lo = 1, hi = 4) => fc.array(dim(lo, hi), { minLength: minDims, maxLength: maxDims });
/** Running stats built inside fn: batchNorm writes into them, and gradcheck must not see them as inputs. */
const runningStats = (c: number) => [tg.zeros([c], { dtype: 'float64' }), tg.tensor(Array.from({ length: c }, (_, i) => 0.5 + i), { dtype: 'float64' })];

const linearShapes = (lead: fc.Arbitrary<number[]>, bias: boolean) =>
  fc.tuple(lead, dim(1, 4), dim(1, 4)).map(([l, i, o]) => (bias ? [[...l, i], [o, i], [o]] : [[...l, i], [o, i]]));
/** x of shape [..., d] with the trailing k dims as the normalised shape, plus weight and bias of that shape. */
const layerNormShapes = (k: number, affine: boolean) =>
  fc.tuple(shapeOf(0, 2), shapeOf(k, k, 2, 4)).map(([lead, norm]) => (affine ? [[...lead, ...norm], norm, norm] : [[...lead, ...norm]]));
/** x of shape [N, C, ...spatial] (N ≥ 2 so every channel has more than one value), weight and bias [C]. */
const batchNormShapes = (spatialDims: number) =>
  fc.tuple(dim(2, 4), dim(1, 3), shapeOf(spatialDims, spatialDims, 1, 3)).map(([n, c, sp]) => [[n, c, ...sp], [c], [c]]);
const batchNormFn = (training: boolean) => (x: Tensor, w: Tensor, b: Tensor) => {
  const [rm, rv] = runningStats(x.shape[1]);
  return F.batchNorm(x, rm, rv, w, b, training, 0.1, 1e-5);
};

const rows: Record<string, GradRow> = {
  'linear (bias)': { shapes: linearShapes(shapeOf(1, 1), true), fn: (x, w, b) => F.linear(x, w, b) },
  'linear (no bias)': { shapes: linearShapes(shapeOf(1, 1), false), fn: (x, w) => F.linear(x, w) },
  'linear (3-D x)': { shapes: linearShapes(shapeOf(2, 2), true), fn: (x, w, b) => F.linear(x, w, b) },
  'linear (bias [] broadcast, as PyTorch)': { shapes: linearShapes(shapeOf(1, 1), true).map(([x, w]) => [x, w, []]), fn: (x, w, b) => F.linear(x, w, b) },
  'linear (1-D x)': { shapes: linearShapes(fc.constant([]), true), fn: (x, w, b) => F.linear(x, w, b) },
  'layerNorm (affine)': { shapes: layerNormShapes(1, true), fn: (x, w, b) => F.layerNorm(x, x.shape[x.ndim - 1], w, b) },
  'layerNorm (no affine)': { shapes: layerNormShapes(1, false), fn: (x) => F.layerNorm(x, [x.shape[x.ndim - 1]]) },
  'layerNorm (2-D normalizedShape, affine)': { shapes: layerNormShapes(2, true), fn: (x, w, b) => F.layerNorm(x, w.shape, w, b, 1e-3) },
  'layerNorm (weight only)': { shapes: layerNormShapes(1, true).map(([x, w]) => [x, w]), fn: (x, w) => F.layerNorm(x, w.shape, w) },
  'batchNorm (train, [N, C])': { shapes: batchNormShapes(0), fn: batchNormFn(true) },
  'batchNorm (train, [N, C, H, W])': { shapes: batchNormShapes(2), fn: batchNormFn(true) },
  'batchNorm (eval, [N, C])': { shapes: batchNormShapes(0), fn: batchNormFn(false) },
  'batchNorm (eval, [N, C, H, W])': { shapes: batchNormShapes(2), fn: batchNormFn(false) },
  'batchNorm (train, no affine, [N, C, L])': {
    shapes: batchNormShapes(1).map(([x]) => [x]),
    fn: (x) => { const [rm, rv] = runningStats(x.shape[1]); return F.batchNorm(x, rm, rv, null, null, true); },
  },
  'embedding (weight, repeated indices)': {
    shapes: fc.tuple(dim(2, 5), dim(1, 4)).map(([v, d]) => [[v, d]]),
    fn: (w) => F.embedding(tg.tensor([[0, w.shape[0] - 1, 0], [1, 0, w.shape[0] - 1]], { dtype: 'int32' }), w),
  },
  'dropout (seeded mask)': { shapes: shapeOf(0, 3).map((s) => [s]), fn: (x) => { tg.manualSeed(7); return F.dropout(x, 0.4, true); } },
};

describe('functional nn and norm: gradcheck rows (float64)', () => {
  for (const [name, row] of Object.entries(rows)) it(name, () => checkGradients(row));
});

describe('linear, dropout, embedding: values', () => {
  it('linear: y = x·Wᵀ + b for W [out, in]', () => {
    // x = [1, 2], W rows [1, 0], [0, 1], [1, 1] → x·Wᵀ = [1, 2, 3]; + b [0.5, 0, −1] = [1.5, 2, 2]
    const x = tg.tensor([[1, 2]], { dtype: 'float64', requiresGrad: true });
    const w = tg.tensor([[1, 0], [0, 1], [1, 1]], { dtype: 'float64', requiresGrad: true });
    const b = tg.tensor([0.5, 0, -1], { dtype: 'float64', requiresGrad: true });
    const y = F.linear(x, w, b);
    expect(y.toArray()).to.deep.equal([[1.5, 2, 2]]);
    y.sum().backward();
    expect(x.grad!.toArray()).to.deep.equal([[2, 2]]); // Σ_out W = column sums
    expect(w.grad!.toArray()).to.deep.equal([[1, 2], [1, 2], [1, 2]]); // each row gets x
    expect(b.grad!.toArray()).to.deep.equal([1, 1, 1]);
    // the same as the composition x·Wᵀ + b, for a 3-D x
    tg.manualSeed(1);
    const x3 = tg.randn([2, 3, 4]), w3 = tg.randn([5, 4]), b3 = tg.randn([5]);
    assertClose(F.linear(x3, w3, b3).data, x3.matmul(w3.T).add(b3).data, 1e-5, 1e-5);
  });

  it('dropout: identity in eval and for p = 0, zeros for p = 1, survivors scaled by 1/(1 − p)', () => {
    const x = tg.ones([10_000]);
    expect(F.dropout(x, 0.5, false)).to.equal(x);
    expect(F.dropout(x, 0, true)).to.equal(x);
    expect(Array.from(F.dropout(x, 1, true).data).every((v) => v === 0)).to.equal(true);
    tg.manualSeed(42);
    const y = F.dropout(x, 0.25, true);
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).to.equal(true);
    expect(kept.length / x.size).to.be.closeTo(0.75, 0.02); // 3σ of a binomial(10⁴, ¾) fraction is 0.013
    tg.manualSeed(42);
    expect(Array.from(F.dropout(x, 0.25, true).data)).to.deep.equal(Array.from(y.data)); // same seed, same mask
  });

  it('dropout: the gradient is the mask times 1/(1 − p)', () => {
    const x = tg.randn([50], { requiresGrad: true });
    tg.manualSeed(5);
    const y = F.dropout(x, 0.5, true);
    y.sum().backward();
    Array.from(y.data).forEach((v, i) => expect(x.grad!.data[i]).to.equal(v === 0 ? 0 : 2));
  });

  it('embedding: rows picked by index of any shape; repeated indices accumulate gradient', () => {
    const w = tg.tensor([[0, 1], [10, 11], [20, 21]], { dtype: 'float64', requiresGrad: true });
    const out = F.embedding(tg.tensor([[0, 2], [2, 2]], { dtype: 'int32' }), w);
    expect(out.shape).to.deep.equal([2, 2, 2]);
    expect(out.toArray()).to.deep.equal([[[0, 1], [20, 21]], [[20, 21], [20, 21]]]);
    out.sum().backward();
    expect(w.grad!.toArray()).to.deep.equal([[1, 1], [0, 0], [3, 3]]); // row 2 used three times
    const w2 = tg.ones([3, 2], { requiresGrad: true });
    F.embedding(tg.tensor([0, 1, 1], { dtype: 'int32' }), w2, { paddingIdx: 1 }).sum().backward();
    expect(w2.grad!.toArray()).to.deep.equal([[1, 1], [0, 0], [0, 0]]); // the padding row gets no gradient
  });
});

describe('layerNorm and batchNorm: values worked out by hand', () => {
  it('layerNorm on a small row', () => {
    // x = [1, 2, 3, 4]: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25 (biased)
    // x̂ = (x − μ)/√(1.25 + 1e-5) = [−1.5, −0.5, 0.5, 1.5]/1.1180385 = [−1.3416354, −0.4472118, 0.4472118, 1.3416354]
    const x = f64([[1, 2, 3, 4]]);
    assertClose(F.layerNorm(x, 4).data, [-1.3416354, -0.4472118, 0.4472118, 1.3416354], 1e-7);
    // affine: y = x̂·w + b with w = [1, 2, 1, 2], b = [0, 0, 1, 1]
    assertClose(F.layerNorm(x, [4], f64([1, 2, 1, 2]), f64([0, 0, 1, 1])).data, [-1.3416354, -0.8944236, 1.4472118, 3.6832708], 1e-7);
    // normalizedShape [2, 2] normalises all four values together: the same numbers
    assertClose(F.layerNorm(f64([[1, 2], [3, 4]]), [2, 2]).data, [-1.3416354, -0.4472118, 0.4472118, 1.3416354], 1e-7);
    // float32 in → float32 out
    expect(F.layerNorm(tg.tensor([[1, 2, 3, 4]]), 4).dtype).to.equal('float32');
  });

  it('batchNorm running stats after 2 training steps, then eval uses them', () => {
    const rm = f64([0]), rv = f64([1]);
    // step 1: x = [1, 3] → μ = 2, σ² = 1 (biased, normalises), unbiased 2 (running):
    //   rm = 0.9·0 + 0.1·2 = 0.2, rv = 0.9·1 + 0.1·2 = 1.1; y = (x − 2)/√(1 + 1e-5) ≈ [−1, 1]
    const y1 = F.batchNorm(f64([[1], [3]]), rm, rv, null, null, true);
    assertClose(y1.data, [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)], 1e-12);
    assertClose(rm.data, [0.2], 1e-12);
    assertClose(rv.data, [1.1], 1e-12);
    // step 2: x = [0, 4, 8] → μ = 4, unbiased σ² = (16 + 0 + 16)/2 = 16, biased 32/3:
    //   rm = 0.9·0.2 + 0.1·4 = 0.58, rv = 0.9·1.1 + 0.1·16 = 2.59; y = (x − 4)/√(32/3 + 1e-5)
    const y2 = F.batchNorm(f64([[0], [4], [8]]), rm, rv, null, null, true);
    assertClose(y2.data, [-4, 0, 4].map((v) => v / Math.sqrt(32 / 3 + 1e-5)), 1e-12);
    assertClose(rm.data, [0.58], 1e-12);
    assertClose(rv.data, [2.59], 1e-12);
    // eval: (x − 0.58)/√(2.59 + 1e-5)·w + b, running stats untouched
    const y3 = F.batchNorm(f64([[1], [2]]), rm, rv, f64([2]), f64([1]), false);
    assertClose(y3.data, [1, 2].map((v) => ((v - 0.58) / Math.sqrt(2.59 + 1e-5)) * 2 + 1), 1e-12);
    assertClose(rm.data, [0.58], 1e-12);
  });

  it('batchNorm on [N, C, H, W] normalises each channel over N, H and W', () => {
    // channel 0 holds 0..3 in sample 0 and 4..7 in sample 1: μ = 3.5, σ² = 5.25; channel 1 is 10× channel 0
    const data = [0, 1, 2, 3, 0, 10, 20, 30, 4, 5, 6, 7, 40, 50, 60, 70];
    const y = F.batchNorm(tg.tensor(data, { dtype: 'float64', shape: [2, 2, 2, 2] }), null, null, null, null, true, 0.1, 0);
    const channel0 = [0, 1, 2, 3, 4, 5, 6, 7].map((v) => (v - 3.5) / Math.sqrt(5.25));
    assertClose(y.data, [...channel0.slice(0, 4), ...channel0.slice(0, 4), ...channel0.slice(4), ...channel0.slice(4)], 1e-12);
  });
});

describe('functional nn and norm: errors name the op and the values', () => {
  it('linear shapes', () => {
    expect(() => F.linear(tg.zeros([2, 3]), tg.zeros([4, 5]))).to.throw(/linear: x of shape \[2, 3\] and w of shape \[4, 5\] do not fit/);
    expect(() => F.linear(tg.zeros([2, 3]), tg.zeros([4, 3]), tg.zeros([5]))).to.throw(/linear: bias of shape \[5\] does not match w of shape \[4, 3\]/);
  });
  it('embedding indices', () => {
    const w = tg.zeros([10, 4]);
    expect(() => F.embedding(tg.tensor([1, 12], { dtype: 'int32' }), w)).to.throw('embedding: index 12 is out of range for a vocabulary of size 10');
    expect(() => F.embedding(tg.tensor([-1], { dtype: 'int32' }), w)).to.throw('embedding: index -1 is out of range for a vocabulary of size 10');
    expect(() => F.embedding(tg.tensor([1, 2]), w)).to.throw(/embedding: indices must be an int32 tensor \(got float32\)/);
  });
  it('dropout probability', () => {
    expect(() => F.dropout(tg.ones([2]), 1.5, true)).to.throw(/dropout: probability p has to be between 0 and 1, but got 1.5/);
    expect(() => F.dropout(tg.ones([2]), -0.1, false)).to.throw(/dropout: .*-0.1/);
  });
  it('layerNorm and batchNorm shapes and modes', () => {
    expect(() => F.layerNorm(tg.zeros([2, 3]), 4)).to.throw(/layerNorm: normalizedShape \[4\] does not match the last dims of input shape \[2, 3\]/);
    expect(() => F.layerNorm(tg.zeros([2, 3]), 3, tg.ones([4]))).to.throw(/layerNorm: weight of shape \[4\] does not match normalizedShape \[3\]/);
    expect(() => F.batchNorm(tg.zeros([1, 3]), null, null, null, null, true)).to.throw(/batchNorm: expected more than 1 value per channel when training, got input of shape \[1, 3\]/);
    expect(() => F.batchNorm(tg.zeros([4, 3]), null, null, null, null, false)).to.throw(/batchNorm: runningMean and runningVar must be given/);
    expect(() => F.batchNorm(tg.zeros([4, 3]), tg.zeros([2]), tg.ones([2]))).to.throw(/batchNorm: runningMean of shape \[2\] does not match the channels of input \[3\]/);
  });
});
