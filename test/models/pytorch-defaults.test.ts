// Defaults and types a PyTorch user expects (issue 16, point 7): GPT.generate takes a seed,
// preset() takes only the preset names (a typo fails to type-check; `tsc --noEmit` runs this file
// too), Sequential.forward is Tensor → Tensor. TransformerEncoderLayer's ReLU default is tested
// with the layer (test/nn/attention.test.ts).
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { preset } from '../../src/models/presets.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** true when T is `any` (0 extends 1 & T only for any). */
type IsAny<T> = 0 extends 1 & T ? true : false;

describe('PyTorch-like defaults and types', () => {
  it('GPT.generate with a seed gives the same tokens whatever the global stream did, and leaves that stream alone', () => {
    tg.manualSeed(1);
    const model = new GPT({ ...preset('gpt-nano'), vocabSize: 11, nPositions: 8 });
    const prompt = tg.tensor([[1, 2]], { dtype: 'int32' });
    tg.manualSeed(5);
    const a = Array.from(model.generate(prompt, 12, { seed: 7 }).data);
    tg.manualSeed(99);
    const before = tg.getRngState();
    tg.manualSeed(99);
    const b = Array.from(model.generate(prompt, 12, { seed: 7 }).data);
    expect(tg.getRngState(), 'the global stream is where it was').to.deep.equal(before);
    expect(b).to.deep.equal(a);
    expect(Array.from(model.generate(prompt, 12, { seed: 8 }).data)).to.not.deep.equal(a);
    expect(() => model.generate(prompt, 1, { seed: -1 })).to.throw(/GPT\.generate: seed must be a non-negative integer \(got -1\)/);
  });

  it('preset() takes the preset names: a typo is a type error (and a runtime one for JavaScript)', () => {
    // @ts-expect-error 'gpt-nanoo' is not a preset name
    expect(() => preset('gpt-nanoo')).to.throw(/preset: unknown preset 'gpt-nanoo' \(known: gpt-nano, /);
    const gpt = preset('gpt-baby');
    expect(gpt.nEmbd).to.equal(128);
  });

  it('Sequential.forward is typed Tensor → Tensor', () => {
    const seq = new tg.nn.Sequential(new tg.nn.Linear(2, 3), new tg.nn.ReLU());
    const y = seq.forward(tg.randn([4, 2]));
    const typed: IsAny<typeof y> extends true ? never : true = true; // fails to type-check where forward returns any
    const t: Tensor = y;
    expect(typed).to.equal(true);
    expect(t.shape).to.deep.equal([4, 3]);
  });
});
