// tsgrad: the public face. Re-exports only.
export { Tensor, type GradFn } from './tensor/tensor.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, eye, rand, randn, randint, type TensorOptions, type TensorData } from './tensor/creation.js';
export { manualSeed, getRngState, setRngState, type RngState } from './tensor/random.js';
export { setBackend, getBackend, backendInfo, type BackendChoice, type BackendInfo } from './tensor/kernels/index.js';
export * from './autograd/index.js';
export * as nn from './nn/index.js';
export * as F from './nn/functional.js';
export * as io from './io/index.js';
export * as optim from './optim/index.js';
export * as models from './models/index.js';
export * as data from './data/index.js';
export * as viz from './viz/index.js';
export { classificationReport, confusionMatrix, formatConfusion, type ClassificationReport } from './train/metrics.js';
export * as train from './train/index.js';
export * as onnx from './onnx/index.js';
