// Loss modules: the functional losses with options fixed at construction.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { f64 } from './module-helpers.js';

describe('nn loss modules', () => {
  it('CrossEntropyLoss (D8): mean of −log softmax(z)[y], ignoreIndex, sum, label smoothing', () => {
    const logits = f64([[1, 2, 3], [1, 1, 1]]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const target = tg.tensor([2, 0], { dtype: 'int32' });
    assertClose([new nn.CrossEntropyLoss().forward(logits, target).item()], [(lse - 3 + Math.log(3)) / 2], 1e-12);
    assertClose([new nn.CrossEntropyLoss({ reduction: 'sum' }).forward(logits, target).item()], [lse - 3 + Math.log(3)], 1e-12);
    assertClose([new nn.CrossEntropyLoss({ ignoreIndex: 0 }).forward(logits, target).item()], [lse - 3], 1e-12);
    const smooth = new nn.CrossEntropyLoss({ labelSmoothing: 0.3 }).forward(logits.slice(0, 0, 1), target.slice(0, 0, 1)).item();
    assertClose([smooth], [0.8 * (lse - 3) + 0.1 * (lse - 1) + 0.1 * (lse - 2)], 1e-12);
    expect(new nn.CrossEntropyLoss({ reduction: 'sum' }).toString()).to.equal("CrossEntropyLoss(reduction='sum')");
  });

  it('NLLLoss on log-probabilities equals CrossEntropyLoss on logits', () => {
    const logits = tg.randn([4, 5], { dtype: 'float64' }), target = tg.tensor([0, 4, 2, 2], { dtype: 'int32' });
    assertClose([new nn.NLLLoss().forward(logits.logSoftmax(-1), target).item()], [new nn.CrossEntropyLoss().forward(logits, target).item()], 1e-12);
  });

  it('MSELoss (D10) is the mean; reduction sum is twice D9', () => {
    const y = f64([1, 2, 3]), t = f64([1, 0, 0]);
    expect(new nn.MSELoss().forward(y, t).item()).to.be.closeTo(13 / 3, 1e-12);
    expect(new nn.MSELoss({ reduction: 'sum' }).forward(y, t).item()).to.be.closeTo(13, 1e-12);
    expect(new nn.MSELoss({ reduction: 'none' }).forward(y, t).toArray()).to.deep.equal([0, 4, 9]);
  });

  it('BCELoss and BCEWithLogitsLoss (with posWeight) agree with the formula', () => {
    const p = f64([0.9, 0.2]), y = f64([1, 0]);
    const bce = -(Math.log(0.9) + Math.log(0.8)) / 2;
    expect(new nn.BCELoss().forward(p, y).item()).to.be.closeTo(bce, 1e-12);
    const z = f64([2, -1]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    expect(new nn.BCEWithLogitsLoss().forward(z, y).item()).to.be.closeTo(-(Math.log(sig(2)) + Math.log(1 - sig(-1))) / 2, 1e-12);
    const weighted = new nn.BCEWithLogitsLoss({ posWeight: f64([3]) }).forward(z, y).item();
    expect(weighted).to.be.closeTo(-(3 * Math.log(sig(2)) + Math.log(1 - sig(-1))) / 2, 1e-12);
  });

  it('losses are differentiable through the module (gradcheck on the input)', () => {
    const logits = tg.randn([3, 4], { dtype: 'float64', requiresGrad: true });
    const target = tg.tensor([1, 3, 0], { dtype: 'int32' });
    expect(tg.gradcheck((z) => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(z, target), [logits])).to.equal(true);
    expect(tg.gradcheck((z) => new nn.BCEWithLogitsLoss().forward(z, f64([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 0]])), [logits])).to.equal(true);
  });
});
