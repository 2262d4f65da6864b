// The differentiable ops as plain functions, plus the engine's controls. Importing this installs
// the Tensor methods.
import './methods.js';

export { backward, noGrad, isGradEnabled, setDetectAnomaly, detach, requiresGrad_ } from './engine.js';
export { gradcheck, gradcheckParameters, type GradcheckOptions, type ParamGradcheckOptions } from './gradcheck.js';
export { add, sub, mul, div, pow, neg } from './ops/arithmetic.js';
export { exp, log, sqrt, abs, tanh, sigmoid, relu, gelu, clamp, type GeluOptions } from './ops/unary.js';
export { eq, ne, gt, lt, ge, le, where, maximum, minimum, logicalNot } from './ops/compare.js';
export { sum, mean, max, min, argmax, argmin, variance as var, logsumexp, type Dims } from './ops/reduce.js';
export { reshape, view, transpose, permute, T, squeeze, unsqueeze, expand, flatten, slice, cat, stack, split, indexSelect, clone, to } from './ops/shape.js';
export { matmul } from './ops/matmul.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export type { TensorLike } from './ops/operands.js';
