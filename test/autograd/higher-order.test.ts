// Higher-order gradients (createGraph, tg.grad, gradgradcheck) and the fused ops' composite twins:
// each fused op must equal the function composed of recorded ops, in values and in gradients.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const F = tg.F;
const f64 = (shape: number[], seed: number, requiresGrad = true) => {
  tg.manualSeed(seed);
  return tg.randn(shape, { dtype: 'float64', requiresGrad });
};

describe('gradient accumulation in place', () => {
  it('slices of one tensor, each used twice, and x + x sum their gradients exactly (the engine adds into its own buffers)', () => {
    const x = tg.tensor([1, 2, 3, 4, 5, 6], { dtype: 'float64', requiresGrad: true });
    const [a, b, c] = x.split(2, 0);
    const y = a.mul(2).sum().add(a.pow(2).sum()).add(b.mul(3).sum()).add(b.sum()).add(c.mul(c).sum()).add(x.add(x).sum());
    y.backward();
    // d/dx: a → 2 + 2a, b → 3 + 1, c → 2c, plus 2 from x + x everywhere
    expect(Array.from(x.grad!.data)).to.deep.equal([2 + 2 + 2, 2 + 4 + 2, 4 + 2, 4 + 2, 10 + 2, 12 + 2]);
    // a second backward adds the same again into .grad, which the engine must not have reused
    const firstGrad = Array.from(x.grad!.data);
    y.backward();
    expect(Array.from(x.grad!.data)).to.deep.equal(firstGrad.map((v) => 2 * v));
  });
});

describe('tg.grad and createGraph', () => {
  it('d²(x³)/dx² = 6x through createGraph, and .grad is left untouched', () => {
    const x = tg.tensor([0.5, -2, 3], { dtype: 'float64', requiresGrad: true });
    const y = x.pow(3).sum();
    const [dx] = tg.grad([y], [x], { createGraph: true });
    assertClose(dx!.data, [0.75, 12, 27], 1e-12);
    expect(dx!.requiresGrad).to.equal(true);
    const [d2x] = tg.grad([dx!.sum()], [x]);
    assertClose(d2x!.data, [3, -12, 18], 1e-12);
    expect(x.grad).to.equal(null);
  });

  it('backward with createGraph records .grad, which can be differentiated again', () => {
    const x = tg.tensor(1.5, { dtype: 'float64', requiresGrad: true });
    x.exp().mul(x).backward(undefined, { createGraph: true }); // d(x·eˣ) = (1 + x)eˣ
    const g = x.grad!;
    assertClose([g.item()], [2.5 * Math.exp(1.5)], 1e-12);
    const [h] = tg.grad([g], [x]); // (2 + x)eˣ
    assertClose([h!.item()], [3.5 * Math.exp(1.5)], 1e-12);
  });

  it('a total derivative follows every path, also through another input', () => {
    const x = tg.tensor(2, { dtype: 'float64', requiresGrad: true });
    const y = x.mul(x); // y depends on x
    const z = y.mul(x); // z = x³
    const [dx, dy] = tg.grad([z], [x, y]);
    assertClose([dx!.item(), dy!.item()], [12, 2], 1e-12);
  });

  it('several outputs with gradOutputs sum their contributions', () => {
    const x = tg.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const [g] = tg.grad([x.mul(3), x.mul(x)], [x], { gradOutputs: [tg.tensor([1, 1], { dtype: 'float64' }), tg.tensor([2, 0.5], { dtype: 'float64' })] });
    assertClose(g!.data, [3 + 2 * 2 * 1, 3 + 0.5 * 2 * 2], 1e-12);
  });

  it('an unused input is an error unless allowUnused, then null', () => {
    const x = tg.tensor([1], { dtype: 'float64', requiresGrad: true });
    const u = tg.tensor([1], { dtype: 'float64', requiresGrad: true });
    expect(() => tg.grad([x.sum()], [x, u])).to.throw(/grad: input 1 .* was not used/);
    expect(tg.grad([x.sum()], [x, u], { allowUnused: true })[1]).to.equal(null);
  });

  it('retainGraph: false frees the graph: a second backward names the op', () => {
    const x = tg.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: false });
    expect(() => y.backward()).to.throw(/already freed/);
  });

  it('a Hessian-vector product equals finite differences of the gradient', () => {
    const f = (w: Tensor) => w.tanh().mul(w.sigmoid()).sum().add(w.pow(2).sum().mul(0.1));
    const w = f64([5], 1), v = f64([5], 2, false);
    const [g] = tg.grad([f(w)], [w], { createGraph: true });
    const [hv] = tg.grad([g!.mul(v).sum()], [w]);
    const eps = 1e-6;
    const plus = w.detach().add(v.mul(eps)).requiresGrad_(), minus = w.detach().add(v.mul(-eps)).requiresGrad_();
    const [gp] = tg.grad([f(plus)], [plus]), [gm] = tg.grad([f(minus)], [minus]);
    assertClose(hv!.data, gp!.sub(gm!).div(2 * eps).data, 1e-7, 1e-5);
  });

  it('gradgradcheck catches a wrong second derivative', () => {
    // a custom op whose first derivative is right and whose derivative of it is not differentiated (detached)
    const wrong = (x: Tensor) => {
      const y = x.pow(3);
      const out = tg.tensor(y.data, { dtype: 'float64', shape: [...y.shape] });
      out.requiresGrad = true;
      out.gradFn = { op: 'cubeWithDetachedRule', inputs: [x], backward: (g) => [g.mul(x.detach().pow(2).mul(3))] };
      return out;
    };
    const x = f64([3], 4);
    expect(tg.gradcheck(wrong, [x])).to.equal(true);
    expect(() => tg.gradgradcheck(wrong, [x])).to.throw(/gradgradcheck: input 0 .*\(second derivative\)/);
    expect(tg.gradgradcheck((t) => t.pow(3), [x])).to.equal(true);
  });
});

/** A fused op's output, its composite twin's output on the same inputs, and the gradients of both. */
function compareWithComposite(name: string, make: () => { out: Tensor; inputs: Tensor[] }): void {
  it(name, () => {
    const { out, inputs } = make();
    const fn = out.gradFn!;
    expect(fn.composite, `${name} has a composite twin`).to.be.a('function');
    const twin = fn.composite!(...fn.inputs);
    assertClose(twin.data, out.data, 1e-10, 1e-9, `${name} value`);
    const u = tg.randn([...out.shape], { dtype: 'float64' });
    const fast = tg.grad([out], inputs, { gradOutputs: [u] });
    const composed = tg.grad([twin], inputs, { gradOutputs: [u] });
    fast.forEach((g, i) => assertClose(g!.data, composed[i]!.data, 1e-10, 1e-9, `${name} gradient of input ${i}`));
  });
}

describe('fused ops equal their composites (values and gradients, float64)', () => {
  compareWithComposite('relu', () => { const x = f64([4, 5], 1); return { out: x.relu(), inputs: [x] }; });
  compareWithComposite('gelu (erf)', () => { const x = f64([4, 5], 2); return { out: x.gelu(), inputs: [x] }; });
  compareWithComposite('gelu (tanh)', () => { const x = f64([4, 5], 3); return { out: x.gelu({ approximate: 'tanh' }), inputs: [x] }; });
  compareWithComposite('softmax (dim 0)', () => { const x = f64([3, 4, 2], 4); return { out: x.softmax(0), inputs: [x] }; });
  compareWithComposite('linear', () => { const x = f64([2, 3, 4], 5), w = f64([6, 4], 6), b = f64([6], 7); return { out: F.linear(x, w, b), inputs: [x, w, b] }; });
  compareWithComposite('crossEntropy (weights, smoothing, ignoreIndex, [N, C, d])', () => {
    const z = f64([3, 4, 2], 8);
    const y = tg.tensor([[0, 3], [2, -100], [1, 1]], { dtype: 'int32' });
    return { out: F.crossEntropy(z, y, { labelSmoothing: 0.2, weight: tg.tensor([1, 2, 0.5, 1], { dtype: 'float64' }) }), inputs: [z] };
  });
  compareWithComposite('crossEntropy (reduction none)', () => {
    const z = f64([5, 3], 9);
    return { out: F.crossEntropy(z, tg.tensor([0, 2, 1, 1, 0], { dtype: 'int32' }), { reduction: 'none' }), inputs: [z] };
  });
  compareWithComposite('layerNorm', () => { const x = f64([3, 2, 5], 10), w = f64([2, 5], 11), b = f64([2, 5], 12); return { out: F.layerNorm(x, [2, 5], w, b), inputs: [x, w, b] }; });
  compareWithComposite('batchNorm (train)', () => {
    const x = f64([4, 3, 2], 13), w = f64([3], 14), b = f64([3], 15);
    return { out: F.batchNorm(x, tg.zeros([3], { dtype: 'float64' }), tg.ones([3], { dtype: 'float64' }), w, b, true), inputs: [x, w, b] };
  });
  compareWithComposite('batchNorm (eval)', () => {
    const x = f64([4, 3], 16), w = f64([3], 17);
    return { out: F.batchNorm(x, tg.tensor([0.1, -0.2, 0.3], { dtype: 'float64' }), tg.tensor([1.5, 0.5, 2], { dtype: 'float64' }), w, null, false), inputs: [x, w] };
  });
  compareWithComposite('scaledDotProductAttention (causal, float mask, dropout)', () => {
    const q = f64([2, 3, 4], 18), k = f64([2, 5, 4], 19), v = f64([2, 5, 3], 20), m = f64([3, 5], 21);
    tg.manualSeed(5);
    return { out: F.scaledDotProductAttention(q, k, v, { causal: true, mask: m, dropout: 0.3 }), inputs: [q, k, v, m] };
  });
  compareWithComposite('scaledDotProductAttention (bool mask with a fully masked row)', () => {
    const q = f64([3, 4], 22), k = f64([3, 4], 23), v = f64([3, 2], 24);
    const mask = tg.tensor([[true, false, true], [false, false, false], [true, true, true]]);
    return { out: F.scaledDotProductAttention(q, k, v, { mask }), inputs: [q, k, v] };
  });
  compareWithComposite('packedAttention (causal, float mask [1, H, T, T], dropout)', () => {
    const qkv = f64([2, 4, 12], 28), m = f64([1, 2, 4, 4], 29);
    tg.manualSeed(6);
    return { out: F.packedAttention(qkv, 2, { causal: true, mask: m, dropout: 0.3 }), inputs: [qkv, m] };
  });
  compareWithComposite('conv2d (stride, padding, dilation, groups)', () => {
    const x = f64([2, 4, 6, 5], 25), w = f64([6, 2, 3, 2], 26), b = f64([6], 27);
    return { out: F.conv2d(x, w, b, { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 }), inputs: [x, w, b] };
  });
  compareWithComposite('maxPool2d (padding, ceil mode)', () => { const x = f64([2, 3, 5, 5], 28); return { out: F.maxPool2d(x, 3, 2, { padding: 1, ceilMode: true }), inputs: [x] }; });
  compareWithComposite('avgPool2d (padding, ceil mode, countIncludePad false)', () => {
    const x = f64([1, 2, 5, 4], 29);
    return { out: F.avgPool2d(x, 3, 2, { padding: 1, ceilMode: true, countIncludePad: false }), inputs: [x] };
  });
  compareWithComposite('avgPool2d (divisorOverride)', () => { const x = f64([1, 1, 4, 4], 30); return { out: F.avgPool2d(x, 2, 2, { divisorOverride: 3 }), inputs: [x] }; });
});
