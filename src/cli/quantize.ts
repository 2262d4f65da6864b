// `tsgrad quantize`: an int8 copy of a checkpoint (D28, model compression) — every Linear weight
// as int8 codes with one float32 scale per output channel (src/deploy/int8.ts), embeddings on
// request. With --compare, the float32 and the int8 model are scored on the same data (the run's
// validation split by default): loss, accuracy, how often their top-1 predictions agree, speed.
import * as path from 'node:path';
import type { Command } from 'commander';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/engine.js';
import type { Module } from '../nn/module.js';
import { GPT, BertForMaskedLM, BertForSequenceClassification, type ModelOutput } from '../models/index.js';
import { loadText, loadClassification } from '../data/datasets.js';
import { gatherRows, splitTokens, trainValSplit, SequenceDataset } from '../data/loader.js';
import { loadMnist } from '../data/mnist.js';
import type { Tokenizer, WordPieceTokenizer } from '../data/tokenizers/index.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { writeManifest } from '../train/manifest.js';
import { withSeed } from '../train/trainer.js';
import { quantizeCheckpoint, loadQuantized, type QuantizeReport } from '../deploy/quantized.js';
import type { TrainOptions } from './options.js';
import { positiveInt } from './options.js';
import { int } from './tasks/task.js';
import { classifySplit, encodeTexts } from './tasks/classify.js';
import { MaskedBlocks, maskOptions, toBlocks } from './tasks/mlm.js';
import { describeWindows, lmWindows } from './val-windows.js';
import { sourceOf } from './evaluate.js';

export interface QuantizeFlags {
  checkpoint: string;
  out: string;
  embeddings?: boolean;
  overwrite?: boolean;
  compare?: boolean;
  data?: string;
  maxBatches?: string;
  generateTokens?: string;
}

export function registerQuantize(program: Command): void {
  program.command('quantize')
    .description('store a checkpoint\'s Linear weights as int8 with one scale per output channel (~4× smaller model file)')
    .requiredOption('--checkpoint <dir>', 'a run folder (its newest checkpoint) or a checkpoint folder')
    .requiredOption('--out <dir>', 'the folder to write: a checkpoint folder that serve, and loadQuantized, read')
    .option('--embeddings', 'quantize the embedding tables too (and an output layer tied to one)')
    .option('--overwrite', 'replace an existing --out folder')
    .option('--compare', 'score the float32 and the int8 model on the same data: loss, accuracy, agreement, speed')
    .option('--data <name|path>', '--compare: data to score (default: the run\'s validation split)')
    .option('--max-batches <n>', "--compare: batches to score (default: the run's --eval-batches for lm and mlm, as training and eval score; the whole validation split for classify and image)")
    .option('--generate-tokens <n>', '--compare, lm: greedy tokens generated to time each model (default 100)')
    .addHelpText('after', `
Examples:
  $ tsgrad quantize --checkpoint runs/gpt-baby-moby-dick --out runs/gpt-baby-int8 --compare
  $ tsgrad quantize --checkpoint runs/bert-tiny-spam --out runs/bert-tiny-spam-int8 --embeddings
  $ tsgrad serve --checkpoint runs/gpt-baby-int8`)
    .action(async (flags: QuantizeFlags) => quantizeCommand(flags));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

export async function quantizeCommand(f: QuantizeFlags): Promise<void> {
  const maxBatches = f.maxBatches !== undefined ? positiveInt('max-batches', f.maxBatches) : null; // null: as eval (prepare)
  const generateTokens = f.generateTokens !== undefined ? positiveInt('generate-tokens', f.generateTokens) : 100;
  let t0 = performance.now();
  const float = await loadCheckpoint(f.checkpoint);
  const floatLoadMs = performance.now() - t0;
  const report = quantizeCheckpoint(float, f.out, { embeddings: Boolean(f.embeddings), overwrite: Boolean(f.overwrite) });
  writeManifest(f.out); // serve and generate verify the int8 folder as they do a float one
  printReport(report, Boolean(f.embeddings));
  if (!f.compare) return;

  t0 = performance.now();
  const int8 = await loadQuantized(f.out);
  const int8LoadMs = performance.now() - t0;
  const bench = prepare(float, f.data, maxBatches);
  console.log(`compare   ${bench.label}`);
  const a = score(float.model, bench), b = score(int8.model, bench);
  const row = (name: string, x: string, y: string, change = '') => console.log(`  ${name.padEnd(24)}${x.padStart(10)}${y.padStart(10)}  ${change}`);
  const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x !== 0 && Math.abs(x) < 0.5 * 10 ** -digits ? x.toExponential(1) : x.toFixed(digits)}`;
  row('', 'float32', 'int8', 'change');
  row('loss', a.loss.toFixed(4), b.loss.toFixed(4), signed(b.loss - a.loss, 5));
  row(bench.accuracyName, pct(a.accuracy), pct(b.accuracy), `${signed((b.accuracy - a.accuracy) * 100, 2)} points`);
  row('same top-1 prediction', '', pct(agreement(a.predictions, b.predictions, bench)));
  row('load', `${floatLoadMs.toFixed(0)} ms`, `${int8LoadMs.toFixed(0)} ms`);
  // speed: best of 3, the two models alternating, so that a busy moment hurts neither alone
  const [fa, fb] = bestOfAlternating(3, () => forwardMs(float.model, bench), () => forwardMs(int8.model, bench));
  row(`${bench.unit}/s (forward)`, rate(bench.items, fa), rate(bench.items, fb));
  if (float.model instanceof GPT && int8.model instanceof GPT) {
    const [floatModel, int8Model, tok] = [float.model, int8.model, float.tokenizer!];
    const g1 = greedy(floatModel, tok, generateTokens), g2 = greedy(int8Model, tok, generateTokens);
    const [ga, gb] = bestOfAlternating(3, () => greedy(floatModel, tok, generateTokens).ms, () => greedy(int8Model, tok, generateTokens).ms);
    row(`generate (tokens/s)`, rate(generateTokens, ga), rate(generateTokens, gb));
    let same = 0;
    while (same < g1.ids.length && g1.ids[same] === g2.ids[same]) same++;
    console.log(`  greedy continuations of ${JSON.stringify(g1.prompt)}: the first ${same} of ${generateTokens} tokens agree`);
  }
}

/** The smallest time of each of two measurements over n rounds, run alternately. */
function bestOfAlternating(n: number, first: () => number, second: () => number): [number, number] {
  let a = Infinity, b = Infinity;
  for (let i = 0; i < n; i++) {
    a = Math.min(a, first());
    b = Math.min(b, second());
  }
  return [a, b];
}

function printReport(r: QuantizeReport, embeddings: boolean): void {
  const worst = r.weights.reduce((w, x) => (x.relativeRms > w.relativeRms ? x : w), r.weights[0]);
  const maxAbs = Math.max(0, ...r.weights.map((w) => w.maxAbsError));
  console.log(`tsgrad quantize · ${r.source} → ${path.resolve(r.out)}`);
  console.log(`weights   ${r.weights.length} weights → int8, one scale per output channel (${embeddings ? 'embeddings included' : 'embeddings kept in float32; --embeddings to include them'})`);
  console.log(`params    ${int(r.int8Parameters)} int8 · ${int(r.floatParameters)} float32`);
  console.log(`size      model.safetensors ${mb(r.bytesBefore)} → ${mb(r.bytesAfter)} (${(r.bytesBefore / r.bytesAfter).toFixed(2)}× smaller)`);
  if (worst) console.log(`error     |W − q·scale| ≤ ${maxAbs.toExponential(2)}; relative RMS error ≤ ${(worst.relativeRms * 100).toFixed(2)}% (${worst.name})`);
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(0);

// ---------------------------------------------------------------- scoring both models on one set

interface Batch {
  forward: (m: Module) => ModelOutput;
  /** The class or token each prediction is scored against; −100: not scored. */
  targets: Int32Array;
}

/** m as the checkpoint's class, checked (the float model and its int8 copy are both of it). */
function checked<T extends Module>(m: Module, cls: abstract new (...args: never[]) => T): T {
  if (!(m instanceof cls)) throw new Error(`quantize --compare: expected a ${cls.name}, got a ${m.constructor.name}`);
  return m;
}

interface Bench {
  label: string;
  batches: Batch[];
  accuracyName: string;
  unit: string;
  items: number;
}

/** The batches both models are scored on, drawn once (MLM masks too), as `tsgrad eval` picks them. */
function prepare(ck: LoadedCheckpoint, data: string | undefined, given: number | null): Bench {
  const opts = (ck.state?.options ?? {}) as Partial<TrainOptions>;
  // by default what training and `tsgrad eval` score: the run's --eval-batches (lm, mlm), else everything
  const maxBatches = given ?? (opts.evalBatches && opts.evalBatches > 0 ? opts.evalBatches : Infinity);
  const B = opts.batchSize ?? 16, valFraction = opts.valFraction ?? 0.1, seed = opts.seed ?? 1337;
  const model = ck.model;
  // the recorded data only inside the run folder; anything else the user names with --data
  // as `tsgrad eval`: the run's own data (named again or not) on its validation split, other --data whole
  const src = ck.task === 'image' && data === undefined && opts.data === undefined ? null : sourceOf({ data }, ck, 'quantize --compare');
  const source = src?.data, whole = src?.whole ?? false, what = src?.label ?? 'mnist';
  const batches: Batch[] = [];

  if (model instanceof GPT) {
    const T = Math.min(opts.blockSize ?? model.config.nPositions, model.config.nPositions);
    const ids = Int32Array.from(ck.tokenizer!.encode(loadText(source!)));
    const tokens = whole ? ids : splitTokens(ids, valFraction).val;
    const w = lmWindows(tokens, T, B, maxBatches); // the windows training and eval score (val-windows.ts)
    if (w.windows < 1) throw new Error(`quantize --compare: ${what} has too few tokens for a block of ${T}`);
    for (const b of w.batches) batches.push({ forward: (m) => checked(m, GPT).forward(b.x, b.y), targets: b.y.data as Int32Array });
    return { label: describeWindows(w, what), batches, accuracyName: 'next-token accuracy', unit: 'tokens', items: w.windows * T };
  }
  if (model instanceof BertForSequenceClassification) {
    const tok = ck.tokenizer as WordPieceTokenizer;
    const T = opts.blockSize ?? 128;
    const set = loadClassification(source!, { labelNames: ck.labelNames });
    const rows = (whole ? set.texts.map((_, i) => i) : classifySplit(set, valFraction, seed).val).slice(0, maxBatches * B);
    if (rows.length === 0) throw new Error(`quantize --compare: ${what} has no examples`);
    const ds = new SequenceDataset(encodeTexts(tok, rows.map((i) => set.texts[i]), T), Int32Array.from(rows, (i) => set.labels[i]), { maxLen: T, padId: tok.padId, padToLongest: true });
    for (let s = 0; s < ds.length; s += B) {
      const b = ds.batch(Array.from({ length: Math.min(B, ds.length - s) }, (_, i) => s + i));
      batches.push({ forward: (m) => checked(m, BertForSequenceClassification).forward(b.inputIds, { attentionMask: b.attentionMask, labels: b.labels }), targets: b.labels.data as Int32Array });
    }
    return { label: `${what}: ${int(rows.length)} examples`, batches, accuracyName: 'accuracy', unit: 'texts', items: rows.length };
  }
  if (model instanceof BertForMaskedLM) {
    const tok = ck.tokenizer as WordPieceTokenizer;
    const T = opts.blockSize ?? 128;
    const blocks = toBlocks(tok.encode(loadText(source!)), T, tok.clsId, tok.sepId);
    const rows = whole ? Array.from({ length: blocks.shape[0] }, (_, i) => i) : Array.from(withSeed(seed, () => trainValSplit(blocks.shape[0], valFraction)).val);
    const masked = new MaskedBlocks(gatherRows(blocks, rows.slice(0, maxBatches * B)), maskOptions(tok));
    withSeed(1234, () => {
      for (let s = 0; s < masked.length; s += B) {
        const b = masked.batch(Array.from({ length: Math.min(B, masked.length - s) }, (_, i) => s + i));
        batches.push({ forward: (m) => checked(m, BertForMaskedLM).forward(b.inputIds, { labels: b.labels }), targets: b.labels.data as Int32Array });
      }
    });
    if (batches.length === 0) throw new Error(`quantize --compare: ${what} has no block of ${T} tokens`);
    return { label: `${what}: ${int(masked.length)} blocks of ${T} tokens, 15% masked (seed 1234)`, batches, accuracyName: 'masked-token accuracy', unit: 'blocks', items: masked.length };
  }
  // image: the held-out MNIST digits
  const { test } = loadMnist();
  const n = Math.min(test.labels.size, maxBatches * 100);
  for (let s = 0; s < n; s += 100) {
    const idx = Array.from({ length: Math.min(100, n - s) }, (_, i) => s + i);
    const x = gatherRows(test.images, idx), y = gatherRows(test.labels, idx);
    batches.push({ forward: (m) => (m as Module).forward(x, y) as ModelOutput, targets: y.data as Int32Array });
  }
  return { label: `mnist: ${int(n)} held-out digits`, batches, accuracyName: 'accuracy', unit: 'images', items: n };
}

interface Score {
  loss: number;
  accuracy: number;
  predictions: Int32Array;
}

/** Milliseconds of the forward passes over every batch. */
function forwardMs(model: Module, bench: Bench): number {
  const t0 = performance.now();
  noGrad(() => bench.batches.forEach((b) => b.forward(model)));
  return performance.now() - t0;
}

/** Mean loss over the scored targets, top-1 accuracy and the predictions. */
function score(model: Module, bench: Bench): Score {
  const predictions: number[] = [];
  let lossSum = 0, scored = 0, right = 0;
  noGrad(() => {
    for (const b of bench.batches) {
      const { logits, loss } = b.forward(model);
      const pred = logits.argmax(-1).data;
      let n = 0;
      for (let i = 0; i < b.targets.length; i++) {
        predictions.push(pred[i]);
        if (b.targets[i] === -100) continue;
        n++;
        if (pred[i] === b.targets[i]) right++;
      }
      lossSum += loss!.item() * n;
      scored += n;
    }
  });
  return { loss: lossSum / Math.max(1, scored), accuracy: right / Math.max(1, scored), predictions: Int32Array.from(predictions) };
}

function agreement(a: Int32Array, b: Int32Array, bench: Bench): number {
  let same = 0, n = 0, i = 0;
  for (const batch of bench.batches) {
    for (const target of batch.targets) {
      if (target !== -100) {
        n++;
        if (a[i] === b[i]) same++;
      }
      i++;
    }
  }
  return same / Math.max(1, n);
}

/** Greedy continuation of 'The ' (or of token 0 when the tokenizer cannot write it), timed. */
function greedy(model: GPT, tokenizer: Tokenizer, n: number): { prompt: string; ids: number[]; ms: number } {
  let prompt = 'The ', ids: number[];
  try {
    ids = tokenizer.encode(prompt);
  } catch {
    ids = [];
  }
  if (ids.length === 0) [prompt, ids] = [tokenizer.decode([0]), [0]];
  const t0 = performance.now();
  const out = model.generate(new Tensor(Int32Array.from(ids), [1, ids.length], 'int32'), n, { greedy: true });
  return { prompt, ids: Array.from(out.data.subarray(ids.length)), ms: performance.now() - t0 };
}
