// Named presets, from toy to base size: they only fill a config (as minGPT's model_type).
import type { GPTConfig } from './gpt.js';
import { defaultGPTConfig } from './gpt.js';
import type { BertConfig } from './bert.js';
import { defaultBertConfig } from './bert.js';

export type PresetName = keyof typeof gptPresets | keyof typeof bertPresets;

const gpt = (c: Partial<GPTConfig>): GPTConfig => ({ ...defaultGPTConfig, ...c });
const bert = (c: Partial<BertConfig>): BertConfig => ({ ...defaultBertConfig, ...c });

export const gptPresets = {
  /** For tests: a few thousand parameters per layer. */
  'gpt-nano': gpt({ vocabSize: 65, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, tieWeights: false, gelu: 'tanh' }),
  /** The char-GPT bench workload W5's shape: a character model that trains in minutes on 2 cores (818,241 parameters with vocab 65). */
  'gpt-baby': gpt({ vocabSize: 65, nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, dropout: 0, tieWeights: false, gelu: 'none' }),
  'gpt-mini': gpt({ vocabSize: 65, nPositions: 256, nEmbd: 192, nLayer: 6, nHead: 6, dropout: 0.1, tieWeights: false }),
  /** Exactly GPT-2 small: 124,439,808 parameters with tied embeddings. */
  'gpt2-small': gpt({}),
};

export const bertPresets = {
  'bert-tiny': bert({ hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 512 }),
  'bert-mini': bert({ hiddenSize: 256, numHiddenLayers: 4, numAttentionHeads: 4, intermediateSize: 1024 }),
  /** BertModel at this size has 109,482,240 parameters. */
  'bert-base': bert({}),
};

export function isGptPreset(name: string): name is keyof typeof gptPresets {
  return name in gptPresets;
}

export function isBertPreset(name: string): name is keyof typeof bertPresets {
  return name in bertPresets;
}

/** The config of a named preset (a fresh copy). */
// Typed by the preset names, so that a typo fails to type-check (a string from elsewhere:
// narrow it with isGptPreset / isBertPreset first); the runtime check stays for JavaScript callers.
export function preset(name: keyof typeof gptPresets): GPTConfig;
export function preset(name: keyof typeof bertPresets): BertConfig;
export function preset(name: PresetName): GPTConfig | BertConfig;
export function preset(name: string): GPTConfig | BertConfig {
  if (isGptPreset(name)) return { ...gptPresets[name] };
  if (isBertPreset(name)) return { ...bertPresets[name] };
  const known = [...Object.keys(gptPresets), ...Object.keys(bertPresets)].join(', ');
  throw new Error(`preset: unknown preset '${name}' (known: ${known})`);
}
