// `tsgrad eval`: score a checkpoint on data — loss and perplexity for language models (lm, mlm);
// accuracy, precision, recall, F1 and the confusion matrix for classifiers (D27). Without --data,
// the run's own validation split, re-derived from the options saved in the checkpoint.
import { noGrad } from '../autograd/engine.js';
import { GPT, BertForMaskedLM, BertForSequenceClassification } from '../models/index.js';
import { MLP } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { loadText, loadClassification } from '../data/datasets.js';
import { checkDataFile } from './data-file.js';
import { describeWindows, lmWindows, windowsLoss } from './val-windows.js';
import { gatherRows, splitTokens, SequenceDataset } from '../data/loader.js';
import { loadMnist } from '../data/mnist.js';
import { isShardFolder, readSplit } from '../data/shards.js';
import type { WordPieceTokenizer } from '../data/tokenizers/index.js';
import { loadAnyCheckpoint } from '../deploy/quantized.js';
import { verifyCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { withSeed } from '../train/trainer.js';
import { confinedData, recordedData, sameData } from '../train/run-data.js';
import type { TrainOptions } from './options.js';
import { nonNegativeInt, positiveInt } from './options.js';
import { count, int } from './tasks/task.js';
import { MaskedBlocks, maskOptions, mlmMetrics, toBlocks } from './tasks/mlm.js';
import { classifyMetrics, classifySplit, encodeTexts, reportLines } from './tasks/classify.js';
import { imageMetrics } from './tasks/image.js';
import { trainValSplit } from '../data/loader.js';

export interface EvalFlags {
  checkpoint: string;
  data?: string;
  batchSize?: string;
  blockSize?: string;
  maxBatches?: string;
  seed?: string;
}

interface Source {
  /** What is scored: 'the validation split of moby-dick' or a path. */
  label: string;
  /** Whole data (--data) or the run's validation part. */
  whole: boolean;
  data: string;
}

/** --data, or the data the checkpoint records, confined to its run folder; the run's own data is scored on its validation split. */
export function sourceOf(f: { data?: string }, ck: LoadedCheckpoint, command = 'eval'): Source {
  const recorded = ck.state?.options?.data;
  if (f.data) {
    checkDataFile(f.data);
    const own = recordedData(recorded, ck.dir);
    if (own && sameData(f.data, own)) return { label: `the validation split of ${f.data}`, whole: false, data: f.data };
    return { label: f.data, whole: true, data: f.data };
  }
  const data = confinedData(recorded, ck.dir, '--data', command);
  return { label: `the validation split of ${data}`, whole: false, data };
}

export async function evalCommand(f: EvalFlags): Promise<void> {
  verifyCheckpoint(f.checkpoint); // manifest.json checksums, float or int8
  const ck = await loadAnyCheckpoint(f.checkpoint); // float or int8 (tsgrad quantize) checkpoints
  const opts = (ck.state?.options ?? {}) as Partial<TrainOptions>;
  const batchSize = f.batchSize !== undefined ? positiveInt('batch-size', f.batchSize) : opts.batchSize ?? 16;
  // by default the batches training evaluated (--eval-batches), so that eval prints training's figure
  const maxBatches = f.maxBatches !== undefined ? positiveInt('max-batches', f.maxBatches) : typeof opts.evalBatches === 'number' && opts.evalBatches > 0 ? opts.evalBatches : 100;
  const seed = f.seed !== undefined ? nonNegativeInt('seed', f.seed) : 1234;
  const valFraction = opts.valFraction ?? 0.1;
  console.log(`checkpoint ${ck.dir} (task ${ck.task}${ck.state ? `, step ${ck.state.step}` : ''})`);
  const model = ck.model;

  if (model instanceof GPT) {
    const src = sourceOf(f, ck);
    const T = f.blockSize !== undefined ? positiveInt('block-size', f.blockSize) : Math.min(opts.blockSize ?? model.config.nPositions, model.config.nPositions);
    // a shard folder (tsgrad prepare): read only the windows scored, from its held-out tail
    const tokens = isShardFolder(src.data) ? readSplit(src.data, src.whole ? 'all' : 'val', maxBatches * batchSize * T + 1)
      : src.whole ? Int32Array.from(ck.tokenizer!.encode(loadText(src.data))) : splitTokens(Int32Array.from(ck.tokenizer!.encode(loadText(src.data))), valFraction).val;
    // non-overlapping windows from the start: every scored token once, no randomness (val-windows.ts)
    const windows = lmWindows(tokens, T, batchSize, maxBatches);
    if (windows.windows < 1) throw new Error(`eval: ${src.label} has ${tokens.length} tokens, too few for a block of ${T}`);
    const loss = noGrad(() => windowsLoss(model, windows));
    console.log(`data       ${describeWindows(windows, src.label)}${f.maxBatches === undefined ? ` (the run's --eval-batches ${maxBatches} × --batch-size ${batchSize}; --max-batches for more)` : ''}`);
    console.log(`loss       ${loss.toFixed(4)}`);
    console.log(`perplexity ${Math.exp(loss).toFixed(3)}`);
    return;
  }

  if (model instanceof BertForMaskedLM) {
    const src = sourceOf(f, ck);
    const tok = ck.tokenizer as WordPieceTokenizer;
    const T = f.blockSize !== undefined ? positiveInt('block-size', f.blockSize) : opts.blockSize ?? 128;
    const blocks = toBlocks(tok.encode(loadText(src.data)), T, tok.clsId, tok.sepId);
    const rows = src.whole ? Array.from({ length: blocks.shape[0] }, (_, i) => i) : Array.from(withSeed(opts.seed ?? 1337, () => trainValSplit(blocks.shape[0], valFraction)).val);
    if (rows.length === 0) throw new Error(`eval: ${src.label} has no block of ${T} tokens`);
    const data = new MaskedBlocks(gatherRows(blocks, rows), maskOptions(tok));
    const r = withSeed(seed, () => noGrad(() => mlmMetrics(model, data, batchSize, maxBatches)));
    console.log(`data       ${src.label}: ${count(rows.length, 'block')} of ${T} tokens, 15% masked (seed ${seed}), up to ${maxBatches} batches of ${batchSize}`);
    console.log(`loss       ${r.loss.toFixed(4)}`);
    console.log(`perplexity ${r.perplexity.toFixed(3)}`);
    console.log(`masked-token accuracy ${r.accuracy.toFixed(4)}`);
    return;
  }

  if (model instanceof BertForSequenceClassification) {
    const src = sourceOf(f, ck);
    const tok = ck.tokenizer as WordPieceTokenizer;
    const labelNames = ck.labelNames!;
    const T = f.blockSize !== undefined ? positiveInt('block-size', f.blockSize) : opts.blockSize ?? 128;
    const data = loadClassification(src.data, { labelNames });
    const rows = src.whole ? data.texts.map((_, i) => i) : classifySplit(data, valFraction, opts.seed ?? 1337).val;
    if (rows.length === 0) throw new Error(`eval: ${src.label} has no examples`);
    const seqs = encodeTexts(tok, rows.map((i) => data.texts[i]), T);
    const set = new SequenceDataset(seqs, Int32Array.from(rows, (i) => data.labels[i]), { maxLen: T, padId: tok.padId, padToLongest: true });
    const { loss, report } = noGrad(() => classifyMetrics(model, set, batchSize, labelNames.length));
    console.log(`data       ${src.label}: ${count(rows.length, 'example')}`);
    console.log(`loss       ${loss.toFixed(4)}`);
    for (const line of reportLines(report, labelNames)) console.log(line);
    return;
  }

  if (!(model instanceof MLP || model instanceof LeNet5)) throw new Error(`eval: ${ck.dir} holds a ${model.constructor.name}, which eval cannot score (GPT, BERT, MLP, LeNet5)`);
  if (f.data && f.data !== 'mnist') throw new Error(`eval: image models are scored on --data mnist (got '${f.data}')`);
  const { test } = loadMnist();
  const { loss, report } = noGrad(() => imageMetrics(model, test.images, test.labels));
  console.log(`data       mnist: ${int(test.labels.size)} held-out digits`);
  console.log(`loss       ${loss.toFixed(4)}`);
  for (const line of reportLines(report, ck.labelNames ?? Array.from({ length: 10 }, (_, i) => String(i)))) console.log(line);
}
