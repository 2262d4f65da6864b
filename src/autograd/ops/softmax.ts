// softmax and logSoftmax along a dim, max-subtracted. The kernels work on the last dim; another
// dim is moved last and back. dx = y ⊙ (dy − Σ dy·y) for softmax, dx = dy − softmax·Σ dy for log.
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, toFloat } from '../../tensor/dtype.js';
import { cast } from '../../tensor/kernels/js/elementwise.js';
import { permuteRaw } from '../../tensor/kernels/js/layout.js';
import { softmaxRaw, softmaxBackwardRaw } from '../../tensor/kernels/run.js';
import { logSoftmaxJs, logSoftmaxBackwardJs } from '../../tensor/kernels/js/softmax.js';
import type { FloatArray } from '../../tensor/kernels/types.js';
import { normalizeDim } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { operands, type TensorLike } from './operands.js';

/** Run f on tensors of one shape with dim moved last, and move the result back. */
function alongDim(dim: number, tensors: Tensor[], f: (...moved: Tensor[]) => Tensor): Tensor {
  const ndim = tensors[0].ndim;
  if (dim === ndim - 1 || ndim === 0) return f(...tensors);
  const order = tensors[0].shape.map((_, i) => i).filter((i) => i !== dim).concat(dim);
  const inverse = order.map((_, i) => order.indexOf(i));
  return permuteRaw(f(...tensors.map((t) => permuteRaw(t, order))), inverse);
}

function floatInput(op: string, a: TensorLike, dim: number): [Tensor, number] {
  const [x0] = operands(a, 0);
  const x = x0.dtype === toFloat(x0.dtype) ? x0 : cast(x0, toFloat(x0.dtype));
  return [x, normalizeDim(op, dim, x.ndim)];
}

export function softmax(a: TensorLike, dim = -1): Tensor {
  const [x, d] = floatInput('softmax', a, dim);
  const scalar = x.ndim === 0;
  const y = scalar ? new Tensor(arrayFor(x.dtype, 1).fill(1), [], x.dtype) : alongDim(d, [x], softmaxRaw);
  // dx = y ⊙ (dy − Σ_j dy_j y_j)
  return record(y, 'softmax', [x], (g) => [scalar ? new Tensor(arrayFor(x.dtype, 1), [], x.dtype) : alongDim(d, [y, g], softmaxBackwardRaw)]);
}

function lastDim(op: (x: FloatArray, out: FloatArray, rows: number, cols: number) => void) {
  return (x: Tensor) => {
    const out = new Tensor(arrayFor(x.dtype, x.size), x.shape, x.dtype);
    const cols = x.shape[x.ndim - 1] ?? 1;
    op(x.data as FloatArray, out.data as FloatArray, cols === 0 ? 0 : x.size / cols, cols);
    return out;
  };
}

export function logSoftmax(a: TensorLike, dim = -1): Tensor {
  const [x, d] = floatInput('logSoftmax', a, dim);
  const y = alongDim(d, [x], lastDim(logSoftmaxJs));
  // dx = dy − softmax(x) · Σ_j dy_j, with softmax(x) = exp(y)
  return record(y, 'logSoftmax', [x], (g) => [alongDim(d, [y, g.dtype === y.dtype ? g : cast(g, y.dtype)], (yy, gg) => {
    const dx = new Tensor(arrayFor(yy.dtype, yy.size), yy.shape, yy.dtype);
    const cols = yy.shape[yy.ndim - 1] ?? 1;
    logSoftmaxBackwardJs(yy.data as FloatArray, gg.data as FloatArray, dx.data as FloatArray, cols === 0 ? 0 : yy.size / cols, cols);
    return dx;
  })]);
}
