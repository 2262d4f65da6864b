// Task lm from a token-shard folder (`tsgrad prepare`): the same random windows as the in-memory
// path (shardBatch draws as lmBatch does, from tsgrad's seeded stream, so resume is exact), read
// from the files one window at a time: RSS does not grow with the corpus. The tokenizer is the
// folder's; a resumed or --init run must bring the same one.
import { GPT } from '../../models/index.js';
import { TokenShards, shardBatch } from '../../data/shards.js';
import type { LMBatch } from '../../data/loader.js';
import { loadTokenizer } from '../../data/tokenizers/index.js';
import { randomBatches } from '../../train/batches.js';
import { humanBytes } from '../../train/progress.js';
import type { TrainOptions } from '../options.js';
import { describeTokenizer, int, startingPoint, type TaskContext, type TaskSetup } from './task.js';
import { defaultPrompt, lmEvaluate, lmModel, lmSetup } from './lm.js';

export async function setupLmShards(opts: TrainOptions, ctx: TaskContext): Promise<TaskSetup<LMBatch, GPT>> {
  const started = performance.now();
  const shards = new TokenShards(opts.data); // checks sizes and SHA-256 of every shard
  const m = shards.manifest;
  ctx.note(`shards    ${opts.data}: ${m.shards.length} file${m.shards.length === 1 ? '' : 's'} of ${m.dtype}, ${humanBytes(m.tokens * (m.dtype === 'uint16' ? 2 : 4))}, checked against shards.json in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  const start = await startingPoint(opts, ctx);
  const own = loadTokenizer(opts.data);
  const tokenizer = start.tokenizer ?? own;
  if (JSON.stringify(tokenizer.toJSON()) !== JSON.stringify(own.toJSON())) {
    throw new Error(`--data ${opts.data}: the shards were tokenized with ${describeTokenizer(own)}, but ${opts.init ?? ctx.resume?.dir} brings ${describeTokenizer(tokenizer)}; prepare the corpus with its tokenizer (tsgrad prepare --tokenizer ${opts.init ?? ctx.resume?.dir})`);
  }
  const T = opts.blockSize, B = opts.batchSize;
  const [trainLo, trainHi] = shards.range('train');
  const [valLo, valHi] = shards.range('val');
  if (trainHi - trainLo < T + 1) throw new Error(`--data ${opts.data}: the training split has ${trainHi - trainLo} tokens, too few for --block-size ${T} (need ${T + 1})`);
  const hasVal = valHi - valLo >= T + 1;

  const model = lmModel(start.model, tokenizer, opts, ctx);
  const padded = model.config.vocabSize > tokenizer.vocabSize ? `; model vocabulary padded to ${int(model.config.vocabSize)}` : '';
  const summary = [
    `data      ${opts.data}: ${int(m.tokens)} tokens from ${int(m.documents)} document${m.documents === 1 ? '' : 's'} (${describeTokenizer(tokenizer)}), read by window from disk${padded}`,
    `split     train ${int(trainHi - trainLo)} · validation ${int(valHi - valLo)} tokens (the last ${m.split.valFraction * 100}%, fixed by tsgrad prepare; --val-fraction does not apply)${hasVal ? '' : ' — too few to validate on'}`,
  ];
  // the same windows as `tsgrad eval` scores on this folder: the start of the held-out tail (val-windows.ts)
  const val = hasVal ? shards.read(valLo, Math.min(valHi - valLo, opts.evalBatches * B * T + 1)) : new Int32Array(0);
  const evaluate = lmEvaluate(val, T, B, opts.evalBatches, summary);
  const first = shards.read(hasVal ? valLo : 0, 1)[0];
  const prompt = defaultPrompt(tokenizer, first);
  return lmSetup({ model, tokenizer, opts, ctx, summary, evaluate, prompt,
    trainBatches: randomBatches(() => shardBatch(shards, 'train', T, B)),
    batchesPerEpoch: Math.max(1, Math.floor((trainHi - trainLo) / (B * T))),
  });
}
