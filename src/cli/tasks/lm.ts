// Task lm: next-token prediction with a GPT (D12), nanoGPT's way: the text as one token stream,
// the last valFraction for validation, each step B random windows of T tokens drawn from tsgrad's
// seeded stream (lmBatch), so a resumed run draws the same windows.
import { Tensor } from '../../tensor/tensor.js';
import { GPT } from '../../models/index.js';
import { isGptPreset, preset } from '../../models/presets.js';
import { loadText } from '../../data/datasets.js';
import { lmBatch, splitTokens, type LMBatch } from '../../data/loader.js';
import { randomBatches, type BatchSource } from '../../train/batches.js';
import { withSeed } from '../../train/trainer.js';
import type { Tokenizer } from '../../data/tokenizers/index.js';
import { BASE_PRESETS, type TrainOptions } from '../options.js';
import { describeWindows, lmWindows, windowsLoss } from '../val-windows.js';
import { buildTokenizer, checkVocab, count, describeTokenizer, int, modelVocab, startingPoint, type TaskContext, type TaskSetup } from './task.js';

/** A prompt the tokenizer can encode: 'The ' for prose, 'An' for lists of names, else the first validation token. */
/** The GPT of an lm run: the checkpoint's (checked against the tokenizer and block size) or a new one from the preset. */
export function lmModel(from: unknown, tokenizer: Tokenizer, opts: TrainOptions, ctx: TaskContext): GPT {
  const T = opts.blockSize;
  if (from) {
    if (!(from instanceof GPT)) throw new Error(`task lm needs a GPT checkpoint; ${opts.init ?? ctx.resume?.dir} holds a ${(from as object).constructor.name}`);
    checkVocab(from.config.vocabSize, tokenizer, 'lm');
    if (from.config.nPositions < T) throw new Error(`--block-size ${T} is longer than the checkpoint's ${from.config.nPositions} positions`);
    return from;
  }
  if (!isGptPreset(opts.model)) throw new Error(`task lm builds a GPT from a preset; --model ${opts.model} is not one`);
  const cfg = preset(opts.model);
  return new GPT({ ...cfg, vocabSize: modelVocab(tokenizer, cfg.vocabSize, BASE_PRESETS.includes(opts.model)), nPositions: Math.max(cfg.nPositions, T) });
}

/**
 * Validation of an lm run: the first --eval-batches × --batch-size non-overlapping windows of
 * `val`, the same windows `tsgrad eval` and `quantize --compare` score (val-windows.ts); the
 * summary says which. Undefined when there are none.
 */
export function lmEvaluate(val: Int32Array, T: number, B: number, evalBatches: number, summary: string[]): ((m: GPT) => Record<string, number>) | undefined {
  const windows = lmWindows(val, T, B, evalBatches);
  if (windows.windows === 0) return undefined;
  summary.push(`eval      val loss over ${describeWindows(windows, 'the validation split')}`);
  return (m) => {
    const loss = windowsLoss(m, windows);
    return { val_loss: loss, val_perplexity: Math.exp(loss) };
  };
}

/** The task setup both lm sources (text, shards) share once their batches are known. */
export function lmSetup(s: {
  model: GPT; tokenizer: Tokenizer; opts: TrainOptions; ctx: TaskContext; summary: string[]; prompt: string;
  evaluate: ((m: GPT) => Record<string, number>) | undefined; trainBatches: BatchSource<LMBatch>; batchesPerEpoch: number;
}): TaskSetup<LMBatch, GPT> {
  const { model, tokenizer, opts, ctx, prompt } = s;
  return {
    model, modelName: `GPT (${opts.init || ctx.resume ? 'from checkpoint' : opts.model})`, tokenizer,
    trainBatches: s.trainBatches,
    batchesPerEpoch: s.batchesPerEpoch,
    lossFn: (m, { x, y }) => m.forward(x, y).loss,
    evaluate: s.evaluate,
    throughput: { unit: 'tokens', count: (b) => b.x.size },
    summary: s.summary,
    prompt,
    sample: opts.sampleTokens > 0 ? (m) => sampleText(m, tokenizer, tokenizer.encode(prompt), opts.sampleTokens, opts.seed) : undefined,
  };
}

export function defaultPrompt(tokenizer: Tokenizer, fallback: number): string {
  for (const p of ['The ', 'An']) {
    try {
      if (tokenizer.encode(p).length > 0) return p;
    } catch {
      // a character tokenizer that never saw one of these characters
    }
  }
  return tokenizer.decode([fallback]);
}

/** Generate n tokens after `prompt` (temperature 0.8, top-k 200, as nanoGPT's sample.py). */
export function sampleText(model: GPT, tokenizer: Tokenizer, prompt: number[], n: number, seed: number, opts: { temperature?: number; topK?: number | null; greedy?: boolean } = {}): string {
  const idx = new Tensor(Int32Array.from(prompt), [1, prompt.length], 'int32');
  const out = withSeed(seed, () => model.generate(idx, n, { temperature: opts.temperature ?? 0.8, topK: opts.topK === undefined ? 200 : opts.topK, greedy: opts.greedy ?? false }));
  // a base preset's vocabulary is padded past the tokenizer's (gpt2-small: 50,257 rows for a 29,405-token BPE);
  // early in training those rows can be sampled, and they have no text: leave them out of the sample
  return tokenizer.decode((out.data as Int32Array).filter((id) => id < tokenizer.vocabSize));
}

export async function setupLm(opts: TrainOptions, ctx: TaskContext): Promise<TaskSetup<LMBatch, GPT>> {
  const text = loadText(opts.data);
  const start = await startingPoint(opts, ctx);
  if (!start.tokenizer && opts.tokenizer !== 'char') ctx.note(`tokenizer ${opts.tokenizer === 'bpe' ? `training a byte-level BPE (up to ${int(opts.vocabSize)} tokens) on the corpus…` : `reading ${opts.tokenizer}`}`);
  const tokenizer = start.tokenizer ?? buildTokenizer(opts.tokenizer, text, opts.vocabSize, 'lm');
  const ids = Int32Array.from(tokenizer.encode(text));
  const { train, val } = splitTokens(ids, opts.valFraction);
  const T = opts.blockSize, B = opts.batchSize;
  if (train.length < T + 1) throw new Error(`--data ${opts.data}: the training split has ${train.length} tokens, too few for --block-size ${T} (need ${T + 1})`);
  if (val.length > 0 && val.length < T + 1) throw new Error(`--data ${opts.data}: the validation split has ${val.length} tokens, too few for --block-size ${T} (need ${T + 1}); use more text, a larger --val-fraction or a smaller --block-size`);

  const model = lmModel(start.model, tokenizer, opts, ctx);
  const padded = model.config.vocabSize > tokenizer.vocabSize ? `; model vocabulary padded to ${int(model.config.vocabSize)}` : '';
  const summary = [
    `data      ${opts.data}: ${count(text.length, 'character')} → ${count(ids.length, 'token')} (${describeTokenizer(tokenizer)})${padded}`,
    `split     train ${int(train.length)} · validation ${count(val.length, 'token')} (the last ${opts.valFraction * 100}%)`,
  ];
  const evaluate = lmEvaluate(val, T, B, opts.evalBatches, summary);
  const prompt = defaultPrompt(tokenizer, val[0] ?? train[0]);
  return lmSetup({ model, tokenizer, opts, ctx, summary, evaluate, prompt,
    trainBatches: randomBatches(() => lmBatch(train, T, B)),
    batchesPerEpoch: Math.max(1, Math.floor(train.length / (B * T))),
  });
}
