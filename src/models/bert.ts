// BERT: a bidirectional Transformer encoder (Devlin et al. 2018) in one file, read top to bottom.
// Word + position + token-type embeddings → LayerNorm → numHiddenLayers post-LN encoder layers
// (self-attention with a padding mask, exact-erf GELU MLP) → a tanh pooler over [CLS]; heads for
// masked-language modelling and sequence classification. Module names are Hugging Face's
// (`encoder.layer.3.attention.self.query.weight`), so parameter names map one to one.
import { Tensor } from '../tensor/tensor.js';
import { arange, zeros } from '../tensor/creation.js';
import { fmt } from '../tensor/shape.js';
import { Module, Parameter } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/normalization.js';
import { Dropout } from '../nn/dropout.js';
import { ModuleList } from '../nn/container.js';
import { multiHeadAttention } from '../nn/attention.js';
import * as init from '../nn/init.js';
import * as F from '../nn/functional.js';
import type { LossOutput, ModelOutput } from './gpt.js';
import { maskedLMLoss } from './masking.js';

/** Hugging Face's BertConfig fields, in camelCase. */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  /** 'gelu' is the exact erf form (BERT's); 'gelu_new' the tanh approximation. */
  hiddenAct: 'gelu' | 'gelu_new' | 'relu';
  /** Dropout after embeddings and on each residual branch. */
  hiddenDropoutProb: number;
  /** Dropout on the attention weights. */
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** Standard deviation of the normal init of every weight. */
  initializerRange: number;
  /** The [PAD] token: its embedding row starts at zero and gets no gradient from the lookup. */
  padTokenId: number;
  /** Dropout before the classifier; null means hiddenDropoutProb (as Hugging Face). */
  classifierDropout?: number | null;
}

/** bert-base-uncased. */
export const defaultBertConfig: BertConfig = {
  vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072,
  hiddenAct: 'gelu', hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, maxPositionEmbeddings: 512,
  typeVocabSize: 2, layerNormEps: 1e-12, initializerRange: 0.02, padTokenId: 0, classifierDropout: null,
};

export interface BertInputs {
  /** int32 or bool [B, T]: 1 (true) = attend, 0 = padding. Default: attend everywhere. */
  attentionMask?: Tensor | null;
  /** int32 [B, T] segment ids in [0, typeVocabSize). Default: all 0. */
  tokenTypeIds?: Tensor | null;
  /** int32: [B, T] token ids for the MLM head (−100 = not scored), [B] classes for the classifier. */
  labels?: Tensor | null;
}

export interface BertModelOutput {
  lastHiddenState: Tensor;
  /** tanh(dense(h[CLS])), or null for a model built without the pooler. */
  pooledOutput: Tensor | null;
}

function checkConfig(c: BertConfig): void {
  for (const key of ['vocabSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'intermediateSize', 'maxPositionEmbeddings', 'typeVocabSize'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) throw new Error(`BERT: config.${key} must be a positive integer (got ${c[key]})`);
  }
  if (c.hiddenSize % c.numAttentionHeads !== 0) throw new Error(`BERT: hiddenSize ${c.hiddenSize} is not divisible by numAttentionHeads ${c.numAttentionHeads}`);
  if (!['gelu', 'gelu_new', 'relu'].includes(c.hiddenAct)) throw new Error(`BERT: config.hiddenAct must be 'gelu', 'gelu_new' or 'relu' (got ${c.hiddenAct})`);
}

function activation(x: Tensor, act: BertConfig['hiddenAct']): Tensor {
  if (act === 'relu') return F.relu(x);
  return F.gelu(x, { approximate: act === 'gelu' ? 'none' : 'tanh' });
}

/** Hugging Face's _init_weights: N(0, initializerRange) for Linear and Embedding weights (the padding row zeroed), zero biases, LayerNorm 1 and 0. */
function initBertWeights(module: Module, std: number): void {
  for (const m of module.modules()) {
    if (m instanceof Linear) {
      init.normal(m.weight, 0, std);
      if (m.bias) init.zeros(m.bias);
    } else if (m instanceof Embedding) {
      init.normal(m.weight, 0, std);
      if (m.paddingIdx !== null) m.weight.data.fill(0, m.paddingIdx * m.embeddingDim, (m.paddingIdx + 1) * m.embeddingDim);
    } else if (m instanceof LayerNorm) {
      if (m.weight) init.ones(m.weight);
      if (m.bias) init.zeros(m.bias);
    }
  }
}

/** The int32 [B, T] ids a forward takes, checked. */
function checkIds(where: string, name: string, t: Tensor, shape?: readonly number[]): void {
  if (!(t instanceof Tensor) || t.dtype !== 'int32' || t.ndim !== 2) {
    throw new Error(`${where}: ${name} must be int32 of shape [B, T] (got ${t instanceof Tensor ? `${t.dtype} ${fmt(t.shape)}` : typeof t})`);
  }
  if (shape && (t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) throw new Error(`${where}: ${name} of shape ${fmt(t.shape)} does not match inputIds ${fmt(shape)}`);
}

/** attentionMask [B, T] (1 = attend) → a bool key mask [B, 1, 1, T] for every head and query; null when nothing is masked. */
function keyMask(attentionMask: Tensor | null | undefined, B: number, T: number): Tensor | null {
  if (!attentionMask) return null;
  if (attentionMask.dtype !== 'int32' && attentionMask.dtype !== 'bool') {
    throw new Error(`BertModel.forward: attentionMask must be int32 or bool (1 = attend), got ${attentionMask.dtype}`);
  }
  if (attentionMask.ndim !== 2 || attentionMask.shape[0] !== B || attentionMask.shape[1] !== T) {
    throw new Error(`BertModel.forward: attentionMask of shape ${fmt(attentionMask.shape)} does not match inputIds [${B}, ${T}]`);
  }
  if (attentionMask.data.every((v) => v !== 0)) return null; // all attend: the same result, without the mask's cost
  const allowed = attentionMask.dtype === 'bool' ? attentionMask : attentionMask.ne(0);
  return allowed.reshape(B, 1, 1, T);
}

// ---------------------------------------------------------------- the encoder

class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(readonly config: BertConfig) {
    super();
    const padding = config.padTokenId >= 0 && config.padTokenId < config.vocabSize ? config.padTokenId : null;
    this.word_embeddings = new Embedding(config.vocabSize, config.hiddenSize, { paddingIdx: padding });
    this.position_embeddings = new Embedding(config.maxPositionEmbeddings, config.hiddenSize);
    this.token_type_embeddings = new Embedding(config.typeVocabSize, config.hiddenSize);
    this.LayerNorm = new LayerNorm(config.hiddenSize, { eps: config.layerNormEps });
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }

  override forward(inputIds: Tensor, tokenTypeIds: Tensor): Tensor {
    const T = inputIds.shape[1];
    const x = this.word_embeddings.forward(inputIds) // (B, T, C)
      .add(this.position_embeddings.forward(arange(T))) // + (T, C)
      .add(this.token_type_embeddings.forward(tokenTypeIds)); // + (B, T, C)
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}

/** Multi-head self-attention: separate query, key and value projections, as BERT's checkpoints. */
class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;

  constructor(readonly config: BertConfig) {
    super();
    this.query = new Linear(config.hiddenSize, config.hiddenSize);
    this.key = new Linear(config.hiddenSize, config.hiddenSize);
    this.value = new Linear(config.hiddenSize, config.hiddenSize);
  }

  /** x (B, T, C) → the merged heads (B, T, C); BertSelfOutput's dense is the output projection. */
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    // softmax(QKᵀ/√hs) V with padding keys masked out (D21)
    return multiHeadAttention(x, { query: this.query, key: this.key, value: this.value }, null, {
      numHeads: this.config.numAttentionHeads, mask, dropout: this.training ? this.config.attentionProbsDropoutProb : 0,
    });
  }
}

/** Post-LN residual: LayerNorm(input + dropout(dense(h))). Hugging Face's BertSelfOutput and BertOutput. */
class BertResidual extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(inFeatures: number, config: BertConfig) {
    super();
    this.dense = new Linear(inFeatures, config.hiddenSize);
    this.LayerNorm = new LayerNorm(config.hiddenSize, { eps: config.layerNormEps });
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }

  override forward(h: Tensor, input: Tensor): Tensor {
    return this.LayerNorm.forward(input.add(this.dropout.forward(this.dense.forward(h)))); // (B, T, C)
  }
}

class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertResidual;

  constructor(config: BertConfig) {
    super();
    this.self = new BertSelfAttention(config);
    this.output = new BertResidual(config.hiddenSize, config);
  }

  override forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

class BertIntermediate extends Module {
  dense: Linear;

  constructor(readonly config: BertConfig) {
    super();
    this.dense = new Linear(config.hiddenSize, config.intermediateSize);
  }

  override forward(x: Tensor): Tensor {
    return activation(this.dense.forward(x), this.config.hiddenAct); // (B, T, intermediateSize)
  }
}

/** One post-LN encoder layer: x = LN(x + attn(x)), then x = LN(x + FFN(x)). */
class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertResidual;

  constructor(config: BertConfig) {
    super();
    this.attention = new BertAttention(config);
    this.intermediate = new BertIntermediate(config);
    this.output = new BertResidual(config.intermediateSize, config);
  }

  override forward(x: Tensor, mask: Tensor | null): Tensor {
    const a = this.attention.forward(x, mask); // (B, T, C)
    return this.output.forward(this.intermediate.forward(a), a); // (B, T, C)
  }
}

class BertEncoder extends Module {
  layer: ModuleList<BertLayer>;

  constructor(config: BertConfig) {
    super();
    this.layer = new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new BertLayer(config)));
  }

  override forward(x: Tensor, mask: Tensor | null): Tensor {
    for (const layer of this.layer) x = layer.forward(x, mask);
    return x;
  }
}

/** tanh(dense(h[CLS])): the sequence summary the classifier reads. */
class BertPooler extends Module {
  dense: Linear;

  constructor(config: BertConfig) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize);
  }

  override forward(h: Tensor): Tensor {
    const [B, , C] = h.shape;
    return F.tanh(this.dense.forward(h.slice(1, 0, 1).reshape(B, C))); // (B, C)
  }
}

export interface BertModelOptions {
  /** Build the pooler (default true; Hugging Face's BertForMaskedLM has none). */
  addPoolingLayer?: boolean;
}

export class BertModel extends Module {
  readonly config: BertConfig;
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: Partial<BertConfig> = {}, { addPoolingLayer = true }: BertModelOptions = {}) {
    super();
    this.config = { ...defaultBertConfig, ...config };
    checkConfig(this.config);
    this.embeddings = new BertEmbeddings(this.config);
    this.encoder = new BertEncoder(this.config);
    this.pooler = addPoolingLayer ? new BertPooler(this.config) : null;
    initBertWeights(this, this.config.initializerRange);
  }

  /** inputIds int32 (B, T) → lastHiddenState (B, T, C) and pooledOutput (B, C). */
  override forward(inputIds: Tensor, { attentionMask = null, tokenTypeIds = null }: BertInputs = {}): BertModelOutput {
    checkIds('BertModel.forward', 'inputIds', inputIds);
    const [B, T] = inputIds.shape;
    if (T > this.config.maxPositionEmbeddings) throw new Error(`BertModel.forward: sequence length ${T} exceeds maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`);
    if (tokenTypeIds) checkIds('BertModel.forward', 'tokenTypeIds', tokenTypeIds, inputIds.shape);
    const x = this.embeddings.forward(inputIds, tokenTypeIds ?? zeros([B, T], { dtype: 'int32' })); // (B, T, C)
    const lastHiddenState = this.encoder.forward(x, keyMask(attentionMask, B, T)); // (B, T, C)
    return { lastHiddenState, pooledOutput: this.pooler ? this.pooler.forward(lastHiddenState) : null };
  }
}

// ---------------------------------------------------------------- heads

/** dense → activation → LayerNorm, before the decoder. */
class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;

  constructor(readonly config: BertConfig) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize);
    this.LayerNorm = new LayerNorm(config.hiddenSize, { eps: config.layerNormEps });
  }

  override forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(activation(this.dense.forward(h), this.config.hiddenAct));
  }
}

/** transform, then a decoder to the vocabulary whose weight is the word embedding and whose bias is `bias`. */
class BertLMPredictionHead extends Module {
  bias: Parameter;
  transform: BertPredictionHeadTransform;
  decoder: Linear;

  constructor(config: BertConfig, wordEmbeddings: Parameter) {
    super();
    this.bias = new Parameter(zeros([config.vocabSize]));
    this.transform = new BertPredictionHeadTransform(config);
    this.decoder = new Linear(config.hiddenSize, config.vocabSize, { bias: false });
    this.decoder.weight = wordEmbeddings; // tied, as Hugging Face: one Parameter, two names
    this.decoder.bias = this.bias;
  }

  override forward(h: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(h)); // (B, T, V)
  }
}

class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;

  constructor(config: BertConfig, wordEmbeddings: Parameter) {
    super();
    this.predictions = new BertLMPredictionHead(config, wordEmbeddings);
  }
}

export class BertForMaskedLM extends Module {
  readonly config: BertConfig;
  bert: BertModel;
  cls: BertOnlyMLMHead;

  constructor(config: Partial<BertConfig> = {}) {
    super();
    this.bert = new BertModel(config, { addPoolingLayer: false });
    this.config = this.bert.config;
    this.cls = new BertOnlyMLMHead(this.config, this.bert.embeddings.word_embeddings.weight);
    initBertWeights(this.cls.predictions.transform, this.config.initializerRange); // the decoder is the (already initialised) word embedding
  }

  /**
   * inputIds (B, T) → logits (B, T, V) at every position. With labels (B, T) the loss is the mean
   * cross-entropy over the positions whose label is not −100, the masked ones (D11).
   */
  override forward(inputIds: Tensor, inputs: BertInputs & { labels: Tensor }): LossOutput;
  override forward(inputIds: Tensor, inputs?: BertInputs): ModelOutput;
  override forward(inputIds: Tensor, { labels = null, ...inputs }: BertInputs = {}): ModelOutput {
    const { lastHiddenState } = this.bert.forward(inputIds, inputs);
    const { transform, decoder } = this.cls.predictions;
    const hidden = transform.forward(lastHiddenState); // (B, T, H)
    const logits = decoder.forward(hidden); // (B, T, V), at every position as Hugging Face computes them
    if (!labels) return { logits, loss: null };
    checkIds('BertForMaskedLM.forward', 'labels', labels, inputIds.shape);
    const { hiddenSize, vocabSize } = this.config;
    return { logits, loss: maskedLMLoss(logits.reshape(-1, vocabSize), hidden.reshape(-1, hiddenSize), decoder, labels.reshape(-1)) };
  }
}

export class BertForSequenceClassification extends Module {
  readonly config: BertConfig;
  readonly numLabels: number;
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: Partial<BertConfig> = {}, numLabels = 2) {
    super();
    if (!Number.isInteger(numLabels) || numLabels < 1) throw new Error(`BertForSequenceClassification: numLabels must be a positive integer (got ${numLabels})`);
    this.numLabels = numLabels;
    this.bert = new BertModel(config);
    this.config = this.bert.config;
    this.dropout = new Dropout(this.config.classifierDropout ?? this.config.hiddenDropoutProb);
    this.classifier = new Linear(this.config.hiddenSize, numLabels);
    initBertWeights(this.classifier, this.config.initializerRange);
  }

  /**
   * inputIds (B, T) → logits (B, numLabels) from the pooled [CLS]. With labels: cross-entropy
   * against int32 classes (B), or, for numLabels = 1, the mean squared error against float
   * targets (B) (Hugging Face's regression).
   */
  override forward(inputIds: Tensor, inputs: BertInputs & { labels: Tensor }): LossOutput;
  override forward(inputIds: Tensor, inputs?: BertInputs): ModelOutput;
  override forward(inputIds: Tensor, { labels = null, ...inputs }: BertInputs = {}): ModelOutput {
    const { pooledOutput } = this.bert.forward(inputIds, inputs);
    const logits = this.classifier.forward(this.dropout.forward(pooledOutput!)); // (B, numLabels)
    if (!labels) return { logits, loss: null };
    const B = inputIds.shape[0];
    if (labels.ndim !== 1 || labels.shape[0] !== B) throw new Error(`BertForSequenceClassification.forward: labels must have shape [${B}] (got ${fmt(labels.shape)})`);
    const loss = this.numLabels === 1
      ? F.mseLoss(logits.reshape(B), labels.dtype === 'int32' ? labels.to(logits.dtype) : labels)
      : F.crossEntropy(logits, labels);
    return { logits, loss };
  }
}
