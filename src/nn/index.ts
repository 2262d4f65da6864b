// tg.nn: Module and the layers; tg.nn.functional for the functional forms, tg.nn.init for
// initialisers, tg.nn.utils for gradient clipping and penalties.
export * as functional from './functional.js';
export * as init from './init.js';
export * as utils from './utils.js';
export { Module, Parameter, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Linear, Identity, type LinearOptions } from './linear.js';
export { ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax } from './activation.js';
export { Sequential, ModuleList } from './container.js';
export { Conv2d, MaxPool2d, AvgPool2d, Flatten, type Conv2dOptions, type Pool2dOptions } from './conv.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { LayerNorm, BatchNorm1d, BatchNorm2d, type LayerNormOptions, type BatchNormOptions } from './normalization.js';
export { Dropout } from './dropout.js';
export { MultiheadAttention, multiHeadAttention, type MultiheadAttentionOptions, type AttentionMasks, type QKVProjection, type AttentionComputeOptions } from './attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderBlock, FeedForward,
  type TransformerEncoderLayerOptions, type TransformerDecoderBlockOptions,
} from './transformer.js';
export { RNN, LSTM, GRU, type RNNOptions, type ElmanRNNOptions } from './recurrent.js';
export { CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss, type Reduction } from './loss.js';
