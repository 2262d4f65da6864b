// The model work behind the server's endpoints, synchronous and free of HTTP: seeded text
// generation with a GPT, and label probabilities from a BERT classifier.
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/index.js'; // the index: it also installs the Tensor methods (softmax)
import { padBatch } from '../data/loader.js';
import type { Tokenizer, WordPieceTokenizer } from '../data/tokenizers/index.js';
import type { GPT, BertForSequenceClassification } from '../models/index.js';
import { withSeed } from '../train/trainer.js';

export interface GenerateParams {
  prompt: string;
  maxNewTokens: number;
  /** > 0 samples from softmax(logits / temperature); 0 takes the most likely token. */
  temperature: number;
  /** Sample among the k most likely tokens; null: all. */
  topK: number | null;
  seed: number;
}

export interface Generated {
  completion: string;
  promptTokens: number;
  generatedTokens: number;
}

/** The prompt's ids, or an error that says why there are none (a character the tokenizer never saw, an empty prompt). */
export function encodePrompt(tokenizer: Tokenizer, prompt: string): number[] {
  let ids: number[];
  try {
    ids = tokenizer.encode(prompt);
  } catch (e) {
    throw new RangeError(`prompt: ${(e as Error).message}`);
  }
  if (ids.length === 0) throw new RangeError('prompt: encodes to no tokens; give at least one');
  return ids;
}

/**
 * Continue the prompt. The draw uses tsgrad's random stream seeded with `seed` and puts the
 * stream back afterwards, so the same request gives the same text whatever ran before it.
 */
export function generate(model: GPT, tokenizer: Tokenizer, p: GenerateParams): Generated {
  const ids = encodePrompt(tokenizer, p.prompt);
  const idx = new Tensor(Int32Array.from(ids), [1, ids.length], 'int32');
  const greedy = p.temperature === 0;
  const out = withSeed(p.seed, () => model.generate(idx, p.maxNewTokens, { temperature: greedy ? 1 : p.temperature, topK: p.topK, greedy }));
  // a model vocabulary padded past the tokenizer's has ids it cannot write; a trained model does not pick them
  const fresh = Array.from(out.data.subarray(ids.length)).filter((id) => id < tokenizer.vocabSize);
  return { completion: tokenizer.decode(fresh), promptTokens: ids.length, generatedTokens: p.maxNewTokens };
}

export interface Classified {
  label: string;
  /** The probability of `label`. */
  score: number;
  /** Every label's probability (softmax of the logits). */
  probabilities: Record<string, number>;
}

/** Label probabilities for each text: [CLS] text [SEP] cut to maxLen tokens, the batch padded to its longest. */
export function classify(model: BertForSequenceClassification, tokenizer: WordPieceTokenizer, labelNames: readonly string[], texts: readonly string[], maxLen: number): Classified[] {
  const seqs = texts.map((t) => tokenizer.encodePair(t, undefined, { maxLen }).ids);
  const { inputIds, attentionMask } = padBatch(seqs, maxLen, tokenizer.padId, { padToLongest: true });
  const probs = noGrad(() => model.forward(inputIds, { attentionMask }).logits.softmax(-1)); // (B, numLabels)
  const L = labelNames.length;
  return texts.map((_, b) => {
    const row = Array.from(probs.data.subarray(b * L, (b + 1) * L));
    let best = 0;
    for (let j = 1; j < L; j++) if (row[j] > row[best]) best = j;
    return { label: labelNames[best], score: row[best], probabilities: Object.fromEntries(labelNames.map((name, j) => [name, row[j]])) };
  });
}
