// Quantized checkpoints (D28): a checkpoint folder whose Linear weights (and, on request, embedding
// tables) are stored as int8 codes with one float32 scale per output channel (./int8.ts).
//
//   OUT/config.json        the source's config.json plus `quantization_config` (below)
//   OUT/model.safetensors  the model's state dict in tsgrad's names and layouts ([out, in] for every
//                          Linear, GPT's Conv1D included): a quantized weight `W` is stored as `W`
//                          (I8, W's shape) and `W_scale` (F32, [rows]); every other tensor as before.
//                          A tied weight is stored once, under its first name.
//   OUT/tokenizer files, OUT/trainer_state.json  copied unchanged (task, labels, the run's options)
//
// Loading dequantizes every weight once (W = q · scale, row by row) into an ordinary float32
// model, so inference runs the same kernels at the same speed as the float model; the file is ~4×
// smaller, memory is not (docs/deploy.md has the measurements and the reasoning). The generic
// loadCheckpoint refuses such a folder loudly (unexpected `*_scale` keys), never silently;
// loadAnyCheckpoint reads either kind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Tensor } from '../tensor/tensor.js';
import { isFloat, type TypedArray } from '../tensor/dtype.js';
import { fmt, shapesEqual } from '../tensor/shape.js';
import { getRngState, setRngState } from '../tensor/random.js';
import * as io from '../io/index.js';
import '../autograd/index.js'; // Tensor methods (detach, used by stateDict), whatever the importer loaded before
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification, type GPTConfig, type BertConfig } from '../models/index.js';
import { MLP, type Activation } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { hasTokenizer, loadTokenizer, TOKENIZER_FILE, TOKENIZER_FILES } from '../data/tokenizers/index.js';
import { loadCheckpoint, readTrainerState, resolveCheckpointDir, TRAINER_STATE_FILE, type LoadedCheckpoint, type Task } from '../train/checkpoint.js';
import { MODEL_CONFIG_FILE, MODEL_FILE, readModelConfig } from '../train/model-files.js';
import { dequantizeRows, quantizeRows, quantizationError } from './int8.js';
import { showValue } from '../io/show.js';
import { ConfigFields, CONFIG_LIMITS, readGptSizes, readBertSizes, checkConfigAgainstWeights, checkTokenizerFits, type ModelSizes } from '../models/config-validate.js';

export const QUANT_METHOD = 'tsgrad-int8';
const SCALE_SUFFIX = '_scale';

/** What rebuilds the module before its weights are loaded. */
export type ModelSpec =
  | { class: 'GPT'; config: GPTConfig }
  | { class: 'BertModel' | 'BertForMaskedLM'; config: BertConfig }
  | { class: 'BertForSequenceClassification'; config: BertConfig; numLabels: number }
  | { class: 'MLP'; sizes: number[]; activation: Activation }
  | { class: 'LeNet5'; numClasses: number };

/** config.json's `quantization_config` (Hugging Face's field; its quant_method is tsgrad's own, which transformers refuses). */
export interface QuantizationConfig {
  quant_method: typeof QUANT_METHOD;
  bits: 8;
  symmetric: true;
  granularity: 'per-output-channel';
  /** State-dict names stored as int8 + scale. */
  weights: string[];
  embeddings: boolean;
  model: ModelSpec;
}

export interface QuantizeOptions {
  /** Quantize embedding tables too (token, position; a head tied to an embedding follows this flag). Default false. */
  embeddings?: boolean;
  /** Replace an existing OUT folder. Default false. */
  overwrite?: boolean;
}

export interface QuantizedWeight {
  name: string;
  shape: number[];
  /** Largest |W − q·scale| and RMS(W − q·scale) / RMS(W). */
  maxAbsError: number;
  relativeRms: number;
}

export interface QuantizeReport {
  source: string;
  out: string;
  weights: QuantizedWeight[];
  /** Parameters stored as int8, and those left in float32. */
  int8Parameters: number;
  floatParameters: number;
  bytesBefore: number;
  bytesAfter: number;
}

// ---------------------------------------------------------------- what to quantize

const ACTIVATIONS: Activation[] = ['relu', 'sigmoid', 'tanh', 'gelu'];

function specOf(model: Module, sourceConfig: Record<string, any>): ModelSpec {
  if (model instanceof GPT) return { class: 'GPT', config: { ...model.config } };
  if (model instanceof BertForSequenceClassification) return { class: 'BertForSequenceClassification', config: { ...model.config }, numLabels: model.numLabels };
  if (model instanceof BertForMaskedLM) return { class: 'BertForMaskedLM', config: { ...model.config } };
  if (model instanceof BertModel) return { class: 'BertModel', config: { ...model.config } };
  if (model instanceof MLP) return { class: 'MLP', sizes: [...model.sizes], activation: ACTIVATIONS.includes(sourceConfig.activation) ? sourceConfig.activation : 'relu' };
  if (model instanceof LeNet5) return { class: 'LeNet5', numClasses: (model.classifier.children().at(-1) as Linear).outFeatures };
  throw new Error(`quantize: cannot rebuild a ${model.constructor.name} (GPT, BERT, MLP, LeNet5)`);
}

function buildModel(spec: ModelSpec): Module {
  // construction draws random initial weights: keep the caller's random stream where it was
  const saved = getRngState();
  try {
    switch (spec.class) {
      case 'GPT': return new GPT(spec.config);
      case 'BertModel': return new BertModel(spec.config);
      case 'BertForMaskedLM': return new BertForMaskedLM(spec.config);
      case 'BertForSequenceClassification': return new BertForSequenceClassification(spec.config, spec.numLabels);
      case 'MLP': return new MLP(spec.sizes, { activation: spec.activation });
      case 'LeNet5': return new LeNet5({ numClasses: spec.numClasses });
    }
    throw new Error(`unknown model class ${JSON.stringify((spec as { class?: unknown }).class)}`);
  } finally {
    setRngState(saved);
  }
}

const TASK_OF: Record<ModelSpec['class'], Task | null> = {
  GPT: 'lm', BertForMaskedLM: 'mlm', BertForSequenceClassification: 'classify', MLP: 'image', LeNet5: 'image', BertModel: null,
};

/** Each distinct tensor of the state dict under its first name (a tied weight appears once). */
function uniqueState(model: Module): { name: string; tensor: Tensor }[] {
  const byData = new Map<TypedArray, { name: string; tensor: Tensor }>();
  for (const [name, t] of Object.entries(model.stateDict())) if (!byData.has(t.data)) byData.set(t.data, { name, tensor: t });
  return [...byData.values()];
}

/** The weights to store as int8: every Linear's, and the embedding tables (a tied head included) only when asked. */
function chooseWeights(model: Module, embeddings: boolean): Set<TypedArray> {
  const linear = new Set<TypedArray>(), embedding = new Set<TypedArray>();
  for (const m of model.modules()) {
    if (m instanceof Linear && m.weight.ndim === 2) linear.add(m.weight.data);
    if (m instanceof Embedding) embedding.add(m.weight.data);
  }
  return new Set([...linear, ...embedding].filter((d) => embeddings || !embedding.has(d)));
}

// ---------------------------------------------------------------- writing

/** config.json's quantization_config, checked, or null for a float checkpoint. */
export function quantizationConfigOf(config: Record<string, any>, where: string): QuantizationConfig | null {
  const qc = config.quantization_config;
  if (qc === undefined || qc === null) return null;
  const bad = (why: string) => new Error(`${where}: quantization_config ${why}`);
  if (typeof qc !== 'object' || qc.quant_method !== QUANT_METHOD) throw bad(`has quant_method ${showValue(qc?.quant_method)}; tsgrad reads only '${QUANT_METHOD}'`);
  if (qc.bits !== 8 || qc.symmetric !== true || qc.granularity !== 'per-output-channel') throw bad('must say bits 8, symmetric, per-output-channel');
  if (!Array.isArray(qc.weights) || !qc.weights.every((w: unknown) => typeof w === 'string')) throw bad('weights must be a list of tensor names');
  if (!qc.model || typeof qc.model !== 'object' || !Object.hasOwn(TASK_OF, qc.model.class)) throw bad(`model.class must be one of ${Object.keys(TASK_OF).join(', ')}`);
  return qc as QuantizationConfig;
}

/** Whether dir (a run folder or a checkpoint folder) resolves to a quantized checkpoint. */
export function isQuantized(dir: string): boolean {
  const ckpt = resolveCheckpointDir(dir);
  return quantizationConfigOf(readModelConfig(ckpt), path.join(ckpt, MODEL_CONFIG_FILE)) !== null;
}

/** Fill a fresh sibling folder, then rename it to `out` (replacing an old one only with overwrite). */
function writeFolderAtomically(out: string, overwrite: boolean, fill: (dir: string) => void): void {
  if (fs.existsSync(out) && !overwrite) {
    if (!fs.statSync(out).isDirectory() || fs.readdirSync(out).length > 0) throw new Error(`quantize: ${out} exists; choose another --out or pass --overwrite`);
  }
  const parent = path.dirname(path.resolve(out));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.tmp-${path.basename(out)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  try {
    fill(tmp);
    if (fs.existsSync(out)) {
      const old = `${tmp}-old`;
      fs.renameSync(out, old);
      fs.renameSync(tmp, out);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, out);
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Write the int8 copy of a loaded float checkpoint into `out`; returns what was done. */
export function quantizeCheckpoint(ck: LoadedCheckpoint, out: string, { embeddings = false, overwrite = false }: QuantizeOptions = {}): QuantizeReport {
  const sourceConfig = readModelConfig(ck.dir);
  if (quantizationConfigOf(sourceConfig, path.join(ck.dir, MODEL_CONFIG_FILE))) throw new Error(`quantize: ${ck.dir} is already quantized`);
  if (path.resolve(out) === path.resolve(ck.dir)) throw new Error('quantize: --out must differ from the checkpoint folder');
  const spec = specOf(ck.model, sourceConfig);
  const chosen = chooseWeights(ck.model, embeddings);
  const tensors: Record<string, Tensor> = {};
  const dtypes: Record<string, 'I8'> = {};
  const weights: QuantizedWeight[] = [];
  let int8Parameters = 0, floatParameters = 0;
  for (const { name, tensor } of uniqueState(ck.model)) {
    if (!chosen.has(tensor.data)) {
      tensors[name] = tensor;
      if (isFloat(tensor.dtype)) floatParameters += tensor.size;
      continue;
    }
    const [rows] = tensor.shape, cols = tensor.size / rows; // rows = output channels ([out, in], or one row per token)
    const q = quantizeRows(tensor.data, rows, cols);
    const err = quantizationError(tensor.data, dequantizeRows(q));
    tensors[name] = new Tensor(Int32Array.from(q.q), tensor.shape, 'int32');
    tensors[name + SCALE_SUFFIX] = new Tensor(q.scale, [rows], 'float32');
    dtypes[name] = 'I8';
    weights.push({ name, shape: [...tensor.shape], maxAbsError: err.maxAbs, relativeRms: err.relativeRms });
    int8Parameters += tensor.size;
  }
  const quantization: QuantizationConfig = {
    quant_method: QUANT_METHOD, bits: 8, symmetric: true, granularity: 'per-output-channel',
    weights: weights.map((w) => w.name), embeddings, model: spec,
  };
  writeFolderAtomically(out, overwrite, (dir) => {
    io.save(path.join(dir, MODEL_FILE), tensors, { format: 'pt', quantization: QUANT_METHOD }, { dtypes });
    io.writeFileAtomic(path.join(dir, MODEL_CONFIG_FILE), `${JSON.stringify({ ...sourceConfig, quantization_config: quantization }, null, 2)}\n`);
    for (const file of [...TOKENIZER_FILES, TRAINER_STATE_FILE]) {
      if (fs.existsSync(path.join(ck.dir, file))) io.writeFileAtomic(path.join(dir, file), fs.readFileSync(path.join(ck.dir, file)));
    }
  });
  return {
    source: ck.dir, out, weights, int8Parameters, floatParameters,
    bytesBefore: fs.statSync(path.join(ck.dir, MODEL_FILE)).size, bytesAfter: fs.statSync(path.join(out, MODEL_FILE)).size,
  };
}

// ---------------------------------------------------------------- reading

/**
 * quantization_config.model checked field by field, then against the weights file's header, so
 * that building it allocates no more than the file holds; returns the spec rebuilt from checked fields.
 */
function checkSpec(spec: ModelSpec, configFile: string, weightsFile: string): ModelSpec {
  const where = `${configFile}: quantization_config.model`;
  const top = new ConfigFields(spec as unknown as Record<string, unknown>, where);
  let checked: ModelSpec, sizes: ModelSizes;
  if (spec.class === 'GPT' || spec.class === 'BertModel' || spec.class === 'BertForMaskedLM' || spec.class === 'BertForSequenceClassification') {
    if (!spec.config || typeof spec.config !== 'object') throw new Error(`${where}: field 'config' must be an object of the model's sizes`);
    const f = new ConfigFields(spec.config as unknown as Record<string, unknown>, `${where}.config`);
    if (spec.class === 'GPT') {
      const config = { ...readGptSizes(f, 'tsgrad'), gelu: f.oneOf('gelu', ['tanh', 'none'], 'tanh') };
      checked = { class: 'GPT', config };
      sizes = { kind: 'gpt', config, names: 'tsgrad' };
    } else {
      const config = { ...readBertSizes(f, 'tsgrad'), hiddenAct: f.oneOf('hiddenAct', ['gelu', 'gelu_new', 'relu'], 'gelu') };
      const numLabels = spec.class === 'BertForSequenceClassification' ? top.int('numLabels', 1, CONFIG_LIMITS.labels) : null;
      checked = numLabels === null ? { class: spec.class as 'BertModel' | 'BertForMaskedLM', config } : { class: 'BertForSequenceClassification', config, numLabels };
      sizes = { kind: 'bert', config, names: 'tsgrad', numLabels };
    }
  } else if (spec.class === 'MLP') {
    const ok = Array.isArray(spec.sizes) && spec.sizes.length >= 2 && spec.sizes.length <= CONFIG_LIMITS.layers && spec.sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= CONFIG_LIMITS.width);
    if (!ok) throw new Error(`${where}: field 'sizes' must be a list of 2 to ${CONFIG_LIMITS.layers} integers in [1, ${CONFIG_LIMITS.width}]`);
    checked = { class: 'MLP', sizes: [...spec.sizes], activation: top.oneOf('activation', ACTIVATIONS, 'relu') };
    sizes = { kind: 'mlp', sizes: checked.sizes };
  } else {
    checked = { class: 'LeNet5', numClasses: top.int('numClasses', 1, CONFIG_LIMITS.labels) };
    sizes = { kind: 'lenet', numClasses: checked.numClasses };
  }
  // every weight may come with its scale: twice the float model's tensors, and room to spare
  const layers = sizes.kind === 'gpt' ? sizes.config.nLayer : sizes.kind === 'bert' ? sizes.config.numHiddenLayers : sizes.kind === 'mlp' ? sizes.sizes.length : 8;
  checkConfigAgainstWeights(sizes, io.loadHeader(weightsFile, { maxTensors: 64 * layers + 64 }), where, weightsFile);
  return checked;
}

export interface LoadedQuantized extends LoadedCheckpoint {
  quantization: QuantizationConfig | null;
}

/** A quantized checkpoint folder (or a run folder whose newest checkpoint is one), dequantized into a float32 model in eval mode. */
export async function loadQuantized(dir: string): Promise<LoadedQuantized> {
  const ckpt = resolveCheckpointDir(dir);
  const configFile = path.join(ckpt, MODEL_CONFIG_FILE);
  const qc = quantizationConfigOf(readModelConfig(ckpt), configFile);
  if (!qc) throw new Error(`loadQuantized: ${configFile} has no quantization_config; load a float checkpoint with loadCheckpoint`);
  const where = `loadQuantized: ${path.join(ckpt, MODEL_FILE)}`;
  const spec = checkSpec(qc.model, configFile, path.join(ckpt, MODEL_FILE));
  let model: Module;
  try {
    model = buildModel(spec);
  } catch (e) {
    throw new Error(`loadQuantized: ${configFile}: quantization_config.model does not build (${(e as Error).message})`, { cause: e });
  }
  const file = io.load(path.join(ckpt, MODEL_FILE));
  const quantized = new Set(qc.weights);
  const problems: string[] = [];
  const used = new Set<string>();
  for (const { name, tensor } of uniqueState(model)) { // a tied name shares its tensor's storage, so it is filled too
    const stored = file[name];
    if (!stored) {
      problems.push(`'${name}' is missing`);
      continue;
    }
    used.add(name);
    if (!shapesEqual(stored.shape, tensor.shape)) {
      problems.push(`'${name}' has shape ${fmt(stored.shape)}, the model ${fmt(tensor.shape)}`);
      continue;
    }
    if (!quantized.has(name)) {
      if (isFloat(tensor.dtype) !== isFloat(stored.dtype)) problems.push(`'${name}' is ${stored.dtype} in the file, ${tensor.dtype} in the model (int8 codes not listed in quantization_config.weights?)`);
      else tensor.data.set(stored.data);
      continue;
    }
    const scale = file[name + SCALE_SUFFIX];
    used.add(name + SCALE_SUFFIX);
    const rows = tensor.shape[0];
    if (stored.dtype !== 'int32' || !scale || scale.dtype !== 'float32' || !shapesEqual(scale.shape, [rows])) {
      problems.push(`'${name}' must be I8 codes with a float32 '${name}${SCALE_SUFFIX}' of shape [${rows}]`);
      continue;
    }
    if (scale.data.some((s) => !(s >= 0 && s < Infinity))) {
      problems.push(`'${name}${SCALE_SUFFIX}' holds a negative or non-finite scale`);
      continue;
    }
    tensor.data.set(dequantizeRows({ q: Int8Array.from(stored.data), scale: scale.data as Float32Array, rows, cols: tensor.size / rows }));
    delete file[name]; // let the widened codes go as soon as they are used
  }
  const unexpected = Object.keys(file).filter((k) => !used.has(k));
  if (unexpected.length) problems.push(`unexpected tensors: ${unexpected.join(', ')}`);
  const missingWeights = qc.weights.filter((w) => !used.has(w));
  if (missingWeights.length) problems.push(`quantization_config.weights names tensors the model lacks: ${missingWeights.join(', ')}`);
  if (problems.length) throw new Error(`${where} does not fit ${qc.model.class}: ${problems.join('; ')}`);
  model.eval();

  const state = fs.existsSync(path.join(ckpt, TRAINER_STATE_FILE)) ? readTrainerState(ckpt) : null;
  const task = state?.task ?? TASK_OF[qc.model.class];
  if (!task) throw new Error(`loadQuantized: ${ckpt}: a ${qc.model.class} has no task head`);
  const tokenizer = hasTokenizer(ckpt) ? loadTokenizer(ckpt) : null;
  if (!tokenizer && task !== 'image') throw new Error(`loadQuantized: ${ckpt} has no ${TOKENIZER_FILE}, which a ${task} model needs`);
  checkTokenizerFits(model, tokenizer, ckpt);
  let labelNames = state?.labelNames;
  if (task === 'classify' && !labelNames && model instanceof BertForSequenceClassification) labelNames = Array.from({ length: model.numLabels }, (_, i) => String(i));
  return { model, tokenizer, task, ...(labelNames ? { labelNames } : {}), dir: ckpt, state, quantization: qc };
}

/** Either kind of checkpoint: quantized ones through loadQuantized, float ones through loadCheckpoint. */
export async function loadAnyCheckpoint(dir: string): Promise<LoadedQuantized> {
  if (isQuantized(dir)) return loadQuantized(dir);
  return { ...(await loadCheckpoint(dir)), quantization: null };
}
