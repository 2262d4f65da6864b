// Reductions. max/min (values, as torch.amax) are a primitive; mean, var and logsumexp are
// composed of sum and the elementwise ops; argmax/argmin have no gradient.
import type { Tensor } from '../../tensor/tensor.js';
import { toFloat } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { normalizeDim, normalizeDims, sizeOf } from '../../tensor/shape.js';
import { record, detach } from '../engine.js';
import { asTensor, type TensorLike } from './operands.js';
import { add, div, mul, sub } from './arithmetic.js';
import { exp, log } from './unary.js';
import { reshape, to } from './shape.js';
import { expand, sum, type Dims } from './broadcast.js';

export { sum, type Dims };

/** The reduced shape with the reduced dims kept as 1, so a gradient can be broadcast back. */
function keptShape(x: Tensor, dims: readonly number[]): number[] {
  return x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

/** mean = Σx / n over dims (an int tensor is averaged as a float). */
export function mean(a: TensorLike, dim?: Dims, keepdim = false): Tensor {
  const x = asTensor(a);
  const dims = normalizeDims('mean', dim, x.ndim);
  const count = sizeOf(dims.map((d) => x.shape[d]));
  return div(sum(to(x, toFloat(x.dtype)), dims, keepdim), count);
}

/** max/min over dims: the gradient is shared evenly among the elements equal to the extremum. */
function extremum(kind: 'max' | 'min', a: TensorLike, dim: Dims, keepdim: boolean): Tensor {
  const x = asTensor(a);
  const dims = normalizeDims(kind, dim, x.ndim);
  if (x.size === 0) throw new Error(`${kind}: cannot reduce an empty tensor (shape [${x.shape.join(', ')}])`);
  const out = raw.reduce(x, dims, kind, keepdim);
  const kept = keptShape(x, dims);
  return record(out, kind, [x], [(g) => {
    // share = [x = extremum] / count: piecewise constant, so no gradient flows through it
    const winners = raw.cast(raw.binary('eq', x, raw.view(out, kept)), x.dtype);
    const share = raw.binary('div', winners, raw.reduce(winners, dims, 'sum', true));
    return mul(expand(reshape(g, kept), x.shape), share);
  }]);
}

export const max = (a: TensorLike, dim?: Dims, keepdim = false): Tensor => extremum('max', a, dim, keepdim);
export const min = (a: TensorLike, dim?: Dims, keepdim = false): Tensor => extremum('min', a, dim, keepdim);

/** Index of the largest value along dim; without dim, into the flattened tensor. */
export function argmax(a: TensorLike, dim?: number | null, keepdim = false): Tensor {
  const x = asTensor(a);
  if (dim === undefined || dim === null) return raw.argReduce(raw.view(x, [x.size]), 0, true, false);
  return raw.argReduce(x, normalizeDim('argmax', dim, x.ndim), true, keepdim);
}

export function argmin(a: TensorLike, dim?: number | null, keepdim = false): Tensor {
  const x = asTensor(a);
  if (dim === undefined || dim === null) return raw.argReduce(raw.view(x, [x.size]), 0, false, false);
  return raw.argReduce(x, normalizeDim('argmin', dim, x.ndim), false, keepdim);
}

export interface VarOptions {
  correction?: number;
}

/** var = Σ(x − mean)² / (n − correction); unbiased (correction 1) by default, as PyTorch. */
export function variance(a: TensorLike, dim?: Dims, keepdim = false, opts: VarOptions = {}): Tensor {
  const x = asTensor(a);
  const dims = normalizeDims('var', dim, x.ndim);
  const n = sizeOf(dims.map((d) => x.shape[d]));
  const correction = opts.correction ?? 1;
  const centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, keepdim), Math.max(0, n - correction));
}

/** log Σ exp(x) along dim, stable: m + log Σ exp(x − m) with m the (detached) max. */
export function logsumexp(a: TensorLike, dim: Dims, keepdim = false): Tensor {
  const x = asTensor(a);
  const dims = normalizeDims('logsumexp', dim, x.ndim);
  const m = detach(raw.reduce(x, dims, 'max', true));
  const safeM = raw.where(raw.unary('not', raw.binary('eq', raw.unary('abs', m), raw.scalar(Infinity, m.dtype))), m, raw.scalar(0, m.dtype)); // rows of −∞ stay −∞ instead of NaN
  const out = add(log(sum(exp(sub(x, safeM)), dims, true)), safeM);
  return keepdim ? out : reshape(out, x.shape.filter((_, i) => !dims.includes(i)));
}
