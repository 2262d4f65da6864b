// W7: one Adam step (lr 1e-4) of a BERT-tiny-shaped BertForMaskedLM (vocab 30522, 2 layers, 2 heads,
// width 128, FFN 512, 512 positions; 4,416,698 parameters) on 16 × 128 tokens, 15 % masked, logits
// at every position, loss over the masked ones; in ms/step.
import * as tg from '../../src/index.js';
import { BertForMaskedLM } from '../../src/models/bert.js';
import { maskTokens } from '../../src/models/masking.js';
import { preset } from '../../src/models/presets.js';
import type { Workload } from '../harness.js';
import { emitStep, trainingStep } from '../training.js';

export const w7: Workload = {
  id: 'W7',
  title: 'BERT-tiny masked-LM training step',
  run(ctx) {
    tg.manualSeed(0);
    const config = { ...preset('bert-tiny'), hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 };
    const model = new BertForMaskedLM(config);
    const ids = tg.randint(5, config.vocabSize, [16, 128]);
    const { inputIds, labels } = maskTokens(ids, { prob: 0.15, maskTokenId: 4, vocabSize: config.vocabSize });
    const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-4 });
    ctx.progress(`W7 B16xT128 (${model.numParameters()} parameters)`);
    const setup = { forward: () => model.forward(inputIds, { labels }).loss!, optimizer };
    return emitStep(ctx, 'W7', 'B16xT128', trainingStep(setup), (t) => [t.median_ms, 'ms/step'], {}, setup);
  },
};
