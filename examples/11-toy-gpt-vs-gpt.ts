// Lesson 11: doc 003's toy "GPT" (D25) exactly as written, and beside it a real GPT (D21, D22),
// both trained on the same words of Moby-Dick and both asked to continue "The cat".
//   toy   p(w_{t+1} | w_t) = softmax(W2 · ReLU(W1 · dropout(E[w_t]) + b1) + b2): ONE word in, the next out
//         Embedding(V, 256) → Dropout(0.5) → Linear(256, 512) → ReLU → Linear(512, V),
//         Adam lr 0.001, cross-entropy (D8), batch 64, 10 epochs, greedy generation for 10 steps
//   GPT   p(w_{t+1} | w_1 … w_t) through causal self-attention softmax(QKᵀ/√d + M)·V (D21) over up
//         to 32 words, trained on the sequence loss −1/T Σ_t log p(w_{t+1} | w_≤t) (D12)
// Run: npx tsx examples/11-toy-gpt-vs-gpt.ts [--words N] [--fast]
//   the full run (20,000 words) takes two to three minutes on 2 cores.
import * as tg from '../src/index.js';
import { agreement, fast, maxAbsDiff, num, option, section, table } from './lib/lesson.js';

const nWords = Number(option('words', fast ? '3000' : '20000'));
const epochs = fast ? 2 : 10;
const block = 32, gptBatch = 16;

tg.manualSeed(11);

section(`1. The corpus: the first ${nWords} words of Moby-Dick's chapter 1, and the vocabulary`);
const book = tg.data.loadText('moby-dick');
const filters = tg.data.KERAS_FILTERS + '—'; // the book's dashes join words ("ago—never"): split there too
const words = tg.data.textToWordSequence(book.slice(book.indexOf('Call me Ishmael')), { filters }).slice(0, nWords);
// the document's build_vocab(min_freq = 2): a word seen once becomes <OOV>
const counts = new Map<string, number>();
for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
const kept = [...counts.values()].filter((c) => c >= 2).length;
const tokenizer = tg.data.WordTokenizer.fit(words.join(' '), { numWords: kept + 2, filters }); // ids: 0 padding, 1 <OOV>, then by frequency
const V = tokenizer.vocabSize;
const ids = Int32Array.from(tokenizer.encode(words.join(' ')));
const { train, val } = tg.data.splitTokens(ids, 0.1); // the last 10% for validation
const oov = ids.filter((i) => i === tokenizer.oovId).length;
console.log(`  ${counts.size} distinct words, ${kept} of them seen at least twice: V = ${V} (with padding and <OOV>)`);
console.log(`  <OOV> stands for ${num((100 * oov) / ids.length, 1)}% of the running words; training ${train.length} words, validation ${val.length}`);
const prompt = tokenizer.encode('The cat');
const catsInBook = [...book.matchAll(/\bcat\b/gi)].length;
console.log(`  "The cat" → [${prompt.join(', ')}] = "${tokenizer.decode(prompt)}": "cat" is ${counts.has('cat') ? 'in the vocabulary' : `not in these ${nWords} words (the whole book has it ${catsInBook} times)`},`);
console.log(`  so both models are asked to continue "the <OOV>": honest, and the only input the toy will use is <OOV>.`);

section('2. The document\'s code as printed, and the model MATH.md D25 describes');
{
  // GPTModel.forward loops `for i in range(n_layers)` over [Linear, ReLU, Linear] with n_layers = 2
  const layers = new tg.nn.ModuleList([new tg.nn.Linear(256, 512), new tg.nn.ReLU(), new tg.nn.Linear(512, V)]);
  let h = new tg.nn.Embedding(V, 256).forward(tg.tensor([2, 1], { dtype: 'int32' }));
  for (let i = 0; i < 2; i++) h = layers.get(i).forward(h);
  console.log(`  with n_layers = 2 the loop runs Linear and ReLU only: its "logits" have shape [${h.shape.join(', ')}], 512 columns for ${V} words;`);
  try {
    tg.F.crossEntropy(h, tg.tensor([V - 1, 0], { dtype: 'int32' }));
    console.log(`  it runs only because V ≤ 512 here, and then scores 512 "words" of which ${512 - V} do not exist.`);
  } catch (e) {
    console.log(`  cross-entropy against a word id ≥ 512 fails: ${(e as Error).message.split('\n')[0]}`);
  }
  console.log('  generate_text looks "The cat" up as ONE token and returns one word; below, all three layers run and words go one at a time.');
}
const toy = new tg.nn.Sequential(new tg.nn.Embedding(V, 256), new tg.nn.Dropout(0.5), new tg.nn.Linear(256, 512), new tg.nn.ReLU(), new tg.nn.Linear(512, V));
const gpt = new tg.models.GPT({ vocabSize: V, nPositions: block, nEmbd: 64, nLayer: 2, nHead: 4, dropout: 0.2, tieWeights: false });
console.log(`  toy: ${toy.numParameters()} parameters; GPT (2 blocks of 4-head attention, width 64, context ${block}): ${gpt.numParameters()}`);

section('3. The best ANY one-word model can do: the bigram counts of the training words');
{
  // −1/N Σ log c(a, b)/c(a): the cross-entropy of the empirical p(b | a) on the words it was counted on
  const pair = new Map<number, number>(), single = new Map<number, number>();
  for (let t = 0; t + 1 < train.length; t++) {
    pair.set(train[t] * V + train[t + 1], (pair.get(train[t] * V + train[t + 1]) ?? 0) + 1);
    single.set(train[t], (single.get(train[t]) ?? 0) + 1);
  }
  let h = 0;
  for (const [key, c] of pair) h -= c * Math.log(c / single.get(Math.floor(key / V))!);
  console.log(`  conditional entropy of the training bigrams: ${num(h / (train.length - 1), 4)} nats; the toy's training loss cannot go below it`);
  console.log(`  (a uniform guess over V words: ln ${V} = ${num(Math.log(V), 4)})`);
}

section(`4. The toy: Adam lr 0.001, batch 64, ${epochs} epochs (the document's log line, then ours)`);
const pairs = (s: Int32Array) => [new tg.Tensor(s.slice(0, -1), [s.length - 1], 'int32'), new tg.Tensor(s.slice(1), [s.length - 1], 'int32')];
const [xTrain, yTrain] = pairs(train), [xVal, yVal] = pairs(val);
const toyLoss = (x: tg.Tensor, y: tg.Tensor) => {
  toy.eval();
  const loss = tg.noGrad(() => tg.F.crossEntropy(toy.forward(x), y).item());
  toy.train();
  return loss;
};
const toyRows: number[][] = [];
{
  const optimizer = new tg.optim.Adam(toy.parameters(), { lr: 1e-3 });
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(xTrain, yTrain), { batchSize: 64 });
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let sum = 0, last = 0;
    for (const [x, y] of loader) {
      const loss = tg.F.crossEntropy(toy.forward(x), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      sum += last = loss.item();
    }
    toyRows.push([sum / loader.length, toyLoss(xVal, yVal)]);
    console.log(`  Epoch: ${epoch}, Loss: ${num(last, 4)}   (mean over the epoch ${num(sum / loader.length, 4)}, validation ${num(toyRows[epoch - 1][1], 4)})`);
  }
}

section('5. The real GPT on the same words: as many predictions as the toy made, in 10 rounds');
// the toy made epochs × (train words − 1) predictions; one GPT step predicts gptBatch × block words
const steps = Math.max(10, Math.round((epochs * (train.length - 1)) / (gptBatch * block)));
const stride = 4;
const windows = (s: Int32Array) => { // windows of block + 1 words every `stride` words: x = the first block words, y = the next ones
  const n = Math.floor((s.length - block - 1) / stride) + 1;
  const x = new Int32Array(n * block), y = new Int32Array(n * block);
  for (let i = 0; i < n; i++) {
    x.set(s.subarray(i * stride, i * stride + block), i * block);
    y.set(s.subarray(i * stride + 1, i * stride + block + 1), i * block);
  }
  return { x: new tg.Tensor(x, [n, block], 'int32'), y: new tg.Tensor(y, [n, block], 'int32') };
};
const valWindows = windows(val);
/** −log p of every validation target, [windows · block]: position t of a window had t + 1 words of context. */
const gptNll = () => {
  gpt.eval();
  const n = valWindows.x.shape[0], nll = new Float64Array(n * block);
  tg.noGrad(() => {
    for (let from = 0; from < n; from += 64) { // 64 windows at a time: (64, 32, V) logits
      const index = tg.arange(from, Math.min(n, from + 64), 1, { dtype: 'int32' });
      const logp = gpt.forward(valWindows.x.indexSelect(0, index)).logits.logSoftmax(-1).data;
      const y = valWindows.y.indexSelect(0, index).data;
      for (let i = 0; i < y.length; i++) nll[from * block + i] = -logp[i * V + y[i]];
    }
  });
  gpt.train();
  return nll;
};
const gptRows: number[][] = [];
{
  const optimizer = new tg.optim.AdamW(gpt.parameters(), { lr: 1e-3, weightDecay: 0.1 });
  const perRound = Math.ceil(steps / 10);
  let sum = 0, n = 0;
  for (let step = 1; step <= steps; step++) {
    const { x, y } = tg.data.lmBatch(train, block, gptBatch);
    const { loss } = gpt.forward(x, y);
    optimizer.zeroGrad();
    loss!.backward();
    optimizer.step();
    sum += loss!.item();
    n++;
    if (step % perRound === 0 || step === steps) {
      const nll = gptNll();
      gptRows.push([sum / n, nll.reduce((a, b) => a + b, 0) / nll.length]);
      console.log(`  round ${gptRows.length}: step ${step}/${steps}, mean training loss ${num(sum / n, 4)}, validation ${num(gptRows[gptRows.length - 1][1], 4)}`);
      sum = n = 0;
    }
  }
}

section('6. Side by side');
{
  const rows: (string | number)[][] = [['round', 'toy train', 'toy validation', 'GPT train', 'GPT validation']];
  for (let r = 0; r < Math.max(toyRows.length, gptRows.length); r++) {
    rows.push([r + 1, ...[toyRows[r], gptRows[r]].flatMap((x) => (x ? [num(x[0], 4), num(x[1], 4)] : ['', '']))]);
  }
  table(rows);
  const best = (rs: number[][]) => Math.min(...rs.map((x) => x[1]));
  console.log(`  final validation loss: toy ${num(toyRows[toyRows.length - 1][1], 4)}, GPT ${num(gptRows[gptRows.length - 1][1], 4)}; best: toy ${num(best(toyRows), 4)}, GPT ${num(best(gptRows), 4)}`);
  const bestRound = (rs: number[][]) => rs.findIndex((x) => x[1] === best(rs)) + 1;
  console.log(`  the toy's validation loss is lowest after epoch ${bestRound(toyRows)} of ${toyRows.length}, then it memorises the training bigrams (overfits);`);
  console.log(`  the GPT's is lowest at round ${bestRound(gptRows)} of ${gptRows.length}. The document trains 10 epochs with no validation set at all.`);

  const nll = gptNll();
  const mean = (from: number, to: number) => {
    let s = 0, c = 0;
    for (let i = 0; i < nll.length; i++) if (i % block >= from && i % block < to) { s += nll[i]; c++; }
    return s / c;
  };
  table([['words of context', '1', '2–4', '5–16', '17–32'], ['GPT validation loss', num(mean(0, 1), 4), num(mean(1, 4), 4), num(mean(4, 16), 4), num(mean(16, 32), 4)]]);
  console.log(mean(16, 32) < mean(0, 1) - 0.05
    ? '  the more words it has seen, the better it predicts: attention puts the context to use.'
    : `  on ${train.length} words the GPT has not yet learnt to use long context (that takes far more text); what it can do is shown next.`);
}

section('7. Context: two passages that end in the same word');
{
  const the = tokenizer.wordIndex.get('the')!;
  const at: number[] = [];
  for (let i = block - 1; i < val.length && at.length < 2; i++) if (val[i] === the && (at.length === 0 || val[i - 1] !== val[at[0] - 1])) at.push(i);
  const contexts = at.map((i) => val.slice(i - block + 1, i + 1));
  toy.eval();
  gpt.eval();
  const toyNext = contexts.map((c) => tg.noGrad(() => toy.forward(new tg.Tensor(c.slice(-1), [1], 'int32')).softmax(-1)));
  const gptNext = contexts.map((c) => tg.noGrad(() => gpt.forward(new tg.Tensor(c, [1, block], 'int32')).logits.slice(1, -1).reshape(V).softmax(-1)));
  const top = (p: tg.Tensor) => [...p.data].map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([v, i]) => `${tokenizer.decode([i])} ${num(v, 3)}`).join(', ');
  contexts.forEach((c, k) => {
    console.log(`  "… ${tokenizer.decode(c.slice(-6))}"`);
    console.log(`     toy next: ${top(toyNext[k])}    GPT next: ${top(gptNext[k])}`);
  });
  console.log(`  largest change in p(next word) between the two passages: toy ${maxAbsDiff(toyNext[0], toyNext[1])}, GPT ${num(maxAbsDiff(gptNext[0], gptNext[1]), 4)}`);
}

section('8. Greedy generation from "The cat", 10 words');
{
  /** Append the argmax word 10 times; `next` gives the logits of the word after ids. */
  const greedy = (next: (ids: number[]) => ArrayLike<number>, banned: number[] = []) => {
    const out = [...prompt];
    for (let s = 0; s < 10; s++) {
      const logits = next(out);
      let best = -1;
      for (let v = 0; v < V; v++) if (!banned.includes(v) && (best < 0 || logits[v] > logits[best])) best = v;
      out.push(best);
    }
    return out;
  };
  toy.eval();
  const toyNext = (ctx: number[]) => tg.noGrad(() => toy.forward(new tg.Tensor(Int32Array.of(ctx[ctx.length - 1]), [1], 'int32')).data); // the last word only
  const gptNext = (ctx: number[]) => tg.noGrad(() => {
    const c = Int32Array.from(ctx.slice(-block));
    return gpt.forward(new tg.Tensor(c, [1, c.length], 'int32')).logits.slice(1, -1).data; // up to 32 words
  });
  const gptOwn = greedy(gptNext);
  const library = gpt.generate(new tg.Tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'), 10, { greedy: true });
  agreement(maxAbsDiff(gptOwn, library.data), 'the greedy loop here vs GPT.generate({ greedy: true }), word ids', 'library');
  const noOov = [0, tokenizer.oovId!];
  table([
    ['', 'greedy', 'greedy, never <OOV>'],
    ['toy', tokenizer.decode(greedy(toyNext)), tokenizer.decode(greedy(toyNext, noOov))],
    ['GPT', tokenizer.decode(gptOwn), tokenizer.decode(greedy(gptNext, noOov))],
  ]);
  console.log('  <OOV> is the most frequent "word", so plain greedy decoding keeps choosing it; the document\'s');
  console.log('  "The cat sat on the mat and watched the dog eat the bone." is not something either model can produce here.');
}

console.log('\nNotice: the toy sees one word, so its next-word guess depends only on that word (the change above is exactly 0) and it is a bigram table at best; the GPT attends over every earlier word, which is the part the document\'s "GPT" leaves out.');
