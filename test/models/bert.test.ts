// BERT: parameter counts of every preset, overfitting a fixed batch, padding invariance
// (fast-check), the MLM loss over masked positions only, BERT's 80/10/10 masking statistics,
// and gradcheck of a 1-layer model in float64.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification, maskTokens, preset, type BertConfig } from '../../src/models/index.js';
import { assertClose } from '../helpers.js';

/** A BERT small enough to train in a second; no dropout unless asked. */
const tiny = (c: Partial<BertConfig> = {}): Partial<BertConfig> => ({
  vocabSize: 40, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64,
  maxPositionEmbeddings: 16, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, ...c,
});

const ints = (rows: number[][]): Tensor => tg.tensor(rows, { dtype: 'int32' });

/** Train with Adam and return the last loss. */
function overfit(model: BertForMaskedLM | BertForSequenceClassification, batch: () => { ids: Tensor; labels: Tensor; mask?: Tensor }, steps: number, lr: number): number {
  const opt = new tg.optim.Adam(model.parameters(), { lr });
  const { ids, labels, mask } = batch();
  let last = Infinity;
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const { loss } = model.forward(ids, { labels, attentionMask: mask });
    loss!.backward();
    opt.step();
    last = loss!.item();
  }
  return last;
}

describe('BERT', () => {
  beforeEach(() => tg.manualSeed(7));

  it('presets have the expected parameter counts (bert-base BertModel 109,482,240; W7 MLM 4,416,698; gpt2-small 124,439,808)', function () {
    this.timeout(60_000);
    expect(new GPT(preset('gpt-nano')).numParameters()).to.equal(30_721);
    expect(new GPT(preset('gpt-baby')).numParameters()).to.equal(818_241);
    expect(new GPT(preset('gpt-mini')).numParameters()).to.equal(2_743_745);
    expect(new GPT(preset('gpt2-small')).numParameters()).to.equal(124_439_808);
    expect(new BertModel(preset('bert-tiny')).numParameters()).to.equal(4_385_920);
    expect(new BertForMaskedLM(preset('bert-tiny')).numParameters()).to.equal(4_416_698); // W7: tied decoder once, no pooler
    expect(new BertModel(preset('bert-mini')).numParameters()).to.equal(11_170_560);
    expect(new BertModel(preset('bert-base')).numParameters()).to.equal(109_482_240);
  });

  it('uses Hugging Face parameter names, ties the MLM decoder and initialises as HF', () => {
    const mlm = new BertForMaskedLM(tiny());
    const names = mlm.namedParameters().map(([n]) => n);
    expect(names).to.include.members([
      'bert.embeddings.word_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
      'bert.encoder.layer.1.attention.self.query.weight', 'bert.encoder.layer.1.attention.output.LayerNorm.bias',
      'bert.encoder.layer.0.intermediate.dense.weight', 'bert.encoder.layer.0.output.dense.bias',
      'cls.predictions.bias', 'cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.weight',
    ]);
    expect(names.some((n) => n.startsWith('bert.pooler'))).to.equal(false);
    expect(mlm.cls.predictions.decoder.weight).to.equal(mlm.bert.embeddings.word_embeddings.weight);
    expect(mlm.stateDict()).to.have.property('cls.predictions.decoder.weight');
    // N(0, 0.02) weights, zero biases, zero [PAD] row
    const q = mlm.bert.encoder.layer[0].attention.self.query;
    const std = Math.sqrt(Array.from(q.weight.data).reduce((s, v) => s + v * v, 0) / q.weight.size);
    expect(std).to.be.closeTo(0.02, 0.004);
    expect([...q.bias!.data].every((v) => v === 0)).to.equal(true);
    expect([...mlm.bert.embeddings.word_embeddings.weight.data.slice(0, 32)].every((v) => v === 0)).to.equal(true);
  });

  it('BertForMaskedLM overfits a tiny fixed batch (loss < 0.02 in 60 Adam steps)', function () {
    const model = new BertForMaskedLM(tiny());
    const loss = overfit(model, () => {
      const ids = tg.randint(3, 40, [4, 12]);
      const { inputIds, labels } = maskTokens(ids, { prob: 0.3, maskTokenId: 1, vocabSize: 40, specialIds: [0, 1, 2] });
      return { ids: inputIds, labels };
    }, 60, 1e-2);
    expect(loss).to.be.below(0.02);
  });

  it('BertForSequenceClassification overfits a tiny fixed batch (loss < 0.02 in 30 Adam steps), with padding', function () {
    const model = new BertForSequenceClassification(tiny(), 3);
    const loss = overfit(model, () => ({
      ids: tg.randint(3, 40, [8, 10]),
      labels: tg.tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }),
      mask: tg.tensor(Array.from({ length: 8 }, (_, b) => Array.from({ length: 10 }, (_, t) => (t < 10 - b ? 1 : 0))), { dtype: 'int32' }),
    }), 30, 1e-2);
    expect(loss).to.be.below(0.02);
    expect(model.forward(tg.randint(3, 40, [2, 5])).logits.shape).to.deep.equal([2, 3]);
  });

  it('outputs at unpadded positions do not change when the padding changes (attention mask, fast-check)', () => {
    const model = new BertModel(tiny()).eval();
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }),
      (lengths, extra, asBool, seed) => {
        tg.manualSeed(seed);
        const T = Math.max(...lengths) + extra;
        const rows = lengths.map((n) => Array.from(tg.randint(3, 40, [n]).data));
        const pad = (r: number[]) => [...r, ...new Array(T - r.length).fill(0)];
        const maskRows = lengths.map((n) => pad(new Array(n).fill(1)));
        const mask = asBool ? tg.tensor(maskRows, { dtype: 'int32' }).ne(0) : tg.tensor(maskRows, { dtype: 'int32' });
        const types = ints(lengths.map((n) => pad(new Array(n).fill(0).map((_, t) => (t >= n / 2 ? 1 : 0)))));
        const batched = model.forward(ints(rows.map(pad)), { attentionMask: mask, tokenTypeIds: types });
        rows.forEach((r, b) => {
          const alone = model.forward(ints([r]), { tokenTypeIds: types.slice(0, b, b + 1).slice(1, 0, r.length) }); // no padding at all
          const C = 32, n = r.length;
          assertClose(batched.lastHiddenState.data.subarray(b * T * C, b * T * C + n * C), alone.lastHiddenState.data, 1e-5, 1e-4, `row ${b} hidden`);
          assertClose(batched.pooledOutput!.data.subarray(b * C, (b + 1) * C), alone.pooledOutput!.data, 1e-5, 1e-4, `row ${b} pooled`);
        });
      }), { numRuns: 15 });
  });

  it('the MLM loss is the mean cross-entropy over the masked positions only (D11)', () => {
    const model = new BertForMaskedLM(tiny()).eval();
    const ids = tg.randint(3, 40, [2, 8]);
    const labels = ints([[-100, 5, -100, -100, 7, -100, -100, -100], [-100, -100, -100, 9, -100, -100, -100, 11]]);
    const { logits, loss } = model.forward(ids, { labels });
    // by hand: −log softmax(logits[i])[y_i], averaged over the 4 labelled positions
    const V = 40, z = logits.data;
    let sum = 0, count = 0;
    labels.data.forEach((y, i) => {
      if (y === -100) return;
      const row = Array.from(z.subarray(i * V, (i + 1) * V));
      const m = Math.max(...row);
      sum += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[y];
      count++;
    });
    expect(loss!.item()).to.be.closeTo(sum / count, 1e-5);
    // its gradient is that of cross-entropy over the full logits with ignoreIndex −100, though it is
    // taken through the decoder on the labelled rows only: no gradient reaches unlabelled positions
    const params = model.parameters();
    const grads = tg.grad([loss!], params, { allowUnused: true });
    const dense = tg.nn.functional.crossEntropy(logits.reshape(-1, V), labels.reshape(-1), { ignoreIndex: -100 });
    expect(dense.item()).to.be.closeTo(loss!.item(), 1e-6);
    const denseGrads = tg.grad([dense], params, { allowUnused: true });
    params.forEach((p, k) => assertClose(grads[k]?.data ?? [], denseGrads[k]?.data ?? [], 1e-6, 1e-4, `gradient of parameter ${k} ${JSON.stringify(p.shape)}`));
    // the logits stay differentiable: a loss of the user's own on them reaches the weights
    const [wordGrad] = tg.grad([logits.sum()], [model.bert.embeddings.word_embeddings.weight]);
    expect(wordGrad!.data.some((v) => v !== 0)).to.equal(true);
    // the labels' values at −100 positions are all that marks them: other ids there change the loss
    const relabelled = ints([[3, 5, -100, -100, 7, -100, -100, -100], [-100, -100, -100, 9, -100, -100, -100, 11]]);
    expect(model.forward(ids, { labels: relabelled }).loss!.item()).to.not.be.closeTo(loss!.item(), 1e-6);
  });

  it('maskTokens: ≈15% chosen, 80/10/10 replacement, special and padding never chosen, seeded (200k tokens)', () => {
    const B = 400, T = 500, V = 1000, MASK = 4, special = [0, 1, 2];
    const ids = tg.randint(5, V, [B, T]);
    for (let i = 0; i < ids.size; i += 17) ids.data[i] = special[i % 3]; // sprinkle special ids
    const attention = tg.ones([B, T], { dtype: 'int32' });
    for (let t = T - 20; t < T; t++) attention.data[t] = 0; // the first row ends in padding
    tg.manualSeed(123);
    const { inputIds, labels } = maskTokens(ids, { maskTokenId: MASK, vocabSize: V, specialIds: special, attentionMask: attention });
    let maskable = 0, chosen = 0, masked = 0, kept = 0, random = 0;
    for (let i = 0; i < ids.size; i++) {
      const original = ids.data[i], isSpecial = special.includes(original) || attention.data[i] === 0;
      if (isSpecial) {
        expect(labels.data[i]).to.equal(-100);
        expect(inputIds.data[i]).to.equal(original);
        continue;
      }
      maskable++;
      if (labels.data[i] === -100) {
        expect(inputIds.data[i]).to.equal(original);
        continue;
      }
      chosen++;
      expect(labels.data[i]).to.equal(original);
      if (inputIds.data[i] === MASK) masked++;
      else if (inputIds.data[i] === original) kept++;
      else random++;
    }
    expect(maskable).to.be.above(180_000);
    expect(chosen / maskable).to.be.closeTo(0.15, 0.005);
    expect(masked / chosen).to.be.closeTo(0.8, 0.01);
    expect(random / chosen).to.be.closeTo(0.1, 0.01);
    expect(kept / chosen).to.be.closeTo(0.1, 0.01);
    tg.manualSeed(123);
    const again = maskTokens(ids, { maskTokenId: MASK, vocabSize: V, specialIds: special, attentionMask: attention });
    expect(again.inputIds.data).to.deep.equal(inputIds.data);
    expect(again.labels.data).to.deep.equal(labels.data);
    tg.manualSeed(124);
    expect(maskTokens(ids, { maskTokenId: MASK, vocabSize: V }).labels.data).to.not.deep.equal(labels.data);
  });

  it('gradients of a 1-layer BERT agree with finite differences in float64 (both heads, with padding)', function () {
    this.timeout(30_000);
    const config = tiny({ vocabSize: 12, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 8 });
    const ids = ints([[1, 5, 7, 3, 0], [2, 9, 4, 0, 0]]);
    const attentionMask = ints([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]);
    const tokenTypeIds = ints([[0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]);
    const mlm = new BertForMaskedLM(config).to('float64');
    const layer = mlm.bert.encoder.layer[0];
    for (const p of mlm.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.05 * Math.sin(i + p.size); // move LayerNorms off 1/0
    const labels = ints([[-100, 3, -100, 8, -100], [-100, -100, 11, -100, -100]]);
    const mlmLoss = () => mlm.forward(ids, { attentionMask, tokenTypeIds, labels }).loss!;
    expect(tg.gradcheck(mlmLoss, [layer.attention.output.LayerNorm.weight!, layer.attention.self.query.weight, mlm.cls.predictions.transform.dense.weight])).to.equal(true);
    expect(tg.gradcheck(mlmLoss, [mlm.bert.embeddings.word_embeddings.weight, mlm.cls.predictions.bias])).to.equal(true); // the tied decoder
    const clf = new BertForSequenceClassification(config, 3).to('float64');
    const clfLoss = () => clf.forward(ids, { attentionMask, tokenTypeIds, labels: tg.tensor([2, 0], { dtype: 'int32' }) }).loss!;
    const l = clf.bert.encoder.layer[0];
    expect(tg.gradcheck(clfLoss, [clf.bert.pooler!.dense.weight, l.output.LayerNorm.weight!, l.attention.self.key.weight, clf.bert.embeddings.position_embeddings.weight])).to.equal(true);
  });

  it('BertForSequenceClassification with one label regresses with the mean squared error, as Hugging Face', () => {
    const model = new BertForSequenceClassification(tiny(), 1).eval();
    const ids = tg.randint(3, 40, [3, 5]), targets = tg.tensor([0.5, -1, 2]);
    const { logits, loss } = model.forward(ids, { labels: targets });
    expect(logits.shape).to.deep.equal([3, 1]);
    const mse = Array.from(logits.data).reduce((s, v, i) => s + (v - targets.data[i]) ** 2, 0) / 3;
    expect(loss!.item()).to.be.closeTo(mse, 1e-6);
  });

  it('refuses bad inputs with clear messages', () => {
    const model = new BertModel(tiny());
    expect(() => model.forward(tg.tensor([[1, 2]]))).to.throw(/inputIds must be int32/);
    expect(() => model.forward(tg.randint(0, 40, [1, 17]))).to.throw(/exceeds maxPositionEmbeddings 16/);
    expect(() => model.forward(tg.randint(0, 40, [2, 4]), { attentionMask: tg.ones([2, 3], { dtype: 'int32' }) })).to.throw(/attentionMask of shape \[2, 3\]/);
    expect(() => new BertModel(tiny({ numAttentionHeads: 3 }))).to.throw(/not divisible/);
    expect(() => maskTokens(tg.tensor([[1.5]]), { maskTokenId: 1, vocabSize: 4 })).to.throw(/int32/);
  });
});
