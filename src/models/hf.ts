// Hugging Face model directories: `config.json` (HF's snake_case fields, `architectures`,
// `model_type`) and `model.safetensors` (HF's parameter names and layouts). tsgrad's modules
// already carry HF's names, so the mapping is short and all of it is here:
//  - GPT-2's Conv1D layers (c_attn, c_proj, c_fc) store weight [in, out]: transposed both ways;
//  - tied weights are stored once (transformer.wte.weight, bert.embeddings.word_embeddings.weight);
//  - hub files may lack the `transformer.` prefix (gpt2) or the `bert.` prefix (BertModel files),
//    and name LayerNorm parameters gamma/beta (old BERT checkpoints);
//  - the keys in IGNORED are buffers or heads tsgrad does not build, skipped on load.
import { promises as fsp, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { fmt, shapesEqual } from '../tensor/shape.js';
import { arrayFor } from '../tensor/dtype.js';
import * as io from '../io/index.js';
import { GPT, type GPTConfig } from './gpt.js';
import { BertModel, BertForMaskedLM, BertForSequenceClassification, type BertConfig } from './bert.js';
import { ConfigFields, CONFIG_LIMITS, readGptSizes, readBertSizes, checkConfigAgainstWeights } from './config-validate.js';
import { showValue } from '../io/show.js';

export type Architecture = 'GPT2LMHeadModel' | 'BertModel' | 'BertForMaskedLM' | 'BertForSequenceClassification';
export type PretrainedModel = GPT | BertModel | BertForMaskedLM | BertForSequenceClassification;
export const ARCHITECTURES: readonly Architecture[] = ['GPT2LMHeadModel', 'BertModel', 'BertForMaskedLM', 'BertForSequenceClassification'];

/** File keys skipped on load: attention-mask buffers, position ids, the next-sentence head, tied copies. */
const IGNORED: RegExp[] = [
  /(^|\.)attn\.(masked_)?bias$/, // GPT-2's causal-mask buffers
  /(^|\.)embeddings\.position_ids$/, // BERT's arange buffer
  /^cls\.seq_relationship\./, // BertForPreTraining's next-sentence head
  /^cls\.predictions\.decoder\.(weight|bias)$/, // tied to the word embedding and cls.predictions.bias
];
const CONV1D = /\.(c_attn|c_proj|c_fc)\.weight$/;

export interface FromPretrainedOptions {
  /** The class to build (default: the one config.json declares). Another BERT class than the file's keeps the body and initialises the missing head. */
  architecture?: Architecture;
  /** Classes of a new BertForSequenceClassification head (default: the file's, else 2). */
  numLabels?: number;
  /** Where the note about freshly initialised weights goes (default console.warn). */
  warn?: (message: string) => void;
}

type Json = Record<string, any>;

export function architectureOf(model: PretrainedModel): Architecture {
  if (model instanceof GPT) return 'GPT2LMHeadModel';
  if (model instanceof BertModel) return 'BertModel';
  if (model instanceof BertForMaskedLM) return 'BertForMaskedLM';
  if (model instanceof BertForSequenceClassification) return 'BertForSequenceClassification';
  throw new Error(`savePretrained: ${(model as object)?.constructor?.name ?? typeof model} has no Hugging Face counterpart (${ARCHITECTURES.join(', ')})`);
}

const familyOf = (arch: string, modelType?: string): 'gpt2' | 'bert' | null =>
  arch.startsWith('GPT2') || modelType === 'gpt2' ? 'gpt2' : arch.startsWith('Bert') || modelType === 'bert' ? 'bert' : null;

// ---------------------------------------------------------------- configs

function gptConfigToHf(c: GPTConfig): Json {
  const json: Json = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2',
    vocab_size: c.vocabSize, n_positions: c.nPositions, n_ctx: c.nPositions, n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead,
    n_inner: null, activation_function: c.gelu === 'tanh' ? 'gelu_new' : 'gelu',
    resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout, layer_norm_epsilon: c.layerNormEpsilon,
    initializer_range: 0.02, scale_attn_weights: true, tie_word_embeddings: c.tieWeights,
    // GPT-2's <|endoftext|>; other vocabularies have no such token (HF's default 50256 would be out of range)
    bos_token_id: c.vocabSize === 50257 ? 50256 : null, eos_token_id: c.vocabSize === 50257 ? 50256 : null,
  };
  // tsgrad-only shapes that GPT2LMHeadModel cannot hold (the char-GPT bench workload W5's biased untied head, bias-free layers)
  if (c.bias && !c.tieWeights) json.tsgrad_lm_head_bias = true;
  if (!c.bias) json.tsgrad_bias = false;
  return json;
}

function gptConfigFromHf(j: Json, where: string): GPTConfig {
  const f = new ConfigFields(j, where);
  const act = f.oneOf('activation_function', ['gelu_new', 'gelu_pytorch_tanh', 'gelu'], 'gelu_new');
  const sizes = readGptSizes(f, 'hf');
  if (j.n_inner != null && j.n_inner !== 4 * sizes.nEmbd) throw new Error(`${where}: field 'n_inner' ${showValue(j.n_inner)} is not supported (tsgrad's GPT uses 4·n_embd = ${4 * sizes.nEmbd})`);
  if (!f.bool('scale_attn_weights', true) || f.bool('scale_attn_by_inverse_layer_idx', false)) throw new Error(`${where}: only GPT-2's 1/√d attention scaling is supported (scale_attn_weights true, scale_attn_by_inverse_layer_idx false)`);
  f.bool('tsgrad_lm_head_bias', false);
  return { ...sizes, gelu: act === 'gelu' ? 'none' : 'tanh' };
}

function bertConfigToHf(c: BertConfig, arch: Architecture, numLabels: number | null): Json {
  const json: Json = {
    architectures: [arch], model_type: 'bert',
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads, intermediate_size: c.intermediateSize, hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropoutProb, attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    max_position_embeddings: c.maxPositionEmbeddings, type_vocab_size: c.typeVocabSize,
    initializer_range: c.initializerRange, layer_norm_eps: c.layerNormEps, pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute', classifier_dropout: c.classifierDropout ?? null,
  };
  if (numLabels !== null) {
    // Hugging Face derives num_labels from id2label
    json.id2label = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [String(i), `LABEL_${i}`]));
    json.label2id = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [`LABEL_${i}`, i]));
  }
  return json;
}

function bertConfigFromHf(j: Json, where: string): BertConfig {
  const f = new ConfigFields(j, where);
  const act = f.oneOf('hidden_act', ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'], 'gelu');
  f.oneOf('position_embedding_type', ['absolute'], 'absolute');
  return { ...readBertSizes(f, 'hf'), hiddenAct: act === 'gelu_pytorch_tanh' ? 'gelu_new' : act };
}

/** num_labels, else the size of id2label, else null; bounded, since the head is allocated from it. */
function labelsOf(j: Json, where: string): number | null {
  const f = new ConfigFields(j, where);
  if (j.num_labels != null) return f.int('num_labels', 1, CONFIG_LIMITS.labels);
  if (j.id2label == null) return null;
  if (typeof j.id2label !== 'object' || Array.isArray(j.id2label)) throw new Error(`${where}: field 'id2label' must be an object of id → label (got ${showValue(j.id2label)})`);
  const n = Object.keys(j.id2label).length;
  if (n < 1 || n > CONFIG_LIMITS.labels) throw new Error(`${where}: field 'id2label' must hold 1 to ${CONFIG_LIMITS.labels} labels (got ${n})`);
  return n;
}

// ---------------------------------------------------------------- names and layouts

/** The tensors a Hugging Face file holds for this model, by HF name, in HF layout; Conv1D weights are marked. */
function hfEntries(model: PretrainedModel): Map<string, { target: Tensor; transpose: boolean }> {
  const out = new Map<string, { target: Tensor; transpose: boolean }>();
  const tiedGpt = model instanceof GPT && model.config.tieWeights;
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (tiedGpt && name === 'lm_head.weight') continue; // stored once, as transformer.wte.weight
    if (model instanceof BertForMaskedLM && name.startsWith('cls.predictions.decoder.')) continue; // tied
    out.set(name, { target: t, transpose: model instanceof GPT && CONV1D.test(name) });
  }
  return out;
}

function transpose2d(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const out = arrayFor(t.dtype, t.size);
  const src = t.data;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j];
  return new Tensor(out, [cols, rows], t.dtype);
}

/** A file key → the model's name for it, or null to skip it. */
function canonicalName(key: string, target: Architecture, fileKeys: Set<string>): string | null {
  if (key === 'cls.predictions.decoder.bias' && !fileKeys.has('cls.predictions.bias')) return 'cls.predictions.bias'; // only the tied copy was stored
  if (IGNORED.some((re) => re.test(key))) return null;
  if (target === 'GPT2LMHeadModel') return key.startsWith('transformer.') || key.startsWith('lm_head.') ? key : `transformer.${key}`;
  let name = key.replace(/(LayerNorm)\.gamma$/, '$1.weight').replace(/(LayerNorm)\.beta$/, '$1.bias'); // TF-era names
  if (target === 'BertModel') return name.startsWith('bert.') ? name.slice(5) : name;
  if (!/^(bert|cls|classifier)\./.test(name)) name = `bert.${name}`; // a BertModel file's names
  return name;
}

// ---------------------------------------------------------------- save

/** Write `config.json` and `model.safetensors` into dir (created if needed), as Hugging Face's save_pretrained. */
export function savePretrained(model: PretrainedModel, dir: string): void {
  const arch = architectureOf(model);
  const config = model instanceof GPT
    ? gptConfigToHf(model.config)
    : bertConfigToHf(model.config, arch, model instanceof BertForSequenceClassification ? model.numLabels : null);
  const tensors: Record<string, Tensor> = {};
  let dtype = 'float32';
  for (const [name, { target, transpose }] of hfEntries(model)) {
    tensors[name] = transpose ? transpose2d(target) : target;
    dtype = target.dtype;
  }
  config.torch_dtype = dtype;
  mkdirSync(dir, { recursive: true });
  io.save(join(dir, 'model.safetensors'), tensors, { format: 'pt' }); // transformers checks format = 'pt'
  io.writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

// ---------------------------------------------------------------- load

async function readConfig(dir: string): Promise<Json> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`fromPretrained: cannot read ${path} (${(e as Error).message})`, { cause: e });
  }
  try {
    const json = JSON.parse(text);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json;
  } catch (e) {
    throw new Error(`fromPretrained: ${path} is not a valid config (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Build the model a Hugging Face directory describes and load its weights; the model is returned
 * in eval mode. Every missing, unexpected or misshapen key is reported in one error.
 */
export async function fromPretrained(dir: string, { architecture, numLabels, warn = console.warn }: FromPretrainedOptions = {}): Promise<PretrainedModel> {
  const json = await readConfig(dir);
  const configPath = join(dir, 'config.json');
  if (json.architectures != null && !(Array.isArray(json.architectures) && typeof json.architectures[0] === 'string')) throw new Error(`fromPretrained: ${configPath}: field 'architectures' must be a list of class names (got ${showValue(json.architectures)})`);
  const declared: string | undefined = json.architectures?.[0];
  const target = architecture ?? declared;
  if (!target) throw new Error(`fromPretrained: ${configPath} names no architectures; pass { architecture } (one of ${ARCHITECTURES.join(', ')})`);
  if (!ARCHITECTURES.includes(target as Architecture)) throw new Error(`fromPretrained: ${configPath} declares ${target}, which tsgrad does not build (${ARCHITECTURES.join(', ')})`);
  const arch = target as Architecture;
  const declaredFamily = declared === undefined ? null : familyOf(declared);
  const typeFamily = json.model_type === undefined ? null : familyOf('', json.model_type);
  if (declaredFamily && typeFamily && declaredFamily !== typeFamily) throw new Error(`fromPretrained: ${configPath}: field 'architectures' says ${declared} (a ${declaredFamily} model) but field 'model_type' says ${showValue(json.model_type)}`);
  const fileFamily = declaredFamily ?? typeFamily;
  if (fileFamily !== familyOf(arch) && (declared !== undefined || json.model_type !== undefined)) throw new Error(`fromPretrained: ${configPath} declares ${declared ?? `model_type '${json.model_type}'`}, not ${arch}`);
  const sameHead = declared === undefined || declared === arch;

  if (arch === 'BertForMaskedLM' && !new ConfigFields(json, configPath).bool('tie_word_embeddings', true)) throw new Error(`fromPretrained: ${configPath} has an untied MLM decoder (tie_word_embeddings: false); tsgrad's BertForMaskedLM ties it to the word embeddings`);
  const fileLabels = labelsOf(json, configPath);
  if (arch === 'BertForSequenceClassification' && declared === arch && numLabels !== undefined && fileLabels !== null && numLabels !== fileLabels) {
    throw new Error(`fromPretrained: ${configPath} has ${fileLabels} labels, not the ${numLabels} asked for`);
  }
  const weightsPath = join(dir, 'model.safetensors');
  const gptConfig = arch === 'GPT2LMHeadModel' ? gptConfigFromHf(json, configPath) : null;
  const bertConfig = gptConfig ? null : bertConfigFromHf(json, configPath);
  const labels = (declared === arch ? fileLabels : null) ?? numLabels ?? fileLabels ?? 2;
  // GPT-2 stores 12 tensors a layer (+2 mask buffers), BERT 16: twice that is room for any hub extra
  const read = { maxTensors: 32 * (gptConfig ? gptConfig.nLayer : bertConfig!.numHiddenLayers) + 64 };
  // the sizes must be backed by the weights before anything is allocated from them
  checkConfigAgainstWeights(gptConfig ? { kind: 'gpt', config: gptConfig, names: 'hf' }
    : { kind: 'bert', config: bertConfig!, names: 'hf', numLabels: arch === 'BertForSequenceClassification' && sameHead ? labels : null }, io.loadHeader(weightsPath, read), configPath, weightsPath);
  const model: PretrainedModel = gptConfig ? new GPT(gptConfig)
    : arch === 'BertModel' ? new BertModel(bertConfig!)
    : arch === 'BertForMaskedLM' ? new BertForMaskedLM(bertConfig!)
    : new BertForSequenceClassification(bertConfig!, labels);

  const file = io.load(weightsPath, read);
  const expected = hfEntries(model);
  // Keys that may be absent and keep their init: GPT-2's untied head has no bias (zero is the same
  // model); a head or pooler that the file's architecture lacks (fine-tuning from another BERT class).
  const optional = (name: string) =>
    (name === 'lm_head.bias' && json.tsgrad_lm_head_bias === undefined) ||
    (!sameHead && /^(bert\.)?pooler\.|^cls\.|^classifier\./.test(name));
  const skipped = (name: string) => !expected.has(name) && (
    (arch === 'BertForMaskedLM' && name.startsWith('bert.pooler.')) || // hub MLM files hold BertForPreTraining's pooler
    (!sameHead && /^(cls|classifier)\./.test(name)) ||
    (model instanceof GPT && model.config.tieWeights && name === 'lm_head.weight'));

  const fileKeys = new Set(Object.keys(file));
  const found = new Map<string, Tensor>();
  const unexpected: string[] = [], mismatched: string[] = [], misshapen = new Set<string>();
  for (const [key, t] of Object.entries(file)) {
    const name = canonicalName(key, arch, fileKeys);
    if (name === null || skipped(name)) continue;
    const entry = expected.get(name);
    if (!entry) { unexpected.push(key); continue; }
    const want = entry.transpose ? [...entry.target.shape].reverse() : entry.target.shape;
    if (shapesEqual(t.shape, want)) found.set(name, t);
    else {
      mismatched.push(`${key}: shape ${fmt(t.shape)} in the file, ${fmt(want)} expected`);
      misshapen.add(name);
    }
  }
  const missing = [...expected.keys()].filter((name) => !found.has(name) && !optional(name) && !misshapen.has(name));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
  if (mismatched.length) problems.push(`size mismatch: ${mismatched.join('; ')}`);
  if (problems.length) throw new Error(`fromPretrained: ${weightsPath} does not fit ${arch}: ${problems.join('. ')}`);

  const fresh: string[] = [];
  for (const [name, { target, transpose }] of expected) {
    const t = found.get(name);
    if (!t) {
      if (name === 'lm_head.bias') target.data.fill(0);
      else fresh.push(name);
      continue;
    }
    target.data.set((transpose ? transpose2d(t) : t).data); // in place: tied parameters follow
  }
  if (fresh.length) warn(`fromPretrained: ${dir} holds a ${declared} checkpoint; these weights of ${arch} are newly initialised and need training: ${fresh.join(', ')}`);
  return model.eval();
}
