// Tensors: creation, dtypes and promotion, broadcasting, printing, seeded randomness, errors.
import { expect } from 'chai';
import * as tg from '../../src/index.js';

describe('tensor creation', () => {
  it('infers shape and dtype from nested arrays', () => {
    const t = tg.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).to.deep.equal([2, 3]);
    expect(t.dtype).to.equal('float32');
    expect(t.ndim).to.equal(2);
    expect(t.size).to.equal(6);
    expect(t.data).to.be.instanceOf(Float32Array);
    expect(t.toArray()).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
  });
  it('makes scalars of shape [] from numbers', () => {
    const t = tg.tensor(3.5);
    expect(t.shape).to.deep.equal([]);
    expect(t.item()).to.equal(3.5);
  });
  it('takes typed arrays with a shape, and booleans as bool', () => {
    expect(tg.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).to.equal('float64');
    expect(tg.tensor(new Int32Array([1, 2])).dtype).to.equal('int32');
    const b = tg.tensor([true, false]);
    expect(b.dtype).to.equal('bool');
    expect(b.toArray()).to.deep.equal([true, false]);
  });
  it('refuses ragged arrays with the place they go wrong', () => {
    expect(() => tg.tensor([[1, 2], [3]])).to.throw(/ragged nested array: data\[1\] has length 1, expected 2/);
    expect(() => tg.tensor([[1, 2], 3] as never)).to.throw(/ragged/);
  });
  it('zeros, ones, full, arange, eye', () => {
    expect(tg.zeros([2, 2]).toArray()).to.deep.equal([[0, 0], [0, 0]]);
    expect(tg.ones([3], { dtype: 'int32' }).toArray()).to.deep.equal([1, 1, 1]);
    expect(tg.full([2], 7).toArray()).to.deep.equal([7, 7]);
    expect(tg.arange(4).toArray()).to.deep.equal([0, 1, 2, 3]);
    expect(tg.arange(4).dtype).to.equal('int32');
    expect(Array.from(tg.arange(0, 1, 0.25).data)).to.deep.equal([0, 0.25, 0.5, 0.75]);
    expect(tg.eye(2).toArray()).to.deep.equal([[1, 0], [0, 1]]);
  });
  it('refuses requiresGrad on an int tensor', () => {
    expect(() => tg.tensor([1, 2], { dtype: 'int32', requiresGrad: true })).to.throw(/only float tensors can require gradients \(got int32\)/);
    expect(() => tg.arange(3).requiresGrad_()).to.throw(/requiresGrad_: only float tensors/);
  });
});

describe('seeded randomness', () => {
  it('manualSeed makes draws reproducible', () => {
    tg.manualSeed(42);
    const a = tg.randn([5]).toArray();
    const r = tg.rand([3]).toArray();
    tg.manualSeed(42);
    expect(tg.randn([5]).toArray()).to.deep.equal(a);
    expect(tg.rand([3]).toArray()).to.deep.equal(r);
  });
  it('saving and restoring the RNG state continues the same stream', () => {
    tg.manualSeed(1);
    tg.rand([10]);
    const state = tg.getRngState();
    const next = tg.randn([4]).toArray();
    tg.rand([7]);
    tg.setRngState(state);
    expect(tg.randn([4]).toArray()).to.deep.equal(next);
  });
  it('randn has mean ≈ 0 and std ≈ 1; randint stays in range', () => {
    tg.manualSeed(3);
    const x = tg.randn([20000]);
    expect(Math.abs(x.mean().item())).to.be.below(0.03);
    expect(Math.abs(x.var().sqrt().item() - 1)).to.be.below(0.03);
    const k = tg.randint(2, 5, [1000]);
    expect(k.min().item()).to.equal(2);
    expect(k.max().item()).to.equal(4);
  });
});

describe('dtype promotion (PyTorch rules)', () => {
  const i = tg.tensor([1, 2], { dtype: 'int32' });
  const f = tg.tensor([1, 2]);
  const d = tg.tensor([1, 2], { dtype: 'float64' });
  const b = tg.tensor([true, false]);
  it('int32 + float32 → float32, float32 + float64 → float64', () => {
    expect(i.add(f).dtype).to.equal('float32');
    expect(f.add(d).dtype).to.equal('float64');
    expect(i.add(i).dtype).to.equal('int32');
  });
  it('numbers are weak scalars; true division of ints gives a float', () => {
    expect(f.mul(2.5).dtype).to.equal('float32');
    expect(d.mul(2).dtype).to.equal('float64');
    expect(i.mul(2).dtype).to.equal('int32');
    expect(i.mul(2.5).dtype).to.equal('float32');
    expect(i.div(i).dtype).to.equal('float32');
    expect(Array.from(i.div(2).data)).to.deep.equal([0.5, 1]);
  });
  it('comparisons give bool, and bool promotes to the other operand', () => {
    const m = f.gt(1);
    expect(m.dtype).to.equal('bool');
    expect(m.toArray()).to.deep.equal([false, true]);
    expect(b.add(f).dtype).to.equal('float32');
    expect(tg.where(m, f, d).dtype).to.equal('float64');
  });
  it('to() converts', () => {
    expect(tg.tensor([1.7, -1.7]).to('int32').toArray()).to.deep.equal([1, -1]);
    expect(tg.tensor([0, 2]).to('bool').toArray()).to.deep.equal([false, true]);
  });
});

describe('broadcasting', () => {
  it('follows NumPy rules', () => {
    const a = tg.arange(6).reshape(2, 3);
    const col = tg.tensor([[10], [20]], { dtype: 'int32' });
    expect(a.add(col).toArray()).to.deep.equal([[10, 11, 12], [23, 24, 25]]);
    expect(a.add(tg.tensor([1, 1, 1], { dtype: 'int32' })).shape).to.deep.equal([2, 3]);
    expect(tg.zeros([4, 1, 3]).add(tg.zeros([2, 1])).shape).to.deep.equal([4, 2, 3]);
  });
  it('refuses mismatched shapes naming the op and both shapes', () => {
    expect(() => tg.zeros([2, 3]).add(tg.zeros([4]))).to.throw('add: shapes [2, 3] and [4] cannot be broadcast (dim 1: 3 vs 4)');
  });
});

describe('printing', () => {
  it('prints like PyTorch', () => {
    expect(tg.tensor([[1, 2], [3, 4]]).toString()).to.equal('tensor([[1., 2.],\n        [3., 4.]])');
    expect(tg.tensor([0.5, -1.25]).toString()).to.equal('tensor([ 0.5000, -1.2500])');
    expect(tg.tensor([1, 2], { dtype: 'int32' }).toString()).to.equal('tensor([1, 2], dtype=int32)');
    expect(tg.tensor([1.5], { dtype: 'float64', requiresGrad: true }).toString()).to.equal('tensor([1.5000], dtype=float64, requires_grad=True)');
    expect(tg.tensor(2).mul(tg.tensor(3, { requiresGrad: true })).toString()).to.equal('tensor(6., grad_fn=<mul>)');
  });
  it('summarises large tensors', () => {
    const s = tg.arange(2000).toString();
    expect(s).to.contain('...');
    expect(s.length).to.be.below(100);
  });
});

describe('errors name the op, the argument and the shapes', () => {
  it('reshape of the wrong size', () => {
    expect(() => tg.zeros([2, 3]).reshape(4, 2)).to.throw('reshape: shape [4, 2] is invalid for input of shape [2, 3] (6 elements)');
  });
  it('dims out of range', () => {
    expect(() => tg.zeros([2, 3]).sum(2)).to.throw('sum: dim 2 is out of range for a tensor of 2 dims (expected -2..1)');
    expect(() => tg.zeros([2, 3]).softmax(-3)).to.throw(/softmax: dim -3 is out of range/);
  });
  it('indexSelect out of range', () => {
    expect(() => tg.zeros([3, 2]).indexSelect(0, tg.tensor([3], { dtype: 'int32' }))).to.throw('indexSelect: index 3 is out of range for dim 0 of size 3 (shape [3, 2])');
  });
  it('matmul shapes', () => {
    expect(() => tg.matmul(tg.zeros([2, 3]), tg.zeros([4, 5]))).to.throw('matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 ≠ 4)');
    expect(() => tg.matmul(tg.zeros([2, 2, 3]), tg.zeros([3, 3, 4]))).to.throw(/matmul: shapes \[2\] and \[3\] cannot be broadcast/);
  });
  it('item on a tensor with several elements', () => {
    expect(() => tg.zeros([2]).item()).to.throw(/item: only a tensor with one element/);
  });
  it('backward on a non-scalar without a gradient', () => {
    const x = tg.ones([2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).to.throw('backward: grad can be omitted only for a single-element tensor (got shape [2]); pass a gradient of that shape');
  });
  it('cat of mismatched shapes', () => {
    expect(() => tg.cat([tg.zeros([2, 3]), tg.zeros([2, 4])], 0)).to.throw('cat: tensor 1 has shape [2, 4], which does not match [2, 3] except in dim 0');
  });
  it('expand to an incompatible shape', () => {
    expect(() => tg.zeros([2, 3]).expand(2, 4)).to.throw(/expand: the tensor's shape \[2, 3\] cannot be expanded to \[2, 4\]/);
  });
});
