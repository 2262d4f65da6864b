// Lesson 13: BERT, pre-trained then fine-tuned (D22), on the SpamAssassin e-mails.
//   D11  masked LM: choose 15% of the tokens; of those 80% → [MASK], 10% → a random token, 10% kept;
//        L = −1/M Σ_{chosen i} log p(x_i | corrupted text), the M chosen positions only
//   D24  doc 001's pre-training: block 128, p = 0.15, 3 epochs, batch 16, `Step s/S - loss: … - learning_rate: …`
//   D23  doc 000's classifier: max length 128, batch 32, Adam 1e-5, 10 epochs, `Epoch [e/E], Loss: x`, argmax
//   D27  accuracy = (TP + TN)/N, precision = TP/(TP + FP), recall = TP/(TP + FN), F1 = 2PR/(P + R)
// Scaled to minutes on 2 cores: a 2-layer BERT of width 64, a 1,000-piece WordPiece vocabulary,
// blocks and texts of 64 tokens, a few hundred pre-training steps (a fraction of one pass, not 3
// epochs), lr 2e-3 for pre-training and 5e-4 for fine-tuning (1e-5 suits a fully pre-trained
// bert-base, not a tiny model that has seen little), 2 fine-tuning epochs.
// Run: npx tsx examples/13-bert-pretrain-finetune.ts [--steps S] [--epochs E] [--compare] [--fast]
//   --compare also fine-tunes a randomly initialised encoder the same way, for the difference pre-training makes.
//   the full run takes 3–4 minutes on 2 cores (a minute more with --compare).
import * as tg from '../src/index.js';
import { agreement, fast, maxAbsDiff, num, option, section, table } from './lib/lesson.js';

const steps = Number(option('steps', fast ? '8' : '400'));
const epochs = Number(option('epochs', fast ? '1' : '2'));
const compareWithScratch = process.argv.includes('--compare');
const T = 64, mlmBatch = 16, clsBatch = 32, peakLr = 2e-3, warmup = Math.ceil(steps / 10);

tg.manualSeed(13);

section('1. Data and a WordPiece vocabulary learnt from the training texts');
const spam = tg.data.loadClassification('spam');
const split = tg.data.trainValSplit(spam.texts.length, 0.2);
const [trainIds, testIds] = fast ? [split.train.slice(0, 320), split.val.slice(0, 200)] : [split.train, split.val];
const head = (i: number) => spam.texts[i].slice(0, 1500); // 64 tokens never need more than the start of an e-mail
const tokenizer = tg.data.WordPieceTokenizer.train(Array.from(trainIds, head), fast ? 300 : 1000);
const V = tokenizer.vocabSize;
console.log(`  ${trainIds.length} training e-mails (their text only is used to pre-train), ${testIds.length} test e-mails; vocabulary ${V} pieces`);
console.log(`  "${spam.texts[trainIds[1]].split('\n')[0].slice(0, 50)}" → ${tokenizer.tokenize(spam.texts[trainIds[1]].split('\n')[0].slice(0, 50)).join(' ')}`);
const config = { ...tg.models.preset('bert-tiny'), vocabSize: V, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 256, maxPositionEmbeddings: 128 };
const special = [tokenizer.clsId, tokenizer.sepId, tokenizer.padId];

// doc 001's TextDataset: the texts' tokens one after another, cut into blocks; each block [CLS] … [SEP]
const stream: number[] = [];
for (const i of trainIds) stream.push(...tokenizer.encode(head(i)), tokenizer.sepId);
const nBlocks = Math.floor(stream.length / (T - 2));
const blocks = (which: ArrayLike<number>) => {
  const ids = new Int32Array(which.length * T);
  for (let b = 0; b < which.length; b++) {
    ids.set([tokenizer.clsId, ...stream.slice(which[b] * (T - 2), (which[b] + 1) * (T - 2)), tokenizer.sepId], b * T);
  }
  return new tg.Tensor(ids, [which.length, T], 'int32');
};
const mask = (ids: tg.Tensor) => tg.models.maskTokens(ids, { prob: 0.15, maskTokenId: tokenizer.maskId, vocabSize: V, specialIds: special });

section('2. Masking and the masked-LM loss (D11)');
{
  const ids = blocks(Array.from({ length: Math.min(nBlocks, 200) }, (_, i) => i));
  const { inputIds, labels } = mask(ids);
  let chosen = 0, masked = 0, kept = 0;
  labels.data.forEach((y, i) => {
    if (y === -100) return;
    chosen++;
    if (inputIds.data[i] === tokenizer.maskId) masked++;
    else if (inputIds.data[i] === y) kept++;
  });
  const maskable = ids.size - 2 * ids.shape[0];
  table([
    ['chosen of the maskable tokens', 'of those → [MASK]', '→ a random piece', 'kept'],
    [`${chosen}/${maskable} = ${num((100 * chosen) / maskable, 1)}%`, `${num((100 * masked) / chosen, 1)}%`, `${num((100 * (chosen - masked - kept)) / chosen, 1)}%`, `${num((100 * kept) / chosen, 1)}%`],
  ]);
  console.log('  (a random piece can be the original one by chance, so "kept" is a little over 10%)');
  // the loss by hand on a float64 copy: log-softmax at the chosen positions only
  const small = new tg.models.BertForMaskedLM({ ...config, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 }).double();
  const x = inputIds.slice(0, 0, 4), y = labels.slice(0, 0, 4);
  const { logits, loss } = small.forward(x, { labels: y });
  const logp = logits.logSoftmax(-1).data;
  let sum = 0, M = 0;
  y.data.forEach((target, i) => { if (target !== -100) { sum -= logp[i * V + target]; M++; } });
  console.log(`  4 blocks: M = ${M} of ${y.size} positions are scored; by hand −1/M Σ log p = ${num(sum / M)}, BertForMaskedLM: ${num(loss!.item())}`);
  agreement(Math.abs(sum / M - loss!.item()), 'masked-LM loss over the chosen positions only', 'library');
  // doc 001 hands BertModel to the Trainer: it has no MLM head and returns no loss
  const plain = new tg.models.BertModel(config).forward(x);
  console.log(`  doc 001 trains BertModel, whose output is { ${Object.keys(plain).join(', ')} }: no head, no loss; BertForMaskedLM adds both.`);
}

section(`3. Pre-training: ${steps} steps of ${mlmBatch} blocks of ${T} (${num((steps * mlmBatch) / nBlocks, 2)} of one pass over ${nBlocks} blocks)`);
const mlm = new tg.models.BertForMaskedLM(config);
{
  const frequency = new Map<number, number>();
  for (const id of stream) frequency.set(id, (frequency.get(id) ?? 0) + 1);
  let unigram = 0;
  for (const n of frequency.values()) unigram -= (n / stream.length) * Math.log(n / stream.length);
  console.log(`  guessing from piece frequencies alone (no context) scores the unigram entropy ${num(unigram, 4)}; ln V = ${num(Math.log(V), 4)}`);
  const optimizer = new tg.optim.AdamW(mlm.parameters(), { lr: peakLr, weightDecay: 0.01 });
  const order = tg.data.permutation(nBlocks);
  const every = Math.max(1, Math.round(steps / 8));
  let sum = 0, n = 0;
  for (let s = 1; s <= steps; s++) {
    const lr = peakLr * Math.min(s / warmup, (steps - s) / (steps - warmup)); // linear warmup, then linear decay to 0 (Hugging Face's default)
    optimizer.paramGroups[0].lr = lr;
    const { inputIds, labels } = mask(blocks(Array.from({ length: mlmBatch }, (_, b) => order[((s - 1) * mlmBatch + b) % nBlocks])));
    const { loss } = mlm.forward(inputIds, { labels });
    optimizer.zeroGrad();
    loss!.backward();
    optimizer.step();
    sum += loss!.item();
    n++;
    if (s % every === 0 || s === steps) {
      console.log(`  Step ${s}/${steps} - loss: ${num(sum / n, 4)} - learning_rate: ${lr.toExponential(3)}`); // the mean since the last line, as the Trainer logs it
      sum = n = 0;
    }
  }
}

section('4. The pre-trained encoder into a classifier (D22): copy every bert.* weight, add a fresh head');
const classifierFrom = (encoder: tg.models.BertForMaskedLM | null) => {
  const model = new tg.models.BertForSequenceClassification(config, 2);
  if (!encoder) return { model, result: null };
  const weights = Object.fromEntries(Object.entries(encoder.stateDict()).filter(([key]) => key.startsWith('bert.')));
  return { model, result: model.loadStateDict(weights, { strict: false }) };
};
const { model: classifier, result } = classifierFrom(mlm);
{
  const mlmKeys = Object.keys(mlm.stateDict());
  console.log(`  copied ${mlmKeys.filter((k) => k.startsWith('bert.')).length} tensors; left behind: the MLM head, cls.predictions.* (${mlmKeys.filter((k) => !k.startsWith('bert.')).length} tensors)`);
  console.log(`  new, randomly initialised: ${result!.missingKeys.join(', ')}`);
  const copied = Object.entries(mlm.stateDict()).filter(([k]) => k.startsWith('bert.'));
  const loaded = classifier.stateDict();
  console.log(`  largest |pre-trained − loaded| over the copied weights: ${Math.max(...copied.map(([k, t]) => maxAbsDiff(t, loaded[k])))}`);
  // doc 000 puts its loss on BertModel's outputs[0], the hidden states of every token
  const batch = tg.data.padBatch([tokenizer.encodePair('free money now').ids, tokenizer.encodePair('meeting at noon').ids], T, tokenizer.padId);
  const hidden = new tg.models.BertModel(config).forward(batch.inputIds).lastHiddenState;
  try {
    tg.F.crossEntropy(hidden.reshape(-1, hidden.shape[2]), tg.tensor([1, 0], { dtype: 'int32' }));
  } catch (e) {
    console.log(`  doc 000's logits = outputs[0] are [${hidden.shape.join(', ')}]: view(-1, ${hidden.shape[2]}) has ${hidden.shape[0] * hidden.shape[1]} rows for 2 labels →`);
    console.log(`    ${(e as Error).message.split('\n')[0]}`);
  }
}

section(`5. Fine-tuning on spam vs ham: Adam lr 5e-4, batch ${clsBatch}, ${epochs} epochs, texts cut to ${T} tokens`);
const encode = (ids: ArrayLike<number>) => Array.from(ids, (i) => tokenizer.encodePair(head(i), undefined, { maxLen: T }).ids);
const trainSet = new tg.data.SequenceDataset(encode(trainIds), Array.from(trainIds, (i) => spam.labels[i]), { maxLen: T, padId: tokenizer.padId });
const testSet = new tg.data.SequenceDataset(encode(testIds), Array.from(testIds, (i) => spam.labels[i]), { maxLen: T, padId: tokenizer.padId });
const fineTune = (model: tg.models.BertForSequenceClassification, log: boolean) => {
  const optimizer = new tg.optim.Adam(model.parameters(), { lr: 5e-4 });
  const loader = new tg.data.DataLoader(trainSet, { batchSize: clsBatch });
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let running = 0;
    for (const batch of loader) {
      const { loss } = model.forward(batch.inputIds, { attentionMask: batch.attentionMask, labels: batch.labels });
      optimizer.zeroGrad();
      loss!.backward();
      optimizer.step();
      running += loss!.item();
    }
    if (log) console.log(`  Epoch [${epoch}/${epochs}], Loss: ${num(running / loader.length, 4)}`);
  }
  model.eval();
  const predicted: number[] = [];
  tg.noGrad(() => {
    for (const batch of new tg.data.DataLoader(testSet, { batchSize: 128, shuffle: false })) {
      predicted.push(...model.forward(batch.inputIds, { attentionMask: batch.attentionMask }).logits.argmax(1).data); // prediction by argmax
    }
  });
  return predicted;
};
const predicted = fineTune(classifier, true);
const truth = Array.from(testIds, (i) => spam.labels[i]);

section('6. Evaluation (D27): by hand from the confusion counts, and by classificationReport');
{
  let tp = 0, fp = 0, fn = 0, tn = 0; // spam (1) is the positive class
  truth.forEach((t, i) => { if (t === 1 && predicted[i] === 1) tp++; else if (t === 0 && predicted[i] === 1) fp++; else if (t === 1) fn++; else tn++; });
  console.log(`  TP = ${tp}, FP = ${fp}, FN = ${fn}, TN = ${tn}`);
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b); // 0/0 (e.g. nothing predicted spam) counts as 0, as scikit-learn's zero_division = 0
  const accuracy = (tp + tn) / truth.length, precision = ratio(tp, tp + fp), recall = ratio(tp, tp + fn), f1 = ratio(2 * precision * recall, precision + recall);
  const report = tg.classificationReport(truth, predicted, 2);
  const spamRow = report.perClass[1];
  table([
    ['', 'by hand', 'classificationReport'],
    ['accuracy (TP + TN)/N', num(accuracy, 4), num(report.accuracy, 4)],
    ['precision TP/(TP + FP)', num(precision, 4), num(spamRow.precision, 4)],
    ['recall TP/(TP + FN)', num(recall, 4), num(spamRow.recall, 4)],
    ['F1 2PR/(P + R)', num(f1, 4), num(spamRow.f1, 4)],
  ]);
  agreement(maxAbsDiff([accuracy, precision, recall, f1], [report.accuracy, spamRow.precision, spamRow.recall, spamRow.f1]), 'accuracy, precision, recall, F1 of spam', 'library');
  console.log(tg.formatConfusion(report.confusion, spam.labelNames).replace(/^/gm, '  '));
  console.log(`  Test Accuracy: ${num(accuracy, 4)}   (always "ham": ${num(truth.filter((t) => t === 0).length / truth.length, 4)})`);
  if (compareWithScratch) {
    const scratch = fineTune(classifierFrom(null).model, false);
    const scratchAccuracy = scratch.filter((p, i) => p === truth[i]).length / truth.length;
    console.log(`  the same fine-tuning from a random encoder: test accuracy ${num(scratchAccuracy, 4)} (pre-trained: ${num(accuracy, 4)})`);
    console.log(scratchAccuracy >= accuracy
      ? `  ${steps} pre-training steps (BERT's: 1,000,000 over 3.3 billion words) are too few to beat a random start on this easy task.`
      : '  the pre-trained encoder starts from features learnt without labels, and it shows.');
  }
}

console.log('\nNotice: pre-training needs no labels (it masks pieces of the text and learns to fill them in); only the encoder moves to the classifier, whose small new head is trained on the labels, and D27\'s four numbers all come from the four confusion counts.');
