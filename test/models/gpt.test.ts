// GPT: learning, causality, generation, and gradients of the whole model in float64.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { preset } from '../../src/models/presets.js';
import { MLP } from '../../src/models/mlp.js';
import { LeNet5 } from '../../src/models/lenet.js';

const nano = () => new GPT(preset('gpt-nano'));

describe('GPT', () => {
  it('overfits a tiny fixed batch (loss < 0.3 in 60 Adam steps)', function () {
    this.timeout(60_000);
    tg.manualSeed(0);
    const model = nano();
    const opt = new tg.optim.Adam(model.parameters(), { lr: 3e-3 });
    const idx = tg.randint(0, 65, [2, 16]);
    const targets = tg.cat([idx.slice(1, 1), tg.randint(0, 65, [2, 1])], 1);
    let first = 0, last = 0;
    for (let step = 0; step < 60; step++) {
      opt.zeroGrad();
      const { loss } = model.forward(idx, targets);
      loss!.backward();
      opt.step();
      if (step === 0) first = loss!.item();
      last = loss!.item();
    }
    expect(first).to.be.closeTo(Math.log(65), 0.3); // starts near uniform
    expect(last).to.be.below(0.3);
  });

  it('logits at position t do not change when tokens after t change (causality)', () => {
    tg.manualSeed(1);
    const model = nano();
    model.eval();
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 64 }), (tokens, t, replacement) => {
      const a = tg.tensor([tokens], { dtype: 'int32' });
      const changed = [...tokens];
      for (let j = t + 1; j < changed.length; j++) changed[j] = (changed[j] + replacement + 1) % 65;
      const b = tg.tensor([changed], { dtype: 'int32' });
      const la = tg.noGrad(() => model.forward(a).logits.slice(1, 0, t + 1));
      const lb = tg.noGrad(() => model.forward(b).logits.slice(1, 0, t + 1));
      expect(Array.from(lb.data)).to.deep.equal(Array.from(la.data));
    }), { numRuns: 15 });
  });

  it('generate is reproducible with a seed, respects topK and crops to the block size', () => {
    tg.manualSeed(2);
    const model = nano();
    const prompt = tg.tensor([[1, 2, 3]], { dtype: 'int32' });
    tg.manualSeed(7);
    const a = model.generate(prompt, 40, { temperature: 1.0 });
    tg.manualSeed(7);
    const b = model.generate(prompt, 40, { temperature: 1.0 });
    expect(a.shape).to.deep.equal([1, 43]); // longer than the block of 32: the context is cropped
    expect(Array.from(a.data)).to.deep.equal(Array.from(b.data));
    // with topK = 1 sampling equals greedy decoding
    expect(Array.from(model.generate(prompt, 10, { topK: 1 }).data)).to.deep.equal(Array.from(model.generate(prompt, 10, { greedy: true }).data));
    // with topK = 3 every sampled token is among the 3 largest logits at its step
    tg.manualSeed(3);
    const out = model.generate(prompt, 8, { topK: 3 });
    for (let t = 3; t < out.shape[1]; t++) {
      const logits = tg.noGrad(() => model.forward(out.slice(1, 0, t)).logits.slice(1, -1).reshape(-1));
      const sorted = Array.from(logits.data).sort((x, y) => y - x);
      expect(logits.data[out.data[t]]).to.be.at.least(sorted[2]);
    }
  });

  it('gradients of the whole gpt-nano agree with finite differences (float64)', function () {
    this.timeout(60_000);
    tg.manualSeed(4);
    const model = new GPT({ ...preset('gpt-nano'), nEmbd: 8, nHead: 2, nLayer: 1, vocabSize: 11, nPositions: 8 }).to('float64');
    const idx = tg.tensor([[1, 5, 7, 2, 9]], { dtype: 'int32' });
    const targets = tg.tensor([[5, 7, 2, 9, -100]], { dtype: 'int32' });
    const names = ['transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.weight', 'transformer.h.0.mlp.c_fc.bias', 'transformer.h.0.ln_1.weight', 'transformer.wpe.weight', 'transformer.wte.weight', 'transformer.ln_f.bias', 'lm_head.weight'];
    const params = model.namedParameters().filter(([n]) => names.includes(n));
    expect(params.length).to.equal(names.length);
    expect(tg.gradcheckParameters(() => model.forward(idx, targets).loss!, params, { entriesPerParam: 6 })).to.equal(true);
  });

  it('refuses a sequence longer than the block size and non-int32 input', () => {
    const model = nano();
    expect(() => model.forward(tg.zeros([1, 33], { dtype: 'int32' }))).to.throw('GPT.forward: sequence length 33 exceeds the block size 32');
    expect(() => model.forward(tg.zeros([1, 3]))).to.throw(/idx must be int32/);
  });
});

describe('MLP and LeNet5', () => {
  it('MLP([784, 256, 10]) has W3\'s 203,530 parameters and overfits a batch', () => {
    tg.manualSeed(5);
    expect(new MLP([784, 256, 10]).numParameters()).to.equal(203_530);
    const model = new MLP([4, 16, 3], { activation: 'tanh' });
    const x = tg.randn([8, 4]), y = tg.randint(0, 3, [8]);
    const opt = new tg.optim.SGD(model.parameters(), { lr: 0.5 });
    let loss = 0;
    for (let i = 0; i < 200; i++) {
      opt.zeroGrad();
      const out = model.forward(x, y);
      out.loss!.backward();
      opt.step();
      loss = out.loss!.item();
    }
    expect(loss).to.be.below(0.05);
  });
  it('LeNet5 has W4\'s 61,706 parameters and learns a fixed batch', function () {
    this.timeout(60_000);
    tg.manualSeed(6);
    const model = new LeNet5();
    expect(model.numParameters()).to.equal(61_706);
    const x = tg.randn([8, 1, 28, 28]), y = tg.randint(0, 10, [8]);
    const opt = new tg.optim.Adam(model.parameters(), { lr: 3e-3 });
    let loss = 0;
    for (let i = 0; i < 40; i++) {
      opt.zeroGrad();
      const out = model.forward(x, y);
      out.loss!.backward();
      opt.step();
      loss = out.loss!.item();
    }
    expect(loss).to.be.below(0.1);
    expect(() => model.forward(tg.zeros([1, 3, 28, 28]))).to.throw(/LeNet5.forward: expected images of shape \[N, 1, 28, 28\], got \[1, 3, 28, 28\]/);
  });
});
