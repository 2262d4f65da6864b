// tg.models: the model zoo, presets, and Hugging Face directories. Re-exports, plus the two
// Hugging Face entry points attached to each class here (so the model files stay free of I/O):
// `await GPT.fromPretrained(dir)` (static) and `model.savePretrained(dir)` (instance).
import { GPT as GPTModel } from './gpt.js';
import {
  BertModel as BertModelClass,
  BertForMaskedLM as BertForMaskedLMClass,
  BertForSequenceClassification as BertForSequenceClassificationClass,
} from './bert.js';
import { gptPresets, bertPresets } from './presets.js';
import { fromPretrained, savePretrained, type Architecture, type FromPretrainedOptions } from './hf.js';

// ---- small models ----
export { MLP, type MLPOptions, type Activation } from './mlp.js';
export { LeNet5 } from './lenet.js';

// ---- transformers --------------------------------------------------------------------------

declare module './gpt.js' {
  interface GPT {
    /** Write a Hugging Face directory (config.json + model.safetensors) for GPT2LMHeadModel. */
    savePretrained(dir: string): void;
  }
}
declare module './bert.js' {
  interface BertModel {
    savePretrained(dir: string): void;
  }
  interface BertForMaskedLM {
    savePretrained(dir: string): void;
  }
  interface BertForSequenceClassification {
    savePretrained(dir: string): void;
  }
}

type Pretrained<C extends abstract new (...args: any[]) => any> = C & {
  /** Read a Hugging Face directory of this architecture; resolves to the model in eval mode. */
  fromPretrained(dir: string, options?: Omit<FromPretrainedOptions, 'architecture'>): Promise<InstanceType<C>>;
};

/** Give cls the static fromPretrained and the instance savePretrained. */
function withPretrained<C extends abstract new (...args: any[]) => any>(cls: C, architecture: Architecture): Pretrained<C> {
  Object.defineProperty(cls, 'fromPretrained', {
    value: (dir: string, options: FromPretrainedOptions = {}) => fromPretrained(dir, { ...options, architecture }),
    writable: true, configurable: true,
  });
  Object.defineProperty(cls.prototype, 'savePretrained', {
    value(this: any, dir: string) { savePretrained(this, dir); },
    writable: true, configurable: true,
  });
  return cls as Pretrained<C>;
}

export const GPT = withPretrained(GPTModel, 'GPT2LMHeadModel');
export type GPT = GPTModel;
export const BertModel = withPretrained(BertModelClass, 'BertModel');
export type BertModel = BertModelClass;
export const BertForMaskedLM = withPretrained(BertForMaskedLMClass, 'BertForMaskedLM');
export type BertForMaskedLM = BertForMaskedLMClass;
export const BertForSequenceClassification = withPretrained(BertForSequenceClassificationClass, 'BertForSequenceClassification');
export type BertForSequenceClassification = BertForSequenceClassificationClass;

export { type GPTConfig, type ModelOutput, type LossOutput, type GenerateOptions, defaultGPTConfig } from './gpt.js';
export { type BertConfig, type BertInputs, type BertModelOutput, type BertModelOptions, defaultBertConfig } from './bert.js';
export { maskTokens, type MaskTokensOptions, type MaskedBatch } from './masking.js';
export { preset, gptPresets, bertPresets, type PresetName } from './presets.js';
export { fromPretrained, savePretrained, architectureOf, type Architecture, type PretrainedModel, type FromPretrainedOptions } from './hf.js';

/** Every named preset's config, by name. */
export const presets = { ...gptPresets, ...bertPresets };
