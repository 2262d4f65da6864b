// The memory estimate train prints before building a model: its parameter count is the model's
// own (GPT-2 small exactly), the bytes follow the formula, and a run over the limit is refused
// with the estimate and the flags that shrink it.
import { expect } from 'chai';
import { GPT } from '../../src/models/index.js';
import { preset } from '../../src/models/presets.js';
import { RUNTIME_BYTES, checkMemory, estimateTrainingMemory, transformerParameters, type TransformerShape } from '../../src/train/memory-estimate.js';

const shapeOf = (name: 'gpt-nano' | 'gpt-baby' | 'gpt2-small'): TransformerShape => {
  const c = preset(name);
  return { layers: c.nLayer, width: c.nEmbd, heads: c.nHead, ffn: 4 * c.nEmbd, vocab: c.vocabSize, positions: c.nPositions, tiedOutput: c.tieWeights };
};

describe('memory estimate', () => {
  it('counts the parameters of the model it describes', () => {
    expect(transformerParameters(shapeOf('gpt2-small'))).to.equal(124_439_808);
    for (const name of ['gpt-nano', 'gpt-baby'] as const) expect(transformerParameters(shapeOf(name))).to.equal(new GPT(preset(name)).numParameters());
  });

  it('bytes: 16 per parameter with AdamW, 12 with SGD; activations linear in the batch, the attention part quadratic in the block', () => {
    const s = shapeOf('gpt2-small');
    const e = estimateTrainingMemory(s, 1, 1024, 'adamw');
    expect(e.parameters + e.gradients + e.optimizer).to.equal(16 * 124_439_808);
    expect(estimateTrainingMemory(s, 1, 1024, 'sgd').optimizer).to.equal(4 * 124_439_808);
    expect(estimateTrainingMemory(s, 4, 1024, 'adamw').activations).to.equal(4 * e.activations);
    expect(e.activations).to.equal(4 * 1024 * (12 * (40 * 768 + 5 * 12 * 1024) + 3 * 50257));
    expect(e.total).to.equal(RUNTIME_BYTES + e.parameters + e.gradients + e.optimizer + e.activations);
  });

  it('refuses a run over the limit, naming the estimate and the flags', () => {
    const e = estimateTrainingMemory(shapeOf('gpt2-small'), 8, 1024, 'adamw');
    expect(() => checkMemory(e, e.total - 1, 'adamw', 8, 1024, 1)).to.throw(/memory: this run needs about [\d.]+ GiB \(.*activations .* at batch 8 × 1024 tokens\).*--batch-size 4 --grad-accum 2 keeps the effective batch of 8.*--block-size/);
    expect(() => checkMemory(e, e.total, 'adamw', 8, 1024, 1)).to.not.throw();
  });
});
