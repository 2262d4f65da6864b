// The differentiable ops as plain functions, plus the engine's controls. Importing this installs
// the Tensor methods.
import './methods.js';

export { noGrad, isGradEnabled, setDetectAnomaly, detach, requiresGrad_ } from './engine.js';
export { backward, grad, type BackwardOptions, type GradOptions } from './backward.js';
export { releaseGraph, type ReleaseGraphOptions } from './release.js';
export { gradcheck, gradgradcheck, gradcheckParameters, type GradcheckOptions, type ParamGradcheckOptions } from './gradcheck.js';
export { add, sub, mul, div, neg } from './ops/arithmetic.js';
export { exp, log, pow, sqrt, abs, tanh, sigmoid, erf, relu, gelu, type GeluOptions } from './ops/unary.js';
export { eq, ne, gt, lt, ge, le, where, maximum, minimum, clamp, logicalNot } from './ops/compare.js';
export { sum, mean, max, min, argmax, argmin, variance as var, logsumexp, type Dims } from './ops/reduce.js';
export { reshape, view, transpose, permute, T, squeeze, unsqueeze, flatten, slice, cat, stack, split, indexSelect, clone, to } from './ops/shape.js';
export { expand } from './ops/broadcast.js';
export { matmul } from './ops/matmul.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export type { TensorLike } from './ops/operands.js';
