// Task mlm: BERT's masked-language-model pre-training (D11, D24's run): the corpus as one WordPiece
// stream cut into blocks of T tokens ([CLS] … [SEP], as Hugging Face's run_mlm group_texts), a
// seeded train/validation split of the blocks, and 15% of the tokens of each batch masked when the
// batch is drawn (80% [MASK], 10% random, 10% kept), from tsgrad's stream, inside the step.
import { Tensor } from '../../tensor/tensor.js';
import { BertForMaskedLM } from '../../models/index.js';
import { isBertPreset, preset } from '../../models/presets.js';
import { maskTokens, type MaskTokensOptions, type MaskedBatch } from '../../models/masking.js';
import { loadText } from '../../data/datasets.js';
import { DataLoader, gatherRows, trainValSplit, type Dataset } from '../../data/loader.js';
import type { WordPieceTokenizer } from '../../data/tokenizers/index.js';
import { epochBatches } from '../../train/batches.js';
import { withSeed } from '../../train/trainer.js';
import { BASE_PRESETS, type TrainOptions } from '../options.js';
import { buildTokenizer, checkVocab, count, describeTokenizer, int, modelVocab, startingPoint, type TaskContext, type TaskSetup } from './task.js';

/** Blocks of token ids, masked afresh each time a batch is drawn. */
export class MaskedBlocks implements Dataset<MaskedBatch> {
  constructor(readonly blocks: Tensor, readonly mask: MaskTokensOptions) {}
  get length(): number {
    return this.blocks.shape[0];
  }
  batch(indices: ArrayLike<number>): MaskedBatch {
    return maskTokens(gatherRows(this.blocks, indices), this.mask);
  }
}

/** The stream cut into blocks [CLS] + (T − 2 tokens) + [SEP], int32 [N, T]. */
export function toBlocks(ids: ArrayLike<number>, T: number, cls: number, sep: number): Tensor {
  const inner = T - 2;
  const n = Math.floor(ids.length / inner);
  const out = new Int32Array(n * T);
  for (let b = 0; b < n; b++) {
    out[b * T] = cls;
    for (let t = 0; t < inner; t++) out[b * T + 1 + t] = ids[b * inner + t];
    out[b * T + T - 1] = sep;
  }
  return new Tensor(out, [n, T], 'int32');
}

export function maskOptions(tok: WordPieceTokenizer): MaskTokensOptions {
  return { prob: 0.15, maskTokenId: tok.maskId, vocabSize: tok.vocabSize, specialIds: [tok.clsId, tok.sepId, tok.padId] };
}

/** Masked loss, perplexity and masked-token accuracy over up to maxBatches batches of blocks. */
export function mlmMetrics(model: BertForMaskedLM, data: MaskedBlocks, batchSize: number, maxBatches: number): { loss: number; perplexity: number; accuracy: number } {
  let sum = 0, batches = 0, right = 0, scored = 0;
  for (let start = 0; start < data.length && batches < maxBatches; start += batchSize, batches++) {
    const idx = Array.from({ length: Math.min(batchSize, data.length - start) }, (_, i) => start + i);
    const { inputIds, labels } = data.batch(idx);
    const { logits, loss } = model.forward(inputIds, { labels });
    sum += loss!.item();
    const pred = logits.argmax(2).data, lab = labels.data;
    for (let i = 0; i < lab.length; i++) if (lab[i] !== -100) { scored++; if (pred[i] === lab[i]) right++; }
  }
  const loss = sum / Math.max(1, batches);
  return { loss, perplexity: Math.exp(loss), accuracy: scored ? right / scored : 0 };
}

export async function setupMlm(opts: TrainOptions, ctx: TaskContext): Promise<TaskSetup<MaskedBatch, BertForMaskedLM>> {
  const text = loadText(opts.data);
  const start = await startingPoint(opts, ctx);
  if (!start.tokenizer) ctx.note(`tokenizer ${opts.tokenizer === 'wordpiece' ? `training a WordPiece vocabulary (up to ${int(opts.vocabSize)} tokens) on the corpus…` : `reading ${opts.tokenizer}`}`);
  const tokenizer = (start.tokenizer ?? buildTokenizer(opts.tokenizer, text, opts.vocabSize, 'mlm')) as WordPieceTokenizer;
  if (tokenizer.type !== 'wordpiece') throw new Error(`task mlm needs a WordPiece tokenizer; the checkpoint has ${tokenizer.type}`);
  const T = opts.blockSize, B = opts.batchSize;
  if (T < 3) throw new Error(`--block-size must be at least 3 for [CLS] … [SEP] (got ${T})`);
  const ids = tokenizer.encode(text);
  const blocks = toBlocks(ids, T, tokenizer.clsId, tokenizer.sepId);
  if (blocks.shape[0] < 2) throw new Error(`--data ${opts.data}: ${count(ids.length, 'token')} make ${count(blocks.shape[0], 'block')} of ${T}; need at least 2 (use more text or a smaller --block-size)`);
  const split = withSeed(opts.seed, () => trainValSplit(blocks.shape[0], opts.valFraction)); // on its own seed: `eval` re-derives it
  const mask = maskOptions(tokenizer);
  const train = new MaskedBlocks(gatherRows(blocks, split.train), mask);
  const val = new MaskedBlocks(gatherRows(blocks, split.val), mask);

  let model: BertForMaskedLM;
  if (start.model) {
    if (!(start.model instanceof BertForMaskedLM)) throw new Error(`task mlm needs a BertForMaskedLM checkpoint; got a ${start.model.constructor.name}`);
    model = start.model;
    checkVocab(model.config.vocabSize, tokenizer, 'mlm');
  } else {
    if (!isBertPreset(opts.model)) throw new Error(`task mlm builds a BERT from a preset; --model ${opts.model} is not one`);
    const cfg = preset(opts.model);
    model = new BertForMaskedLM({
      ...cfg, vocabSize: modelVocab(tokenizer, cfg.vocabSize, BASE_PRESETS.includes(opts.model)),
      maxPositionEmbeddings: Math.max(cfg.maxPositionEmbeddings, T), padTokenId: tokenizer.padId,
    });
  }
  const loader = new DataLoader(train, { batchSize: B, shuffle: true });
  const padded = model.config.vocabSize > tokenizer.vocabSize ? `; model vocabulary padded to ${int(model.config.vocabSize)}` : '';
  return {
    model, modelName: `BertForMaskedLM (${opts.init || ctx.resume ? 'from checkpoint' : opts.model})`, tokenizer,
    trainBatches: epochBatches(loader),
    batchesPerEpoch: loader.length,
    lossFn: (m, b) => m.forward(b.inputIds, { labels: b.labels }).loss,
    evaluate: val.length > 0 && opts.evalBatches > 0 ? (m) => {
      const r = mlmMetrics(m, val, B, opts.evalBatches);
      return { val_loss: r.loss, val_perplexity: r.perplexity, val_accuracy: r.accuracy };
    } : undefined,
    throughput: { unit: 'tokens', count: (b) => b.inputIds.size },
    summary: [
      `data      ${opts.data}: ${count(text.length, 'character')} → ${count(ids.length, 'token')} (${describeTokenizer(tokenizer)})${padded}`,
      `split     ${int(blocks.shape[0])} blocks of ${T}: train ${int(train.length)} · validation ${int(val.length)}; 15% of tokens masked per batch`,
    ],
  };
}
