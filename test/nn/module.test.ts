// Module: discovery by assignment, dotted names, buffers, modes, state dicts, dtype, printing.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

class Block extends nn.Module {
  attn = new nn.Linear(4, 4);
  norm = new nn.BatchNorm1d(4);
  override forward(x: Tensor): Tensor {
    return this.norm.forward(this.attn.forward(x));
  }
}

class Net extends nn.Module {
  scale: nn.Parameter;
  h: nn.ModuleList<Block>;
  head: nn.Linear;
  constructor() {
    super();
    this.scale = new nn.Parameter(tg.ones([1]));
    this.h = new nn.ModuleList([new Block(), new Block()]);
    this.head = new nn.Linear(4, 2, { bias: false });
  }
  override forward(x: Tensor): Tensor {
    for (const b of this.h) x = b.forward(x);
    return this.head.forward(x.mul(this.scale));
  }
}

describe('nn.Module', () => {
  beforeEach(() => tg.manualSeed(0));

  it('finds parameters, buffers and submodules by assignment, with dotted names in order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).to.deep.equal([
      'scale', 'h.0.attn.weight', 'h.0.attn.bias', 'h.0.norm.weight', 'h.0.norm.bias',
      'h.1.attn.weight', 'h.1.attn.bias', 'h.1.norm.weight', 'h.1.norm.bias', 'head.weight',
    ]);
    expect(net.namedBuffers().map(([k]) => k)).to.deep.equal([
      'h.0.norm.runningMean', 'h.0.norm.runningVar', 'h.0.norm.numBatchesTracked',
      'h.1.norm.runningMean', 'h.1.norm.runningVar', 'h.1.norm.numBatchesTracked',
    ]);
    expect(net.namedChildren().map(([k]) => k)).to.deep.equal(['h', 'head']);
    expect(net.children()).to.have.length(2);
    expect(net.namedModules().map(([k]) => k)).to.deep.equal(['', 'h', 'h.0', 'h.0.attn', 'h.0.norm', 'h.1', 'h.1.attn', 'h.1.norm', 'head']);
    expect(net.modules()).to.have.length(9);
    expect(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad)).to.equal(true);
    expect(net.numParameters()).to.equal(1 + 2 * (16 + 4 + 4 + 4) + 8);
  });

  it('registers explicitly too, and a shared parameter is listed once', () => {
    const m = new nn.Module();
    m.registerParameter('w', tg.zeros([2]));
    m.registerBuffer('mask', tg.ones([2]));
    m.registerBuffer('cache', tg.ones([3]), { persistent: false });
    const lin = m.registerModule('lin', new nn.Linear(2, 2));
    m.registerModule('tied', new nn.Linear(2, 2, { bias: false }));
    (m as any).tied.weight = lin.weight;
    expect(m.namedParameters().map(([k]) => k)).to.deep.equal(['w', 'lin.weight', 'lin.bias']);
    expect(m.namedBuffers().map(([k]) => k)).to.deep.equal(['mask', 'cache']);
    expect(Object.keys(m.stateDict())).to.deep.equal(['w', 'mask', 'lin.weight', 'lin.bias', 'tied.weight']);
    expect(m.numParameters()).to.equal(2 + 6);
  });

  it('call is forward; train/eval switch every module; zeroGrad clears gradients', () => {
    const net = new Net();
    const x = tg.randn([3, 4]);
    expect(net.call(x).toArray()).to.deep.equal(net.forward(x).toArray());
    net.eval();
    expect(net.modules().every((m) => !m.training)).to.equal(true);
    net.train();
    expect(net.modules().every((m) => m.training)).to.equal(true);
    net.forward(x).sum().backward();
    expect(net.parameters().every((p) => p.grad !== null)).to.equal(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).to.equal(true);
  });

  it('apply visits children first, then the module', () => {
    const seen: string[] = [];
    new nn.Sequential(new nn.Linear(1, 1), new nn.Sequential(new nn.ReLU())).apply((m) => seen.push(m.constructor.name));
    expect(seen).to.deep.equal(['Linear', 'ReLU', 'Sequential', 'Sequential']);
  });

  it('stateDict holds detached tensors of params and buffers; loadStateDict copies in place keeping identity', () => {
    const a = new Net(), b = new Net();
    const sd = a.stateDict();
    expect(Object.keys(sd)).to.include.members(['scale', 'h.0.norm.runningMean', 'h.1.norm.numBatchesTracked', 'head.weight']);
    expect(Object.values(sd).every((t) => !t.requiresGrad && t.gradFn === null)).to.equal(true);
    const before = b.parameters();
    const result = b.loadStateDict(sd);
    expect(result).to.deep.equal({ missingKeys: [], unexpectedKeys: [] });
    expect(b.parameters()).to.deep.equal(before); // same objects
    b.parameters().forEach((p, i) => expect(p).to.equal(before[i]));
    for (const [k, t] of Object.entries(b.stateDict())) expect(Array.from(t.data)).to.deep.equal(Array.from(sd[k].data), k);
    const x = tg.randn([3, 4]);
    a.eval(); b.eval();
    expect(b.forward(x).toArray()).to.deep.equal(a.forward(x).toArray());
  });

  it('strict loadStateDict names every missing and unexpected key and every shape mismatch in one error', () => {
    const net = new Net();
    const sd = net.stateDict();
    delete sd['h.1.attn.bias'];
    delete sd['h.0.norm.runningVar'];
    sd['extra.weight'] = tg.zeros([1]);
    sd['head.weight'] = tg.zeros([3, 4]);
    let message = '';
    try {
      net.loadStateDict(sd);
    } catch (e) {
      message = (e as Error).message;
    }
    for (const key of ['h.1.attn.bias', 'h.0.norm.runningVar', 'extra.weight', 'head.weight', '[3, 4]', '[2, 4]']) expect(message).to.include(key);
    expect(message).to.match(/missing keys/).and.match(/unexpected keys/).and.match(/size mismatch/);
  });

  it('non-strict loading reports missing/unexpected keys but still rejects a shape mismatch', () => {
    const net = new Net();
    const result = net.loadStateDict({ 'head.weight': tg.full([2, 4], 3), other: tg.zeros([1]) }, { strict: false });
    expect(result.unexpectedKeys).to.deep.equal(['other']);
    expect(result.missingKeys).to.include('scale');
    expect(Array.from(net.head.weight.data)).to.deep.equal(new Array(8).fill(3));
    expect(() => net.loadStateDict({ scale: tg.zeros([2]) }, { strict: false })).to.throw(/scale: shape \[2\] in the dict, \[1\] in the model/);
  });

  it('to(float64) converts parameters and float buffers in place, keeping their identity', () => {
    const net = new Net();
    const params = net.parameters();
    const values = params.map((p) => Array.from(p.data));
    net.to('float64');
    net.parameters().forEach((p, i) => {
      expect(p).to.equal(params[i]);
      expect(p.dtype).to.equal('float64');
      expect(p.data).to.be.instanceOf(Float64Array);
      expect(Array.from(p.data)).to.deep.equal(values[i]);
    });
    expect(net.h[0].norm.runningMean!.dtype).to.equal('float64');
    expect(net.h[0].norm.numBatchesTracked!.dtype).to.equal('int32');
    expect(net.forward(tg.randn([2, 4], { dtype: 'float64' })).dtype).to.equal('float64');
    expect(net.float().head.weight.dtype).to.equal('float32');
  });

  it('toString prints the tree like PyTorch', () => {
    const m = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Dropout(0.1), new nn.Linear(256, 10, { bias: false }));
    expect(m.toString()).to.equal([
      'Sequential(',
      '  (0): Linear(in_features=784, out_features=256, bias=true)',
      '  (1): ReLU()',
      '  (2): Dropout(p=0.1)',
      '  (3): Linear(in_features=256, out_features=10, bias=false)',
      ')',
    ].join('\n'));
    const nested = new nn.Sequential(new nn.Sequential(new nn.Tanh()), new nn.Conv2d(1, 6, 5, { padding: 2 }));
    expect(nested.toString()).to.equal([
      'Sequential(',
      '  (0): Sequential(',
      '    (0): Tanh()',
      '  )',
      '  (1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))',
      ')',
    ].join('\n'));
  });

  it('containers: indexing, get with negative index, length, append, iteration, errors', () => {
    const list = new nn.ModuleList([new nn.ReLU()]);
    list.append(new nn.Tanh());
    expect(list.length).to.equal(2);
    expect(list[1]).to.be.instanceOf(nn.Tanh);
    expect(list.get(-1)).to.be.instanceOf(nn.Tanh);
    expect([...list].map((m) => m.constructor.name)).to.deep.equal(['ReLU', 'Tanh']);
    expect(() => list.get(2)).to.throw(/index 2 is out of range/);
    expect(() => list.forward()).to.throw(/ModuleList/);
    expect(() => new nn.Module().forward()).to.throw(/forward is not implemented/);
  });
});

describe('nn.Module pitfalls', () => {
  it('a plain array of modules is an error naming the property, not silently untrained weights', () => {
    class Bad extends nn.Module {
      layers = [new nn.Linear(1, 1)];
    }
    expect(() => new Bad().parameters()).to.throw(/property 'layers' is a plain array of modules.*ModuleList/);
  });

  it('requiresGrad_(false) freezes every parameter (they stay in parameters())', () => {
    const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 1));
    (m[0] as nn.Module).requiresGrad_(false);
    expect(m.parameters().map((p) => p.requiresGrad)).to.deep.equal([false, false, true, true]);
    expect(m.numParameters({ trainableOnly: true })).to.equal(3);
  });
});
