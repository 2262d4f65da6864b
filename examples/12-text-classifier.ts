// Lesson 12: doc 004's text classifier (D26), on the 6,046 SpamAssassin e-mails (spam or ham):
// a Keras-style tokenizer fitted on the texts, texts → integer sequences padded to length 100, then
//   Embedding(numWords, 16) → GlobalAveragePooling1D → Dense(24, ReLU) → Dense(1, sigmoid)
// trained with Adam (lr 0.001), 10 epochs, batch 32, and binary cross-entropy:
//   BCE = −1/n Σ_i [ y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i) ],   ∂BCE/∂z_i = (ŷ_i − y_i)/n for ŷ = σ(z)
// The document compiles this model with CategoricalCrossentropy; part 5 shows why that cannot learn.
// Run: npx tsx examples/12-text-classifier.ts [--epochs N] [--fast]
//   the full run (10 epochs, about 15 seconds on 2 cores) reaches ≥ 97% test accuracy.
import * as tg from '../src/index.js';
import { agreement, compare, fast, maxAbsDiff, num, option, section, table, vec } from './lib/lesson.js';

const epochs = Number(option('epochs', fast ? '2' : '10'));
const maxLen = 100, numWords = 10_000, batchSize = 32;

tg.manualSeed(12);

section('1. Data: e-mails with labels, a seeded 80/20 split into training and test sets');
const spam = tg.data.loadClassification('spam');
const all = Array.from(spam.texts.keys());
const split = tg.data.trainValSplit(all, 0.2);
const [trainIds, testIds] = fast ? [split.train.slice(0, 1500), split.val.slice(0, 500)] : [split.train, split.val];
const texts = (ids: number[]) => ids.map((i) => spam.texts[i]);
const labels = (ids: number[]) => ids.map((i) => spam.labels[i]);
const spamShare = (ids: number[]) => labels(ids).reduce((a, b) => a + b, 0) / ids.length;
console.log(`  ${spam.texts.length} e-mails (${spam.labelNames.join(' = 0, ')} = 1); training ${trainIds.length}, test ${testIds.length}`);
console.log(`  share of spam: ${num(spamShare(trainIds), 3)} in training, ${num(spamShare(testIds), 3)} in test; always answering "ham" scores ${num(1 - spamShare(testIds), 3)}`);

section(`2. Tokenizer (Keras's Tokenizer), sequences, pad_sequences(maxlen = ${maxLen})`);
// The document writes Embedding(tokenizer.num_words, 16) after Tokenizer(): Keras leaves num_words
// None there, so the size must be chosen. We keep the 9,999 most frequent words (ids 1…9,999; 0 is
// padding) and, like Tokenizer() with no oov_token, drop the other words.
const tokenizer = tg.data.WordTokenizer.fit(texts(trainIds), { numWords, oovToken: null });
const encode = (ids: number[]) => tg.data.padSequences(tokenizer.textsToSequences(texts(ids)), maxLen); // Keras's defaults: pad and cut at the front
const xTrain = tg.tensor(encode(trainIds), { dtype: 'int32' }), yTrain = tg.tensor(labels(trainIds), { dtype: 'float32' });
const xTest = tg.tensor(encode(testIds), { dtype: 'int32' }), yTest = tg.tensor(labels(testIds), { dtype: 'float32' });
const first = tokenizer.encode(spam.texts[trainIds[0]]);
console.log(`  ${tokenizer.words.length} distinct words in the training texts; the Embedding gets ${tokenizer.vocabSize} rows`);
console.log(`  most frequent: ${tokenizer.words.slice(0, 8).map((w, i) => `${w}=${i + 1}`).join(' ')}`);
console.log(`  e-mail 1: "${spam.texts[trainIds[0]].replace(/\s+/g, ' ').slice(0, 60)}…" → ${first.length} ids ${vec(first.slice(0, 8), 0)}…`);
const long = tokenizer.textsToSequences(texts(trainIds)).filter((s) => s.length > maxLen).length;
console.log(`  ${num((100 * long) / trainIds.length, 1)}% of the e-mails are longer than ${maxLen} words: pad_sequences keeps their LAST ${maxLen} (truncating = 'pre'),`);
console.log(`  and shorter ones get zeros in front (padding = 'pre'): row 1 ends ${vec(xTrain.data.subarray(maxLen - 6, maxLen), 0)}`);

section('3. The model, and its formulas by hand (float64, one batch)');
class TextClassifier extends tg.nn.Module {
  embedding: tg.nn.Embedding;
  dense: tg.nn.Linear;
  out: tg.nn.Linear;

  constructor() {
    super();
    this.embedding = new tg.nn.Embedding(tokenizer.vocabSize, 16);
    tg.nn.init.uniform(this.embedding.weight, -0.05, 0.05); // Keras's Embedding initialiser
    this.dense = new tg.nn.Linear(16, 24);
    this.out = new tg.nn.Linear(24, 1);
  }

  /** GlobalAveragePooling1D: the mean of the 100 word vectors, padding positions included (Keras's Embedding has mask_zero = False). */
  pooled(ids: tg.Tensor): tg.Tensor {
    return this.embedding.forward(ids).mean(1); // (B, 100, 16) → (B, 16)
  }

  /** The logit z; ŷ = σ(z) is P(spam). */
  logit(ids: tg.Tensor): tg.Tensor {
    return this.out.forward(this.dense.forward(this.pooled(ids)).relu()).reshape(-1); // (B)
  }

  override forward(ids: tg.Tensor): tg.Tensor {
    return this.logit(ids).sigmoid(); // (B)
  }
}
const model = new TextClassifier();
console.log(`  Embedding(${tokenizer.vocabSize}, 16) → mean over 100 positions → Linear(16, 24) → ReLU → Linear(24, 1) → sigmoid: ${model.numParameters()} parameters`);
{
  const check = new TextClassifier().double();
  const ids = xTrain.slice(0, 0, 8), y = yTrain.slice(0, 0, 8).to('float64');
  const E = check.embedding.weight.data, rows = ids.data;
  const poolHand = new Float64Array(8 * 16);
  for (let b = 0; b < 8; b++) for (let t = 0; t < maxLen; t++) for (let c = 0; c < 16; c++) poolHand[b * 16 + c] += E[rows[b * maxLen + t] * 16 + c] / maxLen;
  agreement(maxAbsDiff(poolHand, check.pooled(ids)), 'GlobalAveragePooling1D: (1/100) Σ_t E[id_t] vs mean(1)', 'library');
  const z = check.logit(ids).retainGrad(), p = z.sigmoid();
  const bce = tg.F.binaryCrossEntropy(p, y);
  bce.backward();
  const pv = Array.from(p.data), yv = Array.from(y.data);
  const bceHand = -pv.reduce((s, pi, i) => s + yv[i] * Math.log(pi) + (1 - yv[i]) * Math.log(1 - pi), 0) / 8;
  compare('BCE = −1/n Σ [y log ŷ + (1 − y) log(1 − ŷ)]', [bceHand], [bce.item()]);
  compare('∂BCE/∂z = (ŷ − y)/n', pv.map((pi, i) => (pi - yv[i]) / 8), z.grad!);
}

section(`4. Training: Adam lr 0.001, ${epochs} epochs, batch ${batchSize}, binary cross-entropy`);
const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
const loader = new tg.data.DataLoader(new tg.data.TensorDataset(xTrain, yTrain), { batchSize });
const predictSpam = (m: TextClassifier, x: tg.Tensor) => tg.noGrad(() => m.forward(x).gt(0.5).to('float32'));
const accuracyOf = (m: TextClassifier, x: tg.Tensor, y: tg.Tensor) => predictSpam(m, x).eq(y).to('float64').mean().item();
const rows: (string | number)[][] = [['epoch', 'mean train loss', 'train accuracy', 'test accuracy']];
for (let epoch = 1; epoch <= epochs; epoch++) {
  let sum = 0, batches = 0;
  for (const [x, y] of loader) {
    const loss = tg.F.binaryCrossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    sum += loss.item();
    batches++;
  }
  rows.push([`${epoch}/${epochs}`, num(sum / batches, 4), num(accuracyOf(model, xTrain, yTrain), 4), num(accuracyOf(model, xTest, yTest), 4)]);
}
table(rows);
const testAccuracy = accuracyOf(model, xTest, yTest);
console.log(`  test accuracy: ${num(testAccuracy, 4)}${fast ? '  (--fast: a short run; the full run reaches ≥ 0.97)' : '  (stated for the full run: ≥ 0.97)'}`);

section('5. Why categorical cross-entropy on ONE sigmoid output fails (the document\'s loss)');
{
  const fresh = new TextClassifier();
  const x = xTrain.slice(0, 0, batchSize), y = yTrain.slice(0, 0, batchSize).reshape(-1, 1);
  const p = fresh.forward(x).reshape(-1, 1); // (B, 1): one column
  // Keras's CategoricalCrossentropy: ŷ / Σ_classes ŷ (= 1 with one class), clipped to [1e-7, 1 − 1e-7], then −Σ y log ŷ
  const normalised = p.div(p.sum(-1, true));
  const kerasLoss = y.mul(normalised.clamp(1e-7, 1 - 1e-7).log()).sum(-1).neg().mean();
  kerasLoss.backward();
  let largest = 0;
  for (const w of fresh.parameters()) for (const g of w.grad?.data ?? []) largest = Math.max(largest, Math.abs(g));
  console.log(`  ŷ/Σŷ over the single column: ${vec(normalised.data.subarray(0, 4), 4)}… every sample's "distribution" is [1]`);
  const spamInBatch = y.sum().item(), clipped = -Math.log(Math.fround(1 - 1e-7)); // 1 − 1e-7 rounded to float32
  console.log(`  Keras's categorical loss on the batch: ${kerasLoss.item().toExponential(3)} = ${spamInBatch}/${batchSize} spam × −log(1 − 1e-7) = ${((spamInBatch / batchSize) * clipped).toExponential(3)}, whatever the weights`);
  console.log(`  largest |∂L/∂θ| over all ${fresh.numParameters()} parameters: ${largest}`);

  // read literally, −Σ_c y_c log ŷ_c over the one class is −y log ŷ: a ham e-mail (y = 0) adds nothing
  const literal = new TextClassifier();
  const opt = new tg.optim.Adam(literal.parameters(), { lr: 1e-3 });
  const hamLoss = y.mul(p.detach().log()).neg();
  console.log(`  −y log ŷ for the ham e-mails of the batch: ${vec(Array.from(hamLoss.data).filter((_, i) => y.data[i] === 0).slice(0, 4), 4)}… always 0`);
  for (const [xb, yb] of loader) {
    const loss = yb.mul(literal.forward(xb).log()).neg().mean(); // only spam pulls, and always towards ŷ = 1
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  const share = predictSpam(literal, xTest).mean().item();
  console.log(`  one epoch with −y log ŷ: ${num(100 * share, 1)}% of the test e-mails are called spam, test accuracy ${num(accuracyOf(literal, xTest, yTest), 4)} (the spam share)`);
  console.log(`  binary cross-entropy adds −(1 − y) log(1 − ŷ), the pull of the ham e-mails towards 0: ${num(testAccuracy, 4)} above.`);
}

console.log('\nNotice: one sigmoid output is a probability for ONE class, so its loss must be binary cross-entropy; categorical cross-entropy over a single column is 0 or blind to half the data.');
