// softmax (fused: a row kernel and its gradient kernel, dx = y ⊙ (dy − Σ dy·y)) and logSoftmax,
// composed as x − logsumexp(x). The kernels work on the last dim; another dim is moved last and back.
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, toFloat } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { normalizeDim } from '../../tensor/shape.js';
import { recordFused, detach } from '../engine.js';
import { add, div, mul, sub } from './arithmetic.js';
import { exp } from './unary.js';
import { sum } from './broadcast.js';
import { logsumexp } from './reduce.js';
import { asTensor, type TensorLike } from './operands.js';

/** Run f on tensors of one shape with dim moved last, and move the result back. */
function alongDim(dim: number, tensors: Tensor[], f: (...moved: Tensor[]) => Tensor): Tensor {
  const ndim = tensors[0].ndim;
  if (dim === ndim - 1 || ndim === 0) return f(...tensors);
  const order = tensors[0].shape.map((_, i) => i).filter((i) => i !== dim).concat(dim);
  const inverse = order.map((_, i) => order.indexOf(i));
  return raw.permute(f(...tensors.map((t) => raw.permute(t, order))), inverse);
}

function floatInput(op: string, a: TensorLike, dim: number): [Tensor, number] {
  const x0 = asTensor(a);
  const x = raw.cast(x0, toFloat(x0.dtype));
  return [x, normalizeDim(op, dim, x.ndim)];
}

export function softmax(a: TensorLike, dim = -1): Tensor {
  const [x, d] = floatInput('softmax', a, dim);
  if (x.ndim === 0) return recordFused(new Tensor(arrayFor(x.dtype, 1).fill(1), [], x.dtype), 'softmax', [x], () => [new Tensor(arrayFor(x.dtype, 1), [], x.dtype)], (t) => add(mul(t, 0), 1));
  const y = alongDim(d, [x], raw.softmax);
  // dx = y ⊙ (dy − Σ_j dy_j y_j)
  return recordFused(y, 'softmax', [x], (g) => [alongDim(d, [y, g], raw.softmaxBackward)], (t) => softmaxComposite(t, d));
}

/** softmax from recorded ops: e^{x − m} / Σ e^{x − m}, m the (detached) row max. */
export function softmaxComposite(x: Tensor, dim: number): Tensor {
  const m = detach(raw.reduce(x, [dim], 'max', true));
  const e = exp(sub(x, raw.where(raw.binary('eq', m, raw.scalar(-Infinity, m.dtype)), raw.scalar(0, m.dtype), m)));
  return div(e, sum(e, dim, true));
}

/** log softmax(x) = x − log Σ exp(x). */
export function logSoftmax(a: TensorLike, dim = -1): Tensor {
  const [x, d] = floatInput('logSoftmax', a, dim);
  return sub(x, logsumexp(x, d, true));
}
