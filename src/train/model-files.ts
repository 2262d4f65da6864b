// The files of a checkpoint other than its trainer_state.json:
//  - the model: Hugging Face's layout (savePretrained: config.json + model.safetensors) for GPT and
//    BERT; for MLP and LeNet5, which Hugging Face has no class for, the same two files with a
//    tsgrad config (architectures ['MLP'] or ['LeNet5'] and what rebuilds them) and the state dict;
//  - the optimizer: its buffers in optimizer.safetensors (`state.<param>.<name>`), its numbers
//    (step counts, each group's options) in plain JSON for trainer_state.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import * as io from '../io/index.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification, fromPretrained, savePretrained, type PretrainedModel } from '../models/index.js';
import { ARCHITECTURES } from '../models/hf.js';
import { checkConfigAgainstWeights } from '../models/config-validate.js';
import { MLP, type Activation } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';

export const MODEL_CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

const isPretrained = (m: Module): m is PretrainedModel =>
  m instanceof GPT || m instanceof BertModel || m instanceof BertForMaskedLM || m instanceof BertForSequenceClassification;

const ACTIVATIONS: Record<string, Activation> = { ReLU: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', GELU: 'gelu' };

/** config.json of a model Hugging Face has no class for. */
function tsgradConfig(model: Module): Record<string, unknown> {
  if (model instanceof MLP) {
    const act = model.layers.children().find((m) => !(m instanceof Linear));
    return { architectures: ['MLP'], model_type: 'tsgrad-mlp', sizes: [...model.sizes], activation: act ? ACTIVATIONS[act.constructor.name] ?? 'relu' : 'relu' };
  }
  if (model instanceof LeNet5) {
    const last = model.classifier.children().at(-1) as Linear;
    return { architectures: ['LeNet5'], model_type: 'tsgrad-lenet5', num_classes: last.outFeatures };
  }
  // any other module: its weights can be saved and loaded back into an instance built by the script
  return { architectures: [model.constructor.name], model_type: 'tsgrad-module' };
}

/** Write dir/config.json and dir/model.safetensors. */
export function saveModel(model: Module, dir: string): void {
  if (isPretrained(model)) return savePretrained(model, dir);
  fs.mkdirSync(dir, { recursive: true });
  io.save(path.join(dir, MODEL_FILE), model.stateDict(), { format: 'pt' });
  io.writeFileAtomic(path.join(dir, MODEL_CONFIG_FILE), `${JSON.stringify(tsgradConfig(model), null, 2)}\n`);
}

/** The parsed config.json of a saved model (an error names the file when it is missing or broken). */
export function readModelConfig(dir: string): Record<string, any> {
  const file = path.join(dir, MODEL_CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(e as Error).message})`;
    throw new Error(`${file} is ${why}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file} is not a JSON object`);
  return json as Record<string, any>;
}

const quiet = () => {};

/** Build the model a saved folder describes and load its weights (eval mode). */
export async function loadModel(dir: string): Promise<Module> {
  const config = readModelConfig(dir);
  const arch = Array.isArray(config.architectures) ? String(config.architectures[0]) : '';
  if ((ARCHITECTURES as readonly string[]).includes(arch) || config.model_type === 'gpt2' || config.model_type === 'bert') {
    return fromPretrained(dir, { warn: quiet });
  }
  let model: Module;
  if (arch === 'MLP') {
    const sizes = config.sizes;
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${path.join(dir, MODEL_CONFIG_FILE)}: 'sizes' must be a list of at least two positive integers`);
    checkConfigAgainstWeights({ kind: 'mlp', sizes }, io.loadHeader(path.join(dir, MODEL_FILE)), path.join(dir, MODEL_CONFIG_FILE), path.join(dir, MODEL_FILE));
    model = new MLP(sizes, { activation: config.activation ?? 'relu' });
  } else if (arch === 'LeNet5') {
    const numClasses = config.num_classes ?? 10;
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${path.join(dir, MODEL_CONFIG_FILE)}: 'num_classes' must be a positive integer`);
    checkConfigAgainstWeights({ kind: 'lenet', numClasses }, io.loadHeader(path.join(dir, MODEL_FILE)), path.join(dir, MODEL_CONFIG_FILE), path.join(dir, MODEL_FILE));
    model = new LeNet5({ numClasses });
  } else {
    throw new Error(`${path.join(dir, MODEL_CONFIG_FILE)} describes '${arch || 'no architecture'}', which tsgrad cannot rebuild (GPT2LMHeadModel, Bert*, MLP, LeNet5); load its weights into your own instance instead`);
  }
  model.loadStateDict(io.load(path.join(dir, MODEL_FILE)));
  return model.eval();
}

/** Copy the weights saved in dir into an existing model (identity of its parameters kept). */
export async function loadWeightsInto(model: Module, dir: string): Promise<void> {
  if (isPretrained(model)) {
    const saved = await fromPretrained(dir, { warn: quiet });
    model.loadStateDict(saved.stateDict());
    return;
  }
  model.loadStateDict(io.load(path.join(dir, MODEL_FILE)));
}

/** A saved model rebuilt (null for a module tsgrad cannot rebuild) and its state dict. */
export async function readWeights(dir: string): Promise<{ model: Module | null; weights: Record<string, Tensor> }> {
  if (readModelConfig(dir).model_type === 'tsgrad-module') return { model: null, weights: io.load(path.join(dir, MODEL_FILE)) };
  const model = await loadModel(dir);
  return { model, weights: model.stateDict() };
}

/** The numbers of an optimizer's state dict (JSON) and its buffers (tensors). */
export interface SplitOptimizerState {
  json: { paramGroups: OptimizerStateDict['paramGroups']; scalars: Record<string, Record<string, number>> };
  tensors: Record<string, Tensor>;
}

export function splitOptimizerState(dict: OptimizerStateDict): SplitOptimizerState {
  const scalars: Record<string, Record<string, number>> = {};
  const tensors: Record<string, Tensor> = {};
  for (const [id, entry] of Object.entries(dict.state)) {
    scalars[id] = {};
    for (const [field, value] of Object.entries(entry)) {
      if (typeof value === 'number') scalars[id][field] = value;
      else tensors[`state.${id}.${field}`] = value;
    }
  }
  return { json: { paramGroups: dict.paramGroups, scalars }, tensors };
}

export function joinOptimizerState(json: SplitOptimizerState['json'], tensors: Record<string, Tensor>, where: string): OptimizerStateDict {
  if (!json || !Array.isArray(json.paramGroups) || typeof json.scalars !== 'object' || json.scalars === null) throw new Error(`${where}: the optimizer state must have paramGroups and scalars`);
  const state: OptimizerStateDict['state'] = {};
  for (const [id, entry] of Object.entries(json.scalars)) state[id] = { ...entry };
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(\w+)$/.exec(key);
    if (!m) throw new Error(`${where}: unexpected tensor '${key}' in ${OPTIMIZER_FILE}`);
    (state[m[1]] ??= {})[m[2]] = t;
  }
  return { state, paramGroups: json.paramGroups };
}
