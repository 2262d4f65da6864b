// Reductions: sum, mean, max, min (values, as torch.amax), argmax/argmin, var, logsumexp.
import { Tensor } from '../../tensor/tensor.js';
import { binary, cast, unary, zipSame } from '../../tensor/kernels/js/elementwise.js';
import { expandRaw } from '../../tensor/kernels/js/layout.js';
import { argReduce, reduce } from '../../tensor/kernels/js/reduce.js';
import { normalizeDim, normalizeDims, sizeOf } from '../../tensor/shape.js';
import { toFloat } from '../../tensor/dtype.js';
import { record, detach } from '../engine.js';
import { operands, type TensorLike } from './operands.js';
import { add, sub, mul, div } from './arithmetic.js';
import { exp, log } from './unary.js';
import { reshape } from './shape.js';

export type Dims = number | readonly number[] | null | undefined;

/** The reduced shape with the reduced dims kept as 1, so a gradient can be broadcast back. */
function keptShape(x: Tensor, dims: readonly number[]): number[] {
  return x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

export function sum(a: TensorLike, dim?: Dims, keepdim = false): Tensor {
  const [x] = operands(a, 0);
  const dims = normalizeDims('sum', dim, x.ndim);
  // ∂(Σx)/∂xᵢ = 1: the gradient is broadcast back over the summed dims
  return record(reduce(x, dims, 'sum', keepdim), 'sum', [x], (g) => [expandRaw(g.ndim === x.ndim ? g : reshapeKept(g, keptShape(x, dims)), x.shape)]);
}

/** The same values seen with another shape of equal size (no copy). */
function reshapeKept(g: Tensor, shape: number[]): Tensor {
  return new Tensor(g.data, shape, g.dtype);
}

export function mean(a: TensorLike, dim?: Dims, keepdim = false): Tensor {
  const [x] = operands(a, 0);
  const dims = normalizeDims('mean', dim, x.ndim);
  const count = sizeOf(dims.map((d) => x.shape[d]));
  const xf = x.dtype === toFloat(x.dtype) ? x : cast(x, toFloat(x.dtype));
  const out = unary(reduce(xf, dims, 'sum', keepdim), (v) => v / count);
  // ∂(mean x)/∂xᵢ = 1/n
  return record(out, 'mean', [x], (g) => [unary(expandRaw(reshapeKept(g, keptShape(x, dims)), x.shape), (v) => v / count)]);
}

/** max/min over dims: the gradient is shared evenly among the elements equal to the extremum. */
function extremum(kind: 'max' | 'min', a: TensorLike, dim: Dims, keepdim: boolean): Tensor {
  const [x] = operands(a, 0);
  const dims = normalizeDims(kind, dim, x.ndim);
  if (x.size === 0) throw new Error(`${kind}: cannot reduce an empty tensor (shape [${x.shape.join(', ')}])`);
  const out = reduce(x, dims, kind, keepdim);
  return record(out, kind, [x], (g) => {
    const kept = keptShape(x, dims);
    const winners = zipSame(x, expandRaw(reshapeKept(out, kept), x.shape), (xv, m) => (xv === m ? 1 : 0), x.dtype);
    const counts = reduce(winners, dims, 'sum', true);
    const share = binary('div', winners, counts);
    return [binary('mul', share, expandRaw(reshapeKept(g, kept), x.shape))];
  });
}

export const max = (a: TensorLike, dim?: Dims, keepdim = false): Tensor => extremum('max', a, dim, keepdim);
export const min = (a: TensorLike, dim?: Dims, keepdim = false): Tensor => extremum('min', a, dim, keepdim);

/** Index of the largest value along dim; without dim, into the flattened tensor. */
export function argmax(a: TensorLike, dim?: number | null, keepdim = false): Tensor {
  const [x] = operands(a, 0);
  if (dim === undefined || dim === null) return argReduce(reshapeKept(x, [x.size]), 0, true, false);
  return argReduce(x, normalizeDim('argmax', dim, x.ndim), true, keepdim);
}

export function argmin(a: TensorLike, dim?: number | null, keepdim = false): Tensor {
  const [x] = operands(a, 0);
  if (dim === undefined || dim === null) return argReduce(reshapeKept(x, [x.size]), 0, false, false);
  return argReduce(x, normalizeDim('argmin', dim, x.ndim), false, keepdim);
}

export interface VarOptions {
  correction?: number;
}

/** var = Σ(x − mean)² / (n − correction); unbiased (correction 1) by default, as PyTorch. Composed. */
export function variance(a: TensorLike, dim?: Dims, keepdim = false, opts: VarOptions = {}): Tensor {
  const [x] = operands(a, 0);
  const dims = normalizeDims('var', dim, x.ndim);
  const n = sizeOf(dims.map((d) => x.shape[d]));
  const correction = opts.correction ?? 1;
  const centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, keepdim), Math.max(0, n - correction));
}

/** log Σ exp(x) along dim, stable: m + log Σ exp(x − m) with m the (detached) max. Composed. */
export function logsumexp(a: TensorLike, dim: Dims, keepdim = false): Tensor {
  const [x] = operands(a, 0);
  const dims = normalizeDims('logsumexp', dim, x.ndim);
  const m = detach(reduce(x, dims, 'max', true));
  const safeM = unary(m, (v) => (Number.isFinite(v) ? v : 0)); // rows of −∞ stay −∞ instead of NaN
  const out = add(log(sum(exp(sub(x, safeM)), dims, true)), safeM);
  return keepdim ? out : reshape(out, x.shape.filter((_, i) => !dims.includes(i)));
}
