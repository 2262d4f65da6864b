// Losses: gradient rows through the shared helper for every option, values worked out by hand,
// and error messages that name the op and the offending values.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, checkGradients, type GradRow } from '../helpers.js';

const F = tg.F;
const f64 = (data: number[] | number[][]) => tg.tensor(data, { dtype: 'float64' });
const int32 = (data: number[]) => tg.tensor(data, { dtype: 'int32' });
/** Deterministic class targets for n rows of c classes; every `ignoreEvery`-th row after the first is −100. */
const targets = (n: number, c: number, ignoreEvery = 0) =>
  int32(Array.from({ length: n }, (_, i) => (ignoreEvery && i > 0 && i % ignoreEvery === 0 ? -100 : (i * 7 + 3) % c)));
/** Constant positive per-class (or per-element) weights, built inside fn so gradcheck leaves them alone. */
const constant = (size: number, shape: number[] = [size]) => tg.tensor(Array.from({ length: size }, (_, i) => 0.5 + 0.25 * (i % 4)), { dtype: 'float64', shape });
const prob = (s: number[]) => tg.rand(s, { dtype: 'float64' }).mul(0.9).add(0.05);

const dim = (lo: number, hi: number) => fc.integer({ min: lo, max: hi });
const logitsNC = fc.tuple(dim(1, 4), dim(2, 5)).map(([n, c]) => [[n, c]]);
const logitsNCD = fc.tuple(dim(1, 3), dim(2, 4), dim(1, 3)).map(([n, c, d]) => [[n, c, d]]);
const pairShape = fc.array(dim(1, 4), { minLength: 0, maxLength: 3 }).map((s) => [s, s]);
const last = (x: Tensor) => x.shape[x.ndim - 1];

const ce = (opts: Parameters<typeof F.crossEntropy>[2], ignoreEvery = 0) => (x: Tensor) => F.crossEntropy(x, targets(x.shape[0], x.shape[1], ignoreEvery), opts);
const nll = (opts: Parameters<typeof F.nllLoss>[2], ignoreEvery = 0) => (x: Tensor) => F.nllLoss(x, targets(x.shape[0], x.shape[1], ignoreEvery), opts);

const rows: Record<string, GradRow> = {
  'crossEntropy (mean)': { shapes: logitsNC, fn: ce({}) },
  'crossEntropy (sum)': { shapes: logitsNC, fn: ce({ reduction: 'sum' }) },
  'crossEntropy (none)': { shapes: logitsNC, fn: ce({ reduction: 'none' }) },
  'crossEntropy (ignoreIndex −100)': { shapes: logitsNC, fn: ce({}, 2) },
  'crossEntropy (ignoreIndex = a class)': { shapes: logitsNC, fn: (x) => F.crossEntropy(x, targets(x.shape[0], x.shape[1]), { ignoreIndex: 1, reduction: 'sum' }) },
  'crossEntropy (labelSmoothing 0.1)': { shapes: logitsNC, fn: ce({ labelSmoothing: 0.1 }) },
  'crossEntropy (labelSmoothing, ignoreIndex, none)': { shapes: logitsNC, fn: ce({ labelSmoothing: 0.25, reduction: 'none' }, 2) },
  'crossEntropy (class weight, labelSmoothing)': { shapes: logitsNC, fn: (x) => F.crossEntropy(x, targets(x.shape[0], x.shape[1], 3), { weight: constant(x.shape[1]), labelSmoothing: 0.2 }) },
  'crossEntropy ([N, C, d])': { shapes: logitsNCD, fn: (x) => F.crossEntropy(x, targets(x.shape[0] * x.shape[2], x.shape[1]).reshape(x.shape[0], x.shape[2]), { labelSmoothing: 0.1 }) },
  'crossEntropy ([C], scalar target)': { shapes: dim(2, 5).map((c) => [[c]]), fn: (x) => F.crossEntropy(x, int32([last(x) - 1]).reshape([])) },
  'nllLoss (mean)': { shapes: logitsNC, fn: nll({}) },
  'nllLoss (sum, ignoreIndex)': { shapes: logitsNC, fn: nll({ reduction: 'sum' }, 2) },
  'nllLoss (none)': { shapes: logitsNC, fn: nll({ reduction: 'none' }) },
  'nllLoss (class weight)': { shapes: logitsNC, fn: (x) => F.nllLoss(x, targets(x.shape[0], x.shape[1]), { weight: constant(x.shape[1]) }) },
  'nllLoss (of logSoftmax, [N, C, d])': { shapes: logitsNCD, fn: (x) => F.nllLoss(x.logSoftmax(1), targets(x.shape[0] * x.shape[2], x.shape[1]).reshape(x.shape[0], x.shape[2])) },
  'mseLoss (mean)': { shapes: pairShape, fn: (x, t) => F.mseLoss(x, t) },
  'mseLoss (sum)': { shapes: pairShape, fn: (x, t) => F.mseLoss(x, t, { reduction: 'sum' }) },
  'mseLoss (none)': { shapes: pairShape, fn: (x, t) => F.mseLoss(x, t, { reduction: 'none' }) },
  'binaryCrossEntropy (mean)': { shapes: pairShape, fn: (p, t) => F.binaryCrossEntropy(p, t), values: prob },
  'binaryCrossEntropy (sum)': { shapes: pairShape, fn: (p, t) => F.binaryCrossEntropy(p, t, { reduction: 'sum' }), values: prob },
  'binaryCrossEntropy (none, weight)': { shapes: pairShape, fn: (p, t) => F.binaryCrossEntropy(p, t, { reduction: 'none', weight: constant(p.size, [...p.shape]) }), values: prob },
  'bceWithLogits (mean)': { shapes: pairShape, fn: (x, t) => F.bceWithLogits(x, t) },
  'bceWithLogits (sum, weight)': { shapes: pairShape, fn: (x, t) => F.bceWithLogits(x, t, { reduction: 'sum', weight: constant(x.size, [...x.shape]) }) },
  'bceWithLogits (none, posWeight per class)': {
    shapes: fc.array(dim(1, 4), { minLength: 1, maxLength: 3 }).map((s) => [s, s]),
    fn: (x, t) => F.bceWithLogits(x, t, { reduction: 'none', posWeight: constant(last(x)) }),
  },
};

describe('functional losses: gradcheck rows (float64)', () => {
  for (const [name, row] of Object.entries(rows)) it(name, () => checkGradients(row));
});

describe('functional losses: values worked out by hand', () => {
  it('crossEntropy with labelSmoothing 0.1 on a 2×3 example', () => {
    // row 1: z = [1, 2, 3], y = 2. lse = 3 + ln(1 + e⁻¹ + e⁻²) = 3.4076060, log p = z − lse = [−2.4076060, −1.4076060, −0.4076060]
    // nll = 0.4076060; uniform term −Σ log p / 3 = 4.2228179 / 3 = 1.4076060
    // loss = 0.9·0.4076060 + 0.1·1.4076060 = 0.5076060. Row 2 (z = [1, 0, −1], y = 0) is row 1 mirrored: the same.
    const logits = tg.tensor([[1, 2, 3], [1, 0, -1]], { dtype: 'float64', requiresGrad: true });
    const loss = F.crossEntropy(logits, int32([2, 0]), { labelSmoothing: 0.1 });
    expect(loss.shape).to.deep.equal([]);
    assertClose([loss.item()], [0.5076059644], 1e-9);
    // grad = (p − q)/N, p = softmax(z) = [0.0900306, 0.2447285, 0.6652410], q = [0.1/3, 0.1/3, 0.9 + 0.1/3]
    loss.backward();
    assertClose(logits.grad!.data, [0.0283486, 0.1056976, -0.1340462, -0.1340462, 0.1056976, 0.0283486], 1e-7);
  });

  it('crossEntropy ignores rows whose target is ignoreIndex, also in the mean', () => {
    // row 1: z = [0, 0], y = 0 → ln 2 = 0.6931472; row 2 ignored; row 3: p = [1/4, 3/4], y = 1 → −ln ¾ = 0.2876821
    const logits = tg.tensor([[0, 0], [5, -5], [0, Math.log(3)]], { dtype: 'float64', requiresGrad: true });
    const target = int32([0, -100, 1]);
    assertClose([F.crossEntropy(logits, target).item()], [(0.6931472 + 0.2876821) / 2], 1e-7);
    assertClose([F.crossEntropy(logits, target, { reduction: 'sum' }).item()], [0.6931472 + 0.2876821], 1e-7);
    assertClose(F.crossEntropy(logits, target, { reduction: 'none' }).data, [0.6931472, 0, 0.2876821], 1e-7);
    F.crossEntropy(logits, target).backward();
    // mean over the 2 counted rows: row 1 (p − onehot)/2 = [−¼, ¼], row 2 nothing, row 3 [⅛, −⅛]
    assertClose(logits.grad!.data, [-0.25, 0.25, 0, 0, 0.125, -0.125], 1e-12);
  });

  it('crossEntropy equals nllLoss of logSoftmax, for [N, C, d] too', () => {
    tg.manualSeed(3);
    const x = tg.randn([2, 4, 3], { dtype: 'float64' });
    const y = tg.tensor([[0, 3, 1], [2, -100, 3]], { dtype: 'int32' });
    assertClose([F.crossEntropy(x, y).item()], [F.nllLoss(x.logSoftmax(1), y).item()], 1e-12);
    assertClose(F.crossEntropy(x, y, { reduction: 'none' }).data, F.nllLoss(x.logSoftmax(1), y, { reduction: 'none' }).data, 1e-12);
  });

  it('nllLoss with class weights divides by the weights of the counted targets', () => {
    // −(w₁·(−2) + w₀·(−3)) / (w₁ + w₀) = (3·2 + 1·3) / 4 = 2.25; unweighted (2 + 3)/2 = 2.5
    const logProbs = f64([[-1, -2], [-3, -4]]);
    assertClose([F.nllLoss(logProbs, int32([1, 0])).item()], [2.5], 1e-12);
    assertClose([F.nllLoss(logProbs, int32([1, 0]), { weight: f64([1, 3]) }).item()], [2.25], 1e-12);
  });

  it('mseLoss: (x − t)² with each reduction, and its gradient', () => {
    // x − t = [0, 2, −2] → squares [0, 4, 4]: mean 8/3, sum 8; d mean/dx = 2(x − t)/3
    const x = tg.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const t = f64([1, 0, 5]);
    assertClose(F.mseLoss(x, t, { reduction: 'none' }).data, [0, 4, 4]);
    assertClose([F.mseLoss(x, t, { reduction: 'sum' }).item()], [8]);
    const loss = F.mseLoss(x, t);
    assertClose([loss.item()], [8 / 3], 1e-12);
    loss.backward();
    assertClose(x.grad!.data, [0, 4 / 3, -4 / 3], 1e-12);
  });

  it('binaryCrossEntropy: −(t·ln p + (1 − t)·ln(1 − p)), weights, logs clamped at −100', () => {
    // p = [0.5, 0.9], t = [1, 0] → [ln 2, ln 10] = [0.6931472, 2.3025851], mean 1.4978661
    const p = f64([0.5, 0.9]), t = f64([1, 0]);
    assertClose([F.binaryCrossEntropy(p, t).item()], [1.4978661], 1e-7);
    // weight [2, 1]: (2·0.6931472 + 2.3025851)/2 = 1.8444398
    assertClose([F.binaryCrossEntropy(p, t, { weight: f64([2, 1]) }).item()], [1.8444398], 1e-7);
    // p = 0 with t = 1: ln 0 = −∞ is clamped to −100, so the loss is 100, not ∞
    assertClose(F.binaryCrossEntropy(f64([0, 1]), f64([1, 1]), { reduction: 'none' }).data, [100, 0]);
  });

  it('bceWithLogits: stable for large logits, posWeight scales the positive term', () => {
    // x = 0 → σ = ½ → ln 2 whatever the target; posWeight 3 on t = 1 → 3 ln 2 = 2.0794415
    assertClose([F.bceWithLogits(f64([0, 0]), f64([1, 0])).item()], [Math.LN2], 1e-12);
    assertClose([F.bceWithLogits(f64([0]), f64([1]), { posWeight: f64([3]) }).item()], [3 * Math.LN2], 1e-12);
    // x = 1000 with t = 0 costs 1000 (a naive log(1 − σ(x)) would give ∞); x = −1000 with t = 1 likewise
    assertClose(F.bceWithLogits(f64([1000, -1000]), f64([0, 1]), { reduction: 'none' }).data, [1000, 1000]);
    // equal to binaryCrossEntropy of σ(x) where both are finite
    const x = f64([-2, 0.5, 3]), t = f64([0.2, 1, 0]);
    assertClose([F.bceWithLogits(x, t).item()], [F.binaryCrossEntropy(x.sigmoid(), t).item()], 1e-12);
  });

  it('float32 in, float32 out; reductions give shape []', () => {
    const loss = F.crossEntropy(tg.tensor([[1, 2], [3, 4]]), int32([0, 1]));
    expect(loss.dtype).to.equal('float32');
    expect(loss.shape).to.deep.equal([]);
    expect(F.mseLoss(tg.tensor([1, 2]), tg.tensor([0, 0]), { reduction: 'none' }).shape).to.deep.equal([2]);
  });
});

describe('functional losses: errors name the op and the values', () => {
  const logits = tg.zeros([2, 5]);
  it('a class index out of range', () => {
    expect(() => F.crossEntropy(logits, int32([1, 7]))).to.throw('crossEntropy: target 7 is out of range for 5 classes');
    expect(() => F.crossEntropy(logits, int32([-1, 0]))).to.throw('crossEntropy: target -1 is out of range for 5 classes');
    expect(() => F.nllLoss(logits, int32([5, 0]))).to.throw('nllLoss: target 5 is out of range for 5 classes');
  });
  it('a target that is not int32', () => {
    expect(() => F.crossEntropy(logits, tg.tensor([1, 2]))).to.throw(/crossEntropy: target must be an int32 tensor.*float32/);
    expect(() => F.nllLoss(logits, tg.tensor([1, 2], { dtype: 'float64' }))).to.throw(/nllLoss: target must be an int32 tensor.*float64/);
  });
  it('shape mismatches name both shapes', () => {
    expect(() => F.crossEntropy(logits, int32([1, 2, 3]))).to.throw(/crossEntropy: target of shape \[3\] does not match logits of shape \[2, 5\]/);
    expect(() => F.mseLoss(tg.zeros([2, 3]), tg.zeros([3]))).to.throw(/mseLoss: target of shape \[3\] .* input of shape \[2, 3\]/);
    expect(() => F.binaryCrossEntropy(tg.zeros([2]), tg.zeros([2]), { weight: tg.ones([3]) })).to.throw('binaryCrossEntropy: weight of shape [3] cannot be broadcast to shape [2]');
  });
  it('bad options and inputs', () => {
    expect(() => F.crossEntropy(logits, int32([0, 1]), { reduction: 'avg' as never })).to.throw(/crossEntropy: reduction must be 'mean', 'sum' or 'none' \(got 'avg'\)/);
    expect(() => F.crossEntropy(logits, int32([0, 1]), { labelSmoothing: 1.5 })).to.throw(/crossEntropy: labelSmoothing must be between 0 and 1 \(got 1.5\)/);
    expect(() => F.binaryCrossEntropy(tg.tensor([0.5, 1.2]), tg.tensor([1, 0]))).to.throw(/binaryCrossEntropy: all elements of input should be between 0 and 1 \(found 1.2/);
    expect(() => F.binaryCrossEntropy(tg.tensor([0.5]), tg.tensor([1], { dtype: 'int32' }))).to.throw(/binaryCrossEntropy: target must be a float tensor/);
    expect(() => F.nllLoss(logits, int32([0, 1]), { weight: tg.ones([4]) })).to.throw('nllLoss: weight must hold one value per class, shape [5] (got [4])');
    const w = tg.ones([5], { requiresGrad: true });
    expect(() => F.crossEntropy(logits, int32([0, 1]), { weight: w })).to.throw(/crossEntropy: weight gets no gradient/);
    expect(tg.noGrad(() => F.crossEntropy(logits, int32([0, 1]), { weight: w })).item()).to.be.closeTo(Math.log(5), 1e-6);
  });
});
