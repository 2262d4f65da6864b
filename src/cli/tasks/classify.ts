// Task classify: doc 000's BERT text classifier (D23) — `text<TAB>label` lines (or 'spam'),
// [CLS] text [SEP] cut to T tokens, batches padded to their longest, cross-entropy on the
// pooled [CLS], argmax prediction; evaluated with accuracy, precision, recall, F1 and the
// confusion matrix (D27). With --init, the body starts from an MLM checkpoint (D22).
import type { Tensor } from '../../tensor/tensor.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../../models/index.js';
import { isBertPreset, preset } from '../../models/presets.js';
import { loadClassification, type ClassificationData } from '../../data/datasets.js';
import { DataLoader, SequenceDataset, trainValSplit, type PaddedBatch } from '../../data/loader.js';
import type { WordPieceTokenizer } from '../../data/tokenizers/index.js';
import { epochBatches } from '../../train/batches.js';
import { withSeed } from '../../train/trainer.js';
import { classificationReport, formatConfusion, type ClassificationReport } from '../../train/metrics.js';
import { BASE_PRESETS, type TrainOptions } from '../options.js';
import { buildTokenizer, checkVocab, count, describeTokenizer, int, modelVocab, startingPoint, type TaskContext, type TaskSetup } from './task.js';

export type LabelledBatch = PaddedBatch & { labels: Tensor };

/** The seeded train/validation split of a classification set (its own seed, so `eval` re-derives it). */
export function classifySplit(data: ClassificationData, valFraction: number, seed: number): { train: number[]; val: number[] } {
  const { train, val } = withSeed(seed, () => trainValSplit(data.texts.length, valFraction));
  return { train: Array.from(train), val: Array.from(val) };
}

export function encodeTexts(tok: WordPieceTokenizer, texts: readonly string[], T: number): number[][] {
  return texts.map((t) => tok.encodePair(t, undefined, { maxLen: T }).ids);
}

/** Loss, predictions and the D27 report of a classifier over a dataset, in batches. */
export function classifyMetrics(model: BertForSequenceClassification, data: SequenceDataset, batchSize: number, numLabels: number): { loss: number; report: ClassificationReport } {
  const predicted: number[] = [], truth: number[] = [];
  let sum = 0;
  for (let start = 0; start < data.length; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, data.length - start) }, (_, i) => start + i);
    const b = data.batch(idx);
    const { logits, loss } = model.forward(b.inputIds, { attentionMask: b.attentionMask, labels: b.labels });
    sum += loss!.item() * idx.length;
    predicted.push(...Array.from(logits.argmax(1).data));
    truth.push(...Array.from(b.labels.data));
  }
  return { loss: sum / Math.max(1, data.length), report: classificationReport(truth, predicted, numLabels) };
}

/** Per-class precision/recall/F1 and the confusion matrix, as lines. */
export function reportLines(report: ClassificationReport, labelNames: string[]): string[] {
  const w = Math.max(9, ...labelNames.map((l) => l.length));
  const f = (v: number) => v.toFixed(4).padStart(9);
  const lines = [`${''.padEnd(w)}  precision     recall         f1    support`];
  report.perClass.forEach((c, i) => lines.push(`${labelNames[i].padEnd(w)}  ${f(c.precision)}  ${f(c.recall)}  ${f(c.f1)}  ${String(c.support).padStart(9)}`));
  lines.push(`${'macro avg'.padEnd(w)}  ${f(report.macro.precision)}  ${f(report.macro.recall)}  ${f(report.macro.f1)}  ${String(report.perClass.reduce((s, c) => s + c.support, 0)).padStart(9)}`);
  lines.push(`accuracy ${report.accuracy.toFixed(4)}`, 'confusion matrix (rows: true label, columns: predicted):', ...formatConfusion(report.confusion, labelNames).split('\n'));
  const collapsed = oneClass(report, labelNames);
  if (collapsed) lines.push(collapsed);
  return lines;
}

/**
 * The warning for a classifier that predicts one class for every example (of at least two true
 * classes): its accuracy is then only that class's share, and every other class has recall 0.
 */
export function oneClass(report: ClassificationReport, labelNames: string[]): string | null {
  const k = report.confusion.length;
  const predicted = Array.from({ length: k }, (_, p) => report.confusion.reduce((s, row) => s + row[p], 0));
  const used = predicted.filter((n) => n > 0).length;
  const truePresent = report.confusion.filter((row) => row.some((n) => n > 0)).length;
  if (used !== 1 || truePresent < 2) return null;
  const only = labelNames[predicted.findIndex((n) => n > 0)];
  return `warning: the classifier predicts one class ('${only}') for every example: accuracy ${report.accuracy.toFixed(4)} is that class's share and every other label has recall 0 (try more --epochs, another --lr, or --init from an MLM run)`;
}

export async function setupClassify(opts: TrainOptions, ctx: TaskContext, savedLabelNames?: string[]): Promise<TaskSetup<LabelledBatch, BertForSequenceClassification>> {
  const data = loadClassification(opts.data, savedLabelNames ? { labelNames: savedLabelNames } : {});
  const numLabels = data.labelNames.length;
  if (numLabels < 2) throw new Error(`--data ${opts.data}: every example has the label '${data.labelNames[0]}'; classification needs at least 2 labels`);
  const split = classifySplit(data, opts.valFraction, opts.seed);
  const start = await startingPoint(opts, ctx);
  const trainTexts = split.train.map((i) => data.texts[i]);
  if (!start.tokenizer) ctx.note(`tokenizer ${opts.tokenizer === 'wordpiece' ? `training a WordPiece vocabulary (up to ${int(opts.vocabSize)} tokens) on the training texts…` : `reading ${opts.tokenizer}`}`);
  const tokenizer = (start.tokenizer ?? buildTokenizer(opts.tokenizer, trainTexts, opts.vocabSize, 'classify')) as WordPieceTokenizer;
  if (tokenizer.type !== 'wordpiece') throw new Error(`task classify needs a WordPiece tokenizer; the checkpoint has ${tokenizer.type}`);
  const T = opts.blockSize, B = opts.batchSize;
  const seqs = encodeTexts(tokenizer, data.texts, T);
  const pick = (ix: number[]) => new SequenceDataset(ix.map((i) => seqs[i]), Int32Array.from(ix, (i) => data.labels[i]), { maxLen: T, padId: tokenizer.padId, padToLongest: true });
  const train = pick(split.train), val = pick(split.val);

  let model: BertForSequenceClassification;
  if (start.model instanceof BertForSequenceClassification) {
    model = start.model;
    if (model.numLabels !== numLabels) throw new Error(`the checkpoint's classifier has ${model.numLabels} labels, --data ${opts.data} has ${numLabels}`);
  } else if (start.model instanceof BertForMaskedLM && start.init) {
    // D22: the pre-trained body, a new classification head
    model = await BertForSequenceClassification.fromPretrained(start.init.dir, { numLabels, warn: () => {} });
    ctx.note(`          BertForMaskedLM body loaded; new classification head for ${numLabels} labels`);
  } else if (start.model) {
    throw new Error(`task classify starts from a BERT checkpoint (BertForMaskedLM or BertForSequenceClassification); got a ${start.model.constructor.name}`);
  } else {
    if (!isBertPreset(opts.model)) throw new Error(`task classify builds a BERT from a preset; --model ${opts.model} is not one`);
    const cfg = preset(opts.model);
    model = new BertForSequenceClassification({
      ...cfg, vocabSize: modelVocab(tokenizer, cfg.vocabSize, BASE_PRESETS.includes(opts.model)),
      maxPositionEmbeddings: Math.max(cfg.maxPositionEmbeddings, T), padTokenId: tokenizer.padId,
    }, numLabels);
  }
  checkVocab(model.config.vocabSize, tokenizer, 'classify');
  model.train();
  const loader = new DataLoader(train, { batchSize: B, shuffle: true });
  const counts = data.labelNames.map((name, c) => `${name} ${int(data.labels.filter((l) => l === c).length)}`).join(', ');
  let last: ClassificationReport | null = null;
  return {
    model, modelName: `BertForSequenceClassification (${opts.init ? 'from --init' : ctx.resume ? 'from checkpoint' : opts.model})`, tokenizer,
    labelNames: data.labelNames,
    trainBatches: epochBatches(loader),
    batchesPerEpoch: loader.length,
    lossFn: (m, b) => m.forward(b.inputIds, { attentionMask: b.attentionMask, labels: b.labels }).loss,
    evaluate: val.length > 0 ? (m) => {
      const { loss, report } = classifyMetrics(m, val, B, numLabels);
      last = report;
      return { val_loss: loss, val_accuracy: report.accuracy, val_precision: report.macro.precision, val_recall: report.macro.recall, val_f1: report.macro.f1 };
    } : undefined,
    throughput: { unit: 'samples', count: (b) => b.labels.size },
    summary: [
      `data      ${opts.data}: ${count(data.texts.length, 'example')} (${counts}); ${describeTokenizer(tokenizer)}, ${T} tokens at most`,
      `split     train ${int(train.length)} · validation ${int(val.length)} (seeded)`,
    ],
    report: () => (last ? ['validation (macro averages over labels):', ...reportLines(last, data.labelNames)] : []),
  };
}
