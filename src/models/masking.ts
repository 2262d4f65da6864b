// BERT's masked-language-model corruption (D11): choose each maskable position with probability
// `prob`; a chosen token becomes [MASK] 80% of the time, a random token 10%, stays itself 10%.
// The model is scored only at the chosen positions (maskedLMLoss, below): labels hold the original token there, −100
// elsewhere. Draws come from tsgrad's one seeded stream, so manualSeed makes it reproducible.
import { Tensor } from '../tensor/tensor.js';
import { random } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import type { Linear } from '../nn/linear.js';
import * as F from '../nn/functional.js';

export interface MaskTokensOptions {
  /** Probability that a maskable position is chosen (BERT: 0.15). */
  prob?: number;
  maskTokenId: number;
  /** Random replacements are drawn uniformly from [0, vocabSize). */
  vocabSize: number;
  /** Token ids never chosen ([CLS], [SEP], [PAD], …). */
  specialIds?: number[];
  /** int32 or bool [B, T]: positions with 0 (padding) are never chosen. */
  attentionMask?: Tensor | null;
}

export interface MaskedBatch {
  /** The corrupted ids, int32 [B, T]. */
  inputIds: Tensor;
  /** The original id at chosen positions, −100 elsewhere, int32 [B, T]. */
  labels: Tensor;
}

/** ids int32 [B, T] → { inputIds, labels } with BERT's 80/10/10 replacement. */
export function maskTokens(ids: Tensor, { prob = 0.15, maskTokenId, vocabSize, specialIds = [], attentionMask = null }: MaskTokensOptions): MaskedBatch {
  if (!(ids instanceof Tensor) || ids.dtype !== 'int32') throw new Error(`maskTokens: ids must be an int32 tensor (got ${ids instanceof Tensor ? ids.dtype : typeof ids})`);
  if (!(prob >= 0 && prob <= 1)) throw new Error(`maskTokens: prob must be in [0, 1] (got ${prob})`);
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new Error(`maskTokens: vocabSize must be a positive integer (got ${vocabSize})`);
  if (!Number.isInteger(maskTokenId) || maskTokenId < 0 || maskTokenId >= vocabSize) throw new Error(`maskTokens: maskTokenId must be an id in [0, ${vocabSize}) (got ${maskTokenId})`);
  if (attentionMask && attentionMask.size !== ids.size) throw new Error(`maskTokens: attentionMask of shape ${fmt(attentionMask.shape)} does not match ids ${fmt(ids.shape)}`);
  const special = new Set(specialIds);
  const src = ids.data as Int32Array;
  const inputIds = Int32Array.from(src);
  const labels = new Int32Array(src.length).fill(-100);
  for (let i = 0; i < src.length; i++) {
    if (special.has(src[i]) || (attentionMask && attentionMask.data[i] === 0)) continue;
    if (random() >= prob) continue;
    labels[i] = src[i];
    const r = random();
    if (r < 0.8) inputIds[i] = maskTokenId; // 80%: [MASK]
    else if (r < 0.9) inputIds[i] = Math.floor(random() * vocabSize); // 10%: a random token
    // 10%: unchanged
  }
  return { inputIds: new Tensor(inputIds, [...ids.shape], 'int32'), labels: new Tensor(labels, [...ids.shape], 'int32') };
}

/**
 * Mean cross-entropy over the rows whose label is not −100 (D11). The decoder runs a second time on
 * just those rows' hidden states (~15 %): the same loss and gradient as from those rows of the
 * full logits, but backward never builds the (B·T, V) gradient of the logits, 85 % zeros (for
 * BERT-tiny 250 MB, and two thirds of a step's flops in its products).
 */
export function maskedLMLoss(logits: Tensor, hidden: Tensor, decoder: Linear, labels: Tensor): Tensor {
  const rows: number[] = [];
  labels.data.forEach((y, i) => { if (y !== -100) rows.push(i); });
  if (rows.length === 0 || rows.length === labels.size) return F.crossEntropy(logits, labels, { ignoreIndex: -100 });
  const index = new Tensor(Int32Array.from(rows), [rows.length], 'int32');
  return F.crossEntropy(decoder.forward(hidden.indexSelect(0, index)), labels.indexSelect(0, index)); // (M, V) against (M)
}
