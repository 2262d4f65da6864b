// `tsgrad train` options: what the user may give, and the defaults each preset and task fills in.
// Defaults keep a run short on 2 cores; the documents' settings are one flag away (D23's
// classifier: --epochs 10 --lr 1e-5 --batch-size 32 --block-size 128; D24's MLM run: --epochs 3
// --batch-size 16 --block-size 128 --save-every 2000 --keep 3).
import * as path from 'node:path';
import { gptPresets, bertPresets } from '../models/presets.js';
import { CLASSIFICATION_DATASETS, IMAGE_DATASETS } from '../data/datasets.js';
import type { Task } from '../train/checkpoint.js';
import { labelledShape } from './data-file.js';

export type OptimizerName = 'adam' | 'adamw' | 'sgd';
export type ScheduleName = 'cosine' | 'step' | 'none';

/** Every option of a run, resolved: what config.json holds. */
export interface TrainOptions {
  model: string;
  data: string;
  task: Task;
  /** Total optimizer steps (from --epochs when given that way). */
  steps: number;
  /** --epochs as given (null when the run is counted in steps). */
  epochs: number | null;
  batchSize: number;
  /** Micro-batches of batchSize accumulated per optimizer step (effective batch gradAccum × batchSize). */
  gradAccum: number;
  /** LM: the context length; BERT: the sequence length (max tokens, D23's 128). */
  blockSize: number;
  lr: number;
  optimizer: OptimizerName;
  weightDecay: number;
  warmup: number;
  schedule: ScheduleName;
  /** Global gradient-norm clip (0: none). */
  clip: number;
  seed: number;
  /** Steps between evaluations (epoch-based tasks: default one epoch). */
  evalEvery: number;
  /** Validation batches per evaluation (LM, MLM). */
  evalBatches: number;
  saveEvery: number;
  keep: number;
  out: string;
  init: string | null;
  /** char | bpe | wordpiece | a folder or file with a tokenizer (tokenizer.json, vocab.json + merges.txt, vocab.txt). */
  tokenizer: string;
  /** Size of a trained BPE or WordPiece vocabulary (the corpus may support fewer). */
  vocabSize: number;
  valFraction: number;
  /** Images: random shifts of up to this many pixels (data augmentation, D19); 0 = none. */
  augment: number;
  /** LM: tokens of the sample printed at the end. */
  sampleTokens: number;
  /** Steps between progress lines (0: about 20 per run). */
  logEvery: number;
}

export const IMAGE_MODELS = ['mlp', 'lenet5'] as const;
export const MODELS = [...Object.keys(gptPresets), ...Object.keys(bertPresets), ...IMAGE_MODELS];

/** Presets whose vocabulary is the real one: a smaller trained tokenizer is padded up to it. */
export const BASE_PRESETS = ['gpt2-small', 'bert-base'];

export function familyOf(model: string): 'gpt' | 'bert' | 'image' {
  if (model in gptPresets) return 'gpt';
  if (model in bertPresets) return 'bert';
  if ((IMAGE_MODELS as readonly string[]).includes(model)) return 'image';
  throw new Error(`unknown model '${model}' (known: ${MODELS.join(', ')})`);
}

/** The task a model and data imply when --task is not given. */
export function defaultTask(model: string, data: string | undefined, init: string | null): Task {
  const family = familyOf(model);
  if (family === 'gpt') return 'lm';
  if (family === 'image') return 'image';
  // labelled: the spam set, a .tsv/.csv file, or any file whose every line is text<TAB>label (data-file.ts)
  const labelled = data !== undefined && ((CLASSIFICATION_DATASETS as readonly string[]).includes(data) || /\.(tsv|csv)$/i.test(data) || labelledShape(data) !== null);
  return labelled || init ? 'classify' : 'mlm';
}

export function defaultData(task: Task): string {
  return { lm: 'moby-dick', mlm: 'moby-dick', classify: 'spam', image: 'mnist' }[task];
}

type Defaults = Omit<TrainOptions, 'model' | 'data' | 'task' | 'out' | 'init' | 'epochs' | 'steps' | 'evalEvery'> & {
  /** Either a step count or an epoch count. */
  steps?: number;
  epochs?: number;
  /** Absent: one epoch. */
  evalEvery?: number;
};

const common = { gradAccum: 1, seed: 1337, keep: 3, valFraction: 0.1, augment: 0, sampleTokens: 0, logEvery: 0, weightDecay: 0, warmup: 0, clip: 1 };

/** Per model (and task, for BERT) defaults. */
export function presetDefaults(model: string, task: Task): Defaults {
  const lm = { ...common, optimizer: 'adamw' as const, weightDecay: 0.1, schedule: 'cosine' as const, tokenizer: 'char', vocabSize: 2048, sampleTokens: 200 };
  const bert = { ...common, optimizer: 'adamw' as const, weightDecay: 0.01, tokenizer: 'wordpiece', vocabSize: 8000 };
  const classify = { optimizer: 'adam' as const, weightDecay: 0, schedule: 'none' as const, warmup: 0 }; // D23: Adam, constant lr
  switch (model) {
    case 'gpt-nano': return { ...lm, batchSize: 16, blockSize: 32, lr: 1e-3, warmup: 10, steps: 200, evalEvery: 50, evalBatches: 4, saveEvery: 100 };
    case 'gpt-baby': return { ...lm, batchSize: 12, blockSize: 64, lr: 1e-3, warmup: 20, steps: 2000, evalEvery: 200, evalBatches: 10, saveEvery: 500 };
    case 'gpt-mini': return { ...lm, batchSize: 12, blockSize: 256, lr: 6e-4, warmup: 50, steps: 2000, evalEvery: 250, evalBatches: 10, saveEvery: 500 };
    case 'gpt2-small': return { ...lm, tokenizer: 'bpe', vocabSize: 50257, batchSize: 1, blockSize: 1024, lr: 3e-4, warmup: 10, steps: 100, evalEvery: 50, evalBatches: 1, saveEvery: 50, sampleTokens: 20 };
    case 'bert-tiny':
    case 'bert-mini':
      return task === 'classify'
        ? { ...bert, ...classify, batchSize: 32, blockSize: 128, lr: 2e-4, epochs: 3, evalBatches: 0, saveEvery: 500 }
        : { ...bert, schedule: 'cosine', warmup: 20, batchSize: 16, blockSize: 128, lr: 5e-4, epochs: 1, evalEvery: 100, evalBatches: 5, saveEvery: 500 };
    case 'bert-base':
      return task === 'classify'
        ? { ...bert, ...classify, vocabSize: 30522, batchSize: 8, blockSize: 128, lr: 2e-5, steps: 100, evalEvery: 50, evalBatches: 0, saveEvery: 50 }
        : { ...bert, vocabSize: 30522, schedule: 'cosine', warmup: 10, batchSize: 8, blockSize: 128, lr: 1e-4, steps: 100, evalEvery: 50, evalBatches: 1, saveEvery: 50 };
    case 'mlp': return { ...common, clip: 0, optimizer: 'adam', schedule: 'none', tokenizer: 'none', vocabSize: 0, batchSize: 64, blockSize: 0, lr: 1e-3, epochs: 5, evalBatches: 0, saveEvery: 500 };
    case 'lenet5': return { ...common, clip: 0, optimizer: 'adam', schedule: 'none', tokenizer: 'none', vocabSize: 0, batchSize: 64, blockSize: 0, lr: 1e-3, epochs: 3, evalBatches: 0, saveEvery: 500 };
  }
  throw new Error(`unknown model '${model}' (known: ${MODELS.join(', ')})`);
}

/**
 * PyTorch's default weight decay of each optimizer: Adam and SGD 0 (their decay is an L2 term added
 * to the gradient, which with Adam's normalisation swamps small gradients), AdamW 0.01 (decoupled).
 */
export const OPTIMIZER_WEIGHT_DECAY: Record<OptimizerName, number> = { adam: 0, sgd: 0, adamw: 0.01 };

/** The preset's weight decay with the preset's optimizer; another optimizer brings its own default. */
export function defaultWeightDecay(optimizer: OptimizerName, d: Pick<Defaults, 'optimizer' | 'weightDecay'>): number {
  return optimizer === d.optimizer ? d.weightDecay : OPTIMIZER_WEIGHT_DECAY[optimizer];
}

/** The banner's words for the decay applied: how (decoupled or L2) and, when defaulted, whose default. */
export function describeWeightDecay(o: Pick<TrainOptions, 'optimizer' | 'weightDecay' | 'model' | 'task'>, defaulted: boolean): string {
  const d = presetDefaults(o.model, o.task);
  const how = o.weightDecay === 0 ? '' : o.optimizer === 'adamw' ? ', decoupled, matrices only' : ', L2 in the gradient, matrices only';
  const name = { adam: 'Adam', adamw: 'AdamW', sgd: 'SGD' }[o.optimizer];
  const whose = !defaulted ? '' : o.optimizer === d.optimizer ? ", the preset's" : `, ${name}'s default; the preset's ${d.weightDecay} goes with ${d.optimizer}`;
  return `wd ${o.weightDecay}${how || whose ? ` (${[how.slice(2), whose.slice(2)].filter(Boolean).join('; ')})` : ''}`;
}

/** Which tasks a model family can do. */
export function checkTask(model: string, task: Task, data: string): void {
  const family = familyOf(model);
  const ok = family === 'gpt' ? task === 'lm' : family === 'bert' ? task === 'mlm' || task === 'classify' : task === 'image';
  if (!ok) {
    const tasks = family === 'gpt' ? 'lm' : family === 'bert' ? 'mlm or classify' : 'image';
    throw new Error(`--model ${model} cannot do --task ${task} (it does ${tasks})`);
  }
  if (task === 'image' && !(IMAGE_DATASETS as readonly string[]).includes(data)) throw new Error(`--model ${model} trains on --data mnist (got '${data}')`);
}

/** runs/<model>-<data>, the data named by its file name without extension when it is a path. */
export function defaultOutDir(model: string, data: string): string {
  const name = path.basename(data).replace(/\.[^.]+$/, '') || 'data';
  return path.join('runs', `${model}-${name}`);
}

/** Options that change a run's trajectory: a resumed run must not change them. */
export const TRAJECTORY_OPTIONS: (keyof TrainOptions)[] = [
  'model', 'data', 'task', 'batchSize', 'gradAccum', 'blockSize', 'lr', 'optimizer', 'weightDecay', 'warmup', 'schedule', 'clip', 'seed',
  'init', 'tokenizer', 'vocabSize', 'valFraction', 'augment',
];

export function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${v})`);
  return n;
}

export function nonNegativeInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer (got ${v})`);
  return n;
}

export function nonNegative(name: string, v: unknown): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0)) throw new Error(`--${name} must be a non-negative number (got ${v})`);
  return n;
}
