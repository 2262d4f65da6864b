// A base preset's vocabulary is padded past its tokenizer's (gpt2-small: 50,257 rows for a smaller
// trained BPE): an untrained model samples those rows, which have no text. The sample leaves them out
// instead of failing in decode (as `tsgrad train`'s closing sample once did on a shard corpus).
import { expect } from 'chai';
import { manualSeed } from '../../src/index.js';
import { GPT } from '../../src/models/index.js';
import { preset } from '../../src/models/presets.js';
import { CharTokenizer } from '../../src/data/index.js';
import { sampleText } from '../../src/cli/tasks/lm.js';

describe('sampleText with a padded vocabulary', () => {
  it('leaves out ids past the tokenizer instead of failing', () => {
    manualSeed(3);
    const tokenizer = CharTokenizer.fit('ab');
    const model = new GPT({ ...preset('gpt-nano'), vocabSize: 64 }); // 62 rows the tokenizer cannot decode
    const text = sampleText(model, tokenizer, [0], 30, 1, { topK: null, temperature: 5 });
    expect(text).to.match(/^a[ab]*$/);
    expect(text.length).to.be.below(31); // some of the 30 draws fell in the padding
  });
});
