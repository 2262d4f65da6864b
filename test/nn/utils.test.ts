// tg.nn.utils: clipGradNorm (value and scaling, as PyTorch), clipGradValue, L1/L2 penalties (D19).
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const withGrad = (values: number[], grad: number[] | null) => {
  const p = new nn.Parameter(tg.tensor(values, { dtype: 'float64' }));
  p.grad = grad && tg.tensor(grad, { dtype: 'float64' });
  return p;
};

describe('nn.utils', () => {
  it('clipGradNorm returns the total 2-norm and scales by maxNorm / (norm + 1e-6) when above', () => {
    const a = withGrad([0, 0], [3, 4]), b = withGrad([0], [12]), c = withGrad([1], null);
    const norm = nn.utils.clipGradNorm([a, b, c], 6.5);
    expect(norm).to.be.closeTo(13, 1e-12); // √(9 + 16 + 144)
    const coef = 6.5 / (13 + 1e-6);
    assertClose(a.grad!.data, [3 * coef, 4 * coef], 1e-15);
    assertClose(b.grad!.data, [12 * coef], 1e-15);
    expect(c.grad).to.equal(null);
    const after = Math.hypot(...a.grad!.data, ...b.grad!.data);
    expect(after).to.be.closeTo(6.5, 1e-6);
  });

  it('leaves gradients alone below maxNorm; supports the ∞-norm and a single tensor', () => {
    const a = withGrad([0, 0], [3, 4]);
    const g = a.grad;
    expect(nn.utils.clipGradNorm(a, 10)).to.be.closeTo(5, 1e-12);
    expect(a.grad).to.equal(g);
    const b = withGrad([0, 0, 0], [1, -7, 2]);
    expect(nn.utils.clipGradNorm([b], 3.5, Infinity)).to.equal(7);
    assertClose(b.grad!.data, [1, -7, 2].map((v) => (v * 3.5) / (7 + 1e-6)), 1e-15);
    const l1 = withGrad([0, 0], [1, -3]);
    expect(nn.utils.clipGradNorm([l1], 100, 1)).to.be.closeTo(4, 1e-12);
  });

  it('scales a gradient shared by two parameters once (never in place), and can refuse non-finite norms', () => {
    const shared = tg.tensor([3, 4], { dtype: 'float64' });
    const a = withGrad([0, 0], null), b = withGrad([0, 0], null);
    a.grad = shared;
    b.grad = shared;
    expect(nn.utils.clipGradNorm([a, b], 1)).to.be.closeTo(Math.sqrt(50), 1e-12);
    expect(Array.from(shared.data)).to.deep.equal([3, 4]);
    assertClose(a.grad!.data, b.grad!.data, 0);
    expect(() => nn.utils.clipGradNorm([withGrad([0], [NaN])], 1, 2, { errorIfNonfinite: true })).to.throw(/non|NaN/);
  });

  it('clipGradValue clamps each element', () => {
    const a = withGrad([0, 0, 0], [-5, 0.5, 3]);
    nn.utils.clipGradValue([a], 1);
    expect(Array.from(a.grad!.data)).to.deep.equal([-1, 0.5, 1]);
  });

  it('l1Penalty = Σ|θ| and l2Penalty = Σθ², differentiable (∂ = sign θ and 2θ)', () => {
    const a = new nn.Parameter(tg.tensor([1, -2], { dtype: 'float64' })), b = new nn.Parameter(tg.tensor([[3]], { dtype: 'float64' }));
    const l1 = nn.utils.l1Penalty([a, b]), l2 = nn.utils.l2Penalty([a, b]);
    expect(l1.item()).to.equal(6);
    expect(l2.item()).to.equal(14);
    l2.backward();
    expect(Array.from(a.grad!.data)).to.deep.equal([2, -4]);
    expect(Array.from(b.grad!.data)).to.deep.equal([6]);
  });
});
