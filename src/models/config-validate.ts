// Model configs read from files (config.json, a quantized folder's quantization_config) are
// checked before any model is built, in two steps:
//  1. every field has its type and range (`layer_norm_epsilon: "abc"` would give NaN logits, the
//     string "false" would count as true, `n_embd: 1e308` would reach a typed-array constructor);
//  2. the sizes agree with the weights file's header (names, shapes, total elements), so a config
//     cannot make tsgrad allocate more than the file holds: `n_layer: 1e9` next to a two-layer
//     file is refused in milliseconds, not after growing past a gigabyte.
// Each error names the file, the field, what it must be and the value it has.
import type { GPTConfig } from './gpt.js';
import type { BertConfig } from './bert.js';
import { showValue } from '../io/show.js';

type Json = Record<string, unknown>;

/** Largest sizes a config may state (the weights file bounds them far tighter; these keep arithmetic exact). */
export const CONFIG_LIMITS = { vocab: 2 ** 24, positions: 2 ** 20, width: 2 ** 16, layers: 2 ** 10, labels: 2 ** 12, typeVocab: 2 ** 10 } as const;

/** Typed reads of one JSON object's fields; `where` is the file (and path inside it) that errors name. */
export class ConfigFields {
  constructor(readonly json: Json, readonly where: string) {}

  private bad(key: string, what: string): Error {
    return new Error(`${this.where}: field '${key}' must be ${what} (got ${showValue(this.json[key])})`);
  }

  private has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  /** An integer in [min, max]; absent or null gives `fallback` (undefined: the field is required). */
  int(key: string, min: number, max: number, fallback?: number): number {
    if (!this.has(key) && fallback !== undefined) return fallback;
    const v = this.json[key];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw this.bad(key, `an integer in [${min}, ${max}]`);
    return v as number;
  }

  /** A finite number in [min, max] (in (min, max] with aboveMin); absent or null gives `fallback`. */
  number(key: string, min: number, max: number, fallback: number, { aboveMin = false } = {}): number {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    const ok = typeof v === 'number' && Number.isFinite(v) && (aboveMin ? v > min : v >= min) && v <= max;
    if (!ok) throw this.bad(key, `a number in ${aboveMin ? '(' : '['}${min}, ${max}]`);
    return v as number;
  }

  /** A JSON boolean (the string "false" is not one); absent or null gives `fallback`. */
  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    if (typeof this.json[key] !== 'boolean') throw this.bad(key, 'true or false');
    return this.json[key] as boolean;
  }

  /** One of `values`; absent or null gives `fallback`. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    if (!this.has(key)) return fallback;
    if (!values.includes(this.json[key] as T)) throw this.bad(key, `one of ${values.map((v) => `'${v}'`).join(', ')}`);
    return this.json[key] as T;
  }
}

const dropout = (f: ConfigFields, key: string, fallback: number) => f.number(key, 0, 1, fallback);
const epsilon = (f: ConfigFields, key: string, fallback: number) => f.number(key, 0, 1, fallback, { aboveMin: true });

function heads(f: ConfigFields, key: string, width: number, widthKey: string): number {
  const n = f.int(key, 1, width);
  if (width % n !== 0) throw new Error(`${f.where}: field '${key}' (${n}) must divide '${widthKey}' (${width})`);
  return n;
}

/** The numeric and boolean fields of a GPT config, under Hugging Face's names (config.json) or tsgrad's (quantization_config). */
export function readGptSizes(f: ConfigFields, names: 'hf' | 'tsgrad'): Omit<GPTConfig, 'gelu'> {
  const n = names === 'hf'
    ? { vocab: 'vocab_size', positions: 'n_positions', embd: 'n_embd', layer: 'n_layer', head: 'n_head', dropout: 'resid_pdrop', bias: 'tsgrad_bias', tie: 'tie_word_embeddings', eps: 'layer_norm_epsilon' }
    : { vocab: 'vocabSize', positions: 'nPositions', embd: 'nEmbd', layer: 'nLayer', head: 'nHead', dropout: 'dropout', bias: 'bias', tie: 'tieWeights', eps: 'layerNormEpsilon' };
  const nEmbd = f.int(n.embd, 1, CONFIG_LIMITS.width);
  return {
    vocabSize: f.int(n.vocab, 1, CONFIG_LIMITS.vocab), nPositions: f.int(n.positions, 1, CONFIG_LIMITS.positions), nEmbd,
    nLayer: f.int(n.layer, 1, CONFIG_LIMITS.layers), nHead: heads(f, n.head, nEmbd, n.embd),
    dropout: dropout(f, n.dropout, 0.1), bias: f.bool(n.bias, true), tieWeights: f.bool(n.tie, true), layerNormEpsilon: epsilon(f, n.eps, 1e-5),
  };
}

/** The numeric fields of a BERT config, under Hugging Face's names or tsgrad's. */
export function readBertSizes(f: ConfigFields, names: 'hf' | 'tsgrad'): Omit<BertConfig, 'hiddenAct'> {
  const hf = names === 'hf';
  const key = (camel: string, snake: string) => (hf ? snake : camel);
  const hiddenSize = f.int(key('hiddenSize', 'hidden_size'), 1, CONFIG_LIMITS.width);
  const vocabSize = f.int(key('vocabSize', 'vocab_size'), 1, CONFIG_LIMITS.vocab);
  const classifierKey = key('classifierDropout', 'classifier_dropout');
  return {
    vocabSize, hiddenSize,
    numHiddenLayers: f.int(key('numHiddenLayers', 'num_hidden_layers'), 1, CONFIG_LIMITS.layers),
    numAttentionHeads: heads(f, key('numAttentionHeads', 'num_attention_heads'), hiddenSize, key('hiddenSize', 'hidden_size')),
    intermediateSize: f.int(key('intermediateSize', 'intermediate_size'), 1, 4 * CONFIG_LIMITS.width),
    hiddenDropoutProb: dropout(f, key('hiddenDropoutProb', 'hidden_dropout_prob'), 0.1),
    attentionProbsDropoutProb: dropout(f, key('attentionProbsDropoutProb', 'attention_probs_dropout_prob'), 0.1),
    maxPositionEmbeddings: f.int(key('maxPositionEmbeddings', 'max_position_embeddings'), 1, CONFIG_LIMITS.positions, 512),
    typeVocabSize: f.int(key('typeVocabSize', 'type_vocab_size'), 1, CONFIG_LIMITS.typeVocab, 2),
    layerNormEps: epsilon(f, key('layerNormEps', 'layer_norm_eps'), 1e-12),
    initializerRange: f.number(key('initializerRange', 'initializer_range'), 0, 1, 0.02),
    padTokenId: f.int(key('padTokenId', 'pad_token_id'), 0, vocabSize - 1, 0),
    classifierDropout: f.json[classifierKey] == null ? null : dropout(f, classifierKey, 0.1),
  };
}

// ---------------------------------------------------------------- against the weights file

/** What a weights file's header says, read before any tensor (io.loadHeader). */
export interface WeightsHeader {
  tensors: { name: string; shape: number[]; size: number }[];
}

/** The model a config describes, by its sizes; `layerKey` finds a tensor's layer index in a file key. */
export type ModelSizes =
  | { kind: 'gpt'; config: GPTConfig; names: 'hf' | 'tsgrad' }
  | { kind: 'bert'; config: BertConfig; names: 'hf' | 'tsgrad'; numLabels: number | null }
  | { kind: 'mlp'; sizes: number[] }
  | { kind: 'lenet'; numClasses: number };

/** Elements the model holds at the least (weights only, no bias, no optional head). */
function minimumElements(m: ModelSizes): number {
  switch (m.kind) {
    case 'gpt': {
      const c = m.config;
      return c.vocabSize * c.nEmbd + c.nPositions * c.nEmbd + c.nLayer * 12 * c.nEmbd * c.nEmbd;
    }
    case 'bert': {
      const c = m.config, h = c.hiddenSize;
      return (c.vocabSize + c.maxPositionEmbeddings + c.typeVocabSize) * h + c.numHiddenLayers * (4 * h * h + 2 * h * c.intermediateSize);
    }
    case 'mlp': return m.sizes.slice(1).reduce((sum, out, i) => sum + m.sizes[i] * out, 0);
    case 'lenet': return 6 * 25 + 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * m.numClasses;
  }
}

/**
 * Refuse a config whose sizes the weights do not back: the embedding tables' shapes, more layers
 * than the file holds, more elements than it holds. Runs on the header alone, before the model
 * exists. A missing tensor or an extra layer is left to the loader, which lists every bad key.
 */
export function checkConfigAgainstWeights(m: ModelSizes, header: WeightsHeader, configWhere: string, weightsWhere: string): void {
  const find = (suffix: RegExp) => header.tensors.find((t) => suffix.test(t.name));
  const mismatch = (what: string, fields: string, found: string) => new Error(`${configWhere}: ${fields} disagree${what ? ` with ${what}` : ''} in ${weightsWhere}: ${found}`);
  const expectShape = (suffix: RegExp, want: number[], fields: string) => {
    const t = find(suffix);
    if (t && (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))) throw mismatch(t.name, fields, `shape [${t.shape.join(', ')}] in the file, [${want.join(', ')}] from the config`);
  };
  const expectLayers = (pattern: RegExp, count: number, field: string) => {
    let layers = 0;
    for (const t of header.tensors) {
      const match = pattern.exec(t.name);
      if (match) layers = Math.max(layers, Number(match[1]) + 1);
    }
    if (layers < count) throw new Error(`${configWhere}: field '${field}' is ${count}, but ${weightsWhere} holds ${layers} layer${layers === 1 ? '' : 's'}`);
  };
  if (m.kind === 'gpt') {
    const c = m.config, hf = m.names === 'hf';
    const [v, p, e, l] = hf ? ['vocab_size', 'n_positions', 'n_embd', 'n_layer'] : ['vocabSize', 'nPositions', 'nEmbd', 'nLayer'];
    expectShape(/(^|\.)wte\.weight$/, [c.vocabSize, c.nEmbd], `'${v}' ${c.vocabSize} and '${e}' ${c.nEmbd}`);
    expectShape(/(^|\.)wpe\.weight$/, [c.nPositions, c.nEmbd], `'${p}' ${c.nPositions} and '${e}' ${c.nEmbd}`);
    expectLayers(/(?:^|\.)h\.(\d+)\./, c.nLayer, l);
  } else if (m.kind === 'bert') {
    const c = m.config, hf = m.names === 'hf';
    const k = (camel: string, snake: string) => (hf ? snake : camel);
    const h = `'${k('hiddenSize', 'hidden_size')}' ${c.hiddenSize}`;
    expectShape(/(^|\.)embeddings\.word_embeddings\.weight$/, [c.vocabSize, c.hiddenSize], `'${k('vocabSize', 'vocab_size')}' ${c.vocabSize} and ${h}`);
    expectShape(/(^|\.)embeddings\.position_embeddings\.weight$/, [c.maxPositionEmbeddings, c.hiddenSize], `'${k('maxPositionEmbeddings', 'max_position_embeddings')}' ${c.maxPositionEmbeddings} and ${h}`);
    expectShape(/(^|\.)embeddings\.token_type_embeddings\.weight$/, [c.typeVocabSize, c.hiddenSize], `'${k('typeVocabSize', 'type_vocab_size')}' ${c.typeVocabSize} and ${h}`);
    expectLayers(/(?:^|\.)encoder\.layer\.(\d+)\./, c.numHiddenLayers, k('numHiddenLayers', 'num_hidden_layers'));
    expectShape(/(^|\.)encoder\.layer\.0\.intermediate\.dense\.weight$/, [c.intermediateSize, c.hiddenSize], `'${k('intermediateSize', 'intermediate_size')}' ${c.intermediateSize} and ${h}`);
    const classifier = find(/(^|\.)classifier\.weight$/);
    if (classifier && m.numLabels !== null && classifier.shape[0] !== m.numLabels) throw mismatch(classifier.name, `${m.numLabels} labels`, `shape [${classifier.shape.join(', ')}] in the file`);
  }
  // twice, not once: a file missing a tensor or two is the loader's to report, key by key; the bound
  // only has to keep what is allocated proportional to what the file holds
  const held = header.tensors.reduce((sum, t) => sum + t.size, 0);
  const needed = minimumElements(m);
  if (needed > 2 * held) throw new Error(`${configWhere} describes a model of at least ${needed} weights, more than twice the ${held} that ${weightsWhere} holds`);
}

// ---------------------------------------------------------------- against the tokenizer

/**
 * Refuse a tokenizer that can write ids the model's embedding has no row for (a model vocabulary
 * padded past the tokenizer's is fine). Without this, a mismatched tokenizer.json is found only by
 * the first prompt that uses a new token: `embedding: index 55 is out of range`, an HTTP 500.
 */
export function checkTokenizerFits(model: object, tokenizer: { vocabSize: number } | null, dir: string): void {
  const config = (model as { config?: { vocabSize?: unknown } }).config;
  if (!tokenizer || typeof config?.vocabSize !== 'number') return; // image models have neither
  const rows = config.vocabSize, ids = tokenizer.vocabSize;
  if (ids > rows) {
    throw new Error(`checkpoint: ${dir}: tokenizer.json has ${ids} tokens but the model's vocabulary (config.json vocab_size) has ${rows}: ids ${rows}–${ids - 1} would be out of range of its embedding; pair the model with the tokenizer it was trained with`);
  }
}
