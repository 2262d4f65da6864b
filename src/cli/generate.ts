// `tsgrad generate`: continue a prompt with a trained GPT (temperature, top-k or greedy, seeded);
// for an MLM checkpoint, fill each [MASK] of the prompt with its most likely tokens.
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/engine.js';
import { GPT, BertForMaskedLM } from '../models/index.js';
import type { WordPieceTokenizer, Tokenizer } from '../data/tokenizers/index.js';
import { loadAnyCheckpoint } from '../deploy/quantized.js';
import { verifyCheckpoint } from '../train/checkpoint.js';
import { nonNegative, nonNegativeInt, positiveInt } from './options.js';
import { sampleText } from './tasks/lm.js';

export interface GenerateFlags {
  checkpoint: string;
  prompt: string;
  maxNewTokens?: string;
  temperature?: string;
  topK?: string;
  greedy?: boolean;
  seed?: string;
}

export async function generateCommand(f: GenerateFlags): Promise<void> {
  const maxNew = f.maxNewTokens !== undefined ? nonNegativeInt('max-new-tokens', f.maxNewTokens) : 200;
  const temperature = f.temperature !== undefined ? nonNegative('temperature', f.temperature) : 0.8;
  if (!(temperature > 0)) throw new Error('--temperature must be above 0 (use --greedy for the most likely token)');
  const topK = f.topK !== undefined ? (f.topK === '0' ? null : positiveInt('top-k', f.topK)) : 200;
  const seed = f.seed !== undefined ? nonNegativeInt('seed', f.seed) : 1337;
  verifyCheckpoint(f.checkpoint); // manifest.json checksums, float or int8
  const ck = await loadAnyCheckpoint(f.checkpoint); // float or int8 (tsgrad quantize) checkpoints
  const tokenizer = ck.tokenizer!;
  if (ck.model instanceof BertForMaskedLM) return fillMask(ck.model, tokenizer as WordPieceTokenizer, f.prompt);
  if (!(ck.model instanceof GPT)) throw new Error(`generate: ${ck.dir} holds a ${ck.task} model (${ck.model.constructor.name}); generate needs a language model (lm) or a masked one (mlm)`);
  const ids = encodePrompt(tokenizer, f.prompt);
  process.stdout.write(`${sampleText(ck.model, tokenizer, ids, maxNew, seed, { temperature, topK, greedy: Boolean(f.greedy) })}\n`);
}

function encodePrompt(tokenizer: Tokenizer, prompt: string): number[] {
  let ids: number[];
  try {
    ids = tokenizer.encode(prompt);
  } catch (e) {
    throw new Error(`--prompt: ${(e as Error).message}`);
  }
  if (ids.length === 0) throw new Error('--prompt is empty; give at least one token to start from');
  return ids;
}

/** Each [MASK] of the prompt with its 5 most likely tokens and their probabilities. */
function fillMask(model: BertForMaskedLM, tok: WordPieceTokenizer, prompt: string): void {
  const { ids } = tok.encodePair(prompt, undefined, { maxLen: model.config.maxPositionEmbeddings });
  const positions = ids.flatMap((id, i) => (id === tok.maskId ? [i] : []));
  if (positions.length === 0) throw new Error('--prompt: an MLM checkpoint fills [MASK] tokens; put at least one [MASK] in the prompt');
  const logits = noGrad(() => model.forward(new Tensor(Int32Array.from(ids), [1, ids.length], 'int32')).logits);
  const V = logits.shape[2];
  for (const p of positions) {
    const row = Array.from(logits.data.subarray(p * V, (p + 1) * V)).slice(0, tok.vocabSize);
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const total = exp.reduce((a, b) => a + b, 0);
    const top = exp.map((e, id) => [id, e / total] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(`[MASK] at ${p}: ${top.map(([id, pr]) => `${tok.decode([id])} (${pr.toFixed(3)})`).join(', ')}`);
  }
}
