// What each task (lm, mlm, classify, image) hands the train command: a model, a tokenizer, the
// batches, the loss, the evaluation; plus the helpers they share (tokenizers, checkpoints to start from).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../nn/module.js';
import type { BatchSource } from '../../train/batches.js';
import { loadCheckpoint, type LoadedCheckpoint, type ResumePoint, type Task } from '../../train/checkpoint.js';
import {
  BPETokenizer, CharTokenizer, WordPieceTokenizer, hasTokenizer, loadTokenizer, type Tokenizer,
} from '../../data/tokenizers/index.js';
import type { TrainOptions } from '../options.js';

export interface TaskContext {
  /** The checkpoint a resumed run continues from (read once by openResumePoint): tokenizer and model come from it. */
  resume: ResumePoint | null;
  /** Progress notes (data loading, tokenizer training). */
  note: (line: string) => void;
}

/** What a task sets up, typed by its batch B and its model M (GPT for lm, …): no casts in the loss. */
export interface TaskSetup<B, M extends Module> {
  model: M;
  /** e.g. 'GPT (gpt-baby)'. */
  modelName: string;
  tokenizer: Tokenizer | null;
  labelNames?: string[];
  trainBatches: BatchSource<B>;
  /** Batches per epoch, for --epochs and epoch-based defaults. */
  batchesPerEpoch: number | null;
  lossFn: (model: M, batch: B) => Tensor;
  /** Validation metrics (val_loss, …), run by the Trainer in eval mode on its eval seed. */
  evaluate?: (model: M) => Record<string, number>;
  throughput: { unit: 'tokens' | 'samples'; count: (batch: B) => number };
  /** Lines describing the data: sizes, tokenizer, split. */
  summary: string[];
  /** More to print after the last evaluation (a confusion matrix). */
  report?: () => string[];
  /** LM: a prompt the tokenizer can encode (for the sample and the hint to run `generate`). */
  prompt?: string;
  /** A generated sample (LM), on its own seed. */
  sample?: (model: M) => string;
}

/** The loss of a forward that was given targets (MLP and LeNet5 type it as possibly null). */
export function lossOf(out: { loss: Tensor | null }, where: string): Tensor {
  if (!out.loss) throw new Error(`${where}: the model returned no loss`);
  return out.loss;
}

/** Thousands separators: 1213006 → '1,213,006'. */
export const int = (n: number) => n.toLocaleString('en-US');

/** `1 step`, `2 steps`, `1,000 tokens`: a count with its noun in the right number. */
export const count = (n: number, noun: string, plural = `${noun}s`) => `${int(n)} ${n === 1 ? noun : plural}`;

/** A checkpoint to start from (--init) or continue (--resume), loaded once. */
export async function startingPoint(opts: TrainOptions, ctx: TaskContext): Promise<{ tokenizer: Tokenizer | null; model: Module | null; init: LoadedCheckpoint | null }> {
  if (ctx.resume) {
    if (!ctx.resume.model) throw new Error(`--resume: ${ctx.resume.dir} holds a model tsgrad train cannot rebuild`);
    return { tokenizer: ctx.resume.tokenizer, model: ctx.resume.model, init: null };
  }
  if (opts.init) {
    const init = await loadCheckpoint(opts.init);
    ctx.note(`init      ${init.dir} (task ${init.task}${init.state ? `, step ${init.state.step}` : ''})`);
    return { tokenizer: init.tokenizer, model: init.model, init };
  }
  return { tokenizer: null, model: null, init: null };
}

export function describeTokenizer(t: Tokenizer): string {
  const n = int(t.vocabSize);
  switch (t.type) {
    case 'char': return `char tokenizer, ${n} symbols`;
    case 'bpe': return `byte-level BPE, ${n} tokens`;
    case 'wordpiece': return `WordPiece, ${n} tokens`;
    default: return `${t.type} tokenizer, ${n} tokens`;
  }
}

/** --tokenizer: char | bpe | wordpiece (trained on `corpus`), or a folder/file to read one from. */
export function buildTokenizer(spec: string, corpus: string | string[], vocabSize: number, task: Task): Tokenizer {
  const joined = () => (typeof corpus === 'string' ? corpus : corpus.join('\n'));
  let tok: Tokenizer;
  if (spec === 'char') tok = CharTokenizer.fit(joined());
  else if (spec === 'bpe') tok = BPETokenizer.train(joined(), vocabSize);
  else if (spec === 'wordpiece') tok = WordPieceTokenizer.train(corpus, vocabSize);
  else tok = readTokenizer(spec);
  if ((task === 'mlm' || task === 'classify') && !(tok instanceof WordPieceTokenizer)) {
    throw new Error(`--tokenizer: task ${task} needs a WordPiece tokenizer ([CLS], [SEP], [MASK]); got ${tok.type}`);
  }
  return tok;
}

function readTokenizer(spec: string): Tokenizer {
  const has = (f: string) => fs.existsSync(path.join(spec, f));
  if (!fs.existsSync(spec)) throw new Error(`--tokenizer: '${spec}' is not char, bpe or wordpiece, and no such file or folder exists`);
  if (fs.statSync(spec).isDirectory()) {
    if (hasTokenizer(spec)) return loadTokenizer(spec);
    if (has('vocab.json') && has('merges.txt')) return BPETokenizer.fromFiles(path.join(spec, 'vocab.json'), path.join(spec, 'merges.txt'));
    if (has('vocab.txt')) return WordPieceTokenizer.fromVocab(path.join(spec, 'vocab.txt'));
    throw new Error(`--tokenizer: ${spec} holds none of tokenizer.json, tsgrad_tokenizer.json, vocab.json + merges.txt (GPT-2), vocab.txt (BERT)`);
  }
  if (spec.endsWith('.txt')) return WordPieceTokenizer.fromVocab(spec);
  return loadTokenizer(spec);
}

/** The model's vocabulary: the tokenizer's, padded up to a base preset's real size (gpt2-small 50257, bert-base 30522). */
export function modelVocab(tokenizer: Tokenizer, presetVocab: number, padToPreset: boolean): number {
  return padToPreset ? Math.max(tokenizer.vocabSize, presetVocab) : tokenizer.vocabSize;
}

/** Check that a model loaded from a checkpoint fits the tokenizer. */
export function checkVocab(modelVocabSize: number, tokenizer: Tokenizer, where: string): void {
  if (modelVocabSize < tokenizer.vocabSize) throw new Error(`${where}: the model has ${modelVocabSize} embeddings but the tokenizer ${tokenizer.vocabSize} tokens`);
}
