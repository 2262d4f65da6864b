// Layer ops: linear (fused: y = x·Wᵀ + b in one matmul call, dX = g·W, dW = gᵀ·x, db = Σ_rows g in one linearBackward call),
// dropout (a product with a constant mask) and embedding (row gathers), both composed.
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, emptyArrayFor, promoteTypes } from '../../tensor/dtype.js';
import type { FloatArray } from '../../tensor/kernels/types.js';
import * as raw from '../../tensor/raw.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import { random } from '../../tensor/random.js';
import { fmt, sizeOf } from '../../tensor/shape.js';
import { recordFused } from '../engine.js';
import { add, mul } from './arithmetic.js';
import { matmulT } from './matmul.js';
import { gather, reshape } from './shape.js';
import { requireFloat } from './operands.js';

/** linear(x, w, b?): x [..., in], w [out, in], b [out] → [..., out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (!(x instanceof Tensor) || !(w instanceof Tensor)) throw new Error('linear: x and w must be tensors');
  if (x.ndim === 0 || w.ndim !== 2) throw new Error(`linear: expected x [..., in] and w [out, in], got shapes ${fmt(x.shape)} and ${fmt(w.shape)}`);
  const [outF, inF] = w.shape;
  if (x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: x of shape ${fmt(x.shape)} and w of shape ${fmt(w.shape)} do not fit (x's last dim ${x.shape[x.ndim - 1]} ≠ w's in-features ${inF})`);
  }
  if (b != null && !(b instanceof Tensor)) throw new Error('linear: bias must be a tensor');
  if (b && (b.ndim > 1 || (b.ndim === 1 && b.shape[0] !== outF && b.shape[0] !== 1))) {
    throw new Error(`linear: bias of shape ${fmt(b.shape)} does not match w of shape ${fmt(w.shape)} (expected [${outF}])`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const outShape = [...x.shape.slice(0, -1), outF];
  const x2d = raw.view(x, [rows, inF]);
  // y = x·Wᵀ + b in one kernel call: Wᵀ never materialised, the bias added as C is written
  const fused = b && b.size === outF && raw.binaryDType('add', promoteTypes(x.dtype, w.dtype), b.dtype) === promoteTypes(x.dtype, w.dtype);
  let y = raw.matmul(x2d, w, false, true, fused ? raw.view(b, [outF]) : null); // [rows, out]
  if (b && !fused) {
    y = raw.cast(y, raw.binaryDType('add', y.dtype, b.dtype));
    kernelFor('binary', y.dtype, y.size)('add', y.data, y.shape, raw.cast(b, y.dtype).data, b.shape, y.data, y.shape); // y += b, in place
  }
  const inputs = b ? [x, w, b] : [x, w];
  return recordFused(raw.view(y, outShape), 'linear', inputs, (g, needs) => {
    // dX = g · W, dW = gᵀ · x, db = Σ_rows g (the engine sums a [1] bias further): one kernel call
    const dtype = promoteTypes(g.dtype, promoteTypes(x.dtype, w.dtype));
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`linear: backward needs a float gradient and operands (got ${g.dtype}, x ${x.dtype}, w ${w.dtype})`);
    const grad = (want: boolean, size: number, shape: readonly number[]) => (want ? new Tensor(emptyArrayFor(dtype, size), shape, dtype) : null);
    const [dx, dw, db] = [grad(needs[0], x.size, x.shape), grad(needs[1], w.size, w.shape), grad(!!needs[2], outF, [outF])];
    const flops = 2 * rows * inF * outF * ((dx ? 1 : 0) + (dw ? 1 : 0));
    const args = { g: raw.cast(g, dtype).data as FloatArray, x: raw.cast(x, dtype).data as FloatArray, w: raw.cast(w, dtype).data as FloatArray, rows, inF, outF };
    const dataOf = (t: Tensor | null) => (t ? (t.data as FloatArray) : null);
    kernelFor('linearBackward', dtype, flops)(args, dataOf(dx), dataOf(dw), dataOf(db));
    return [dx, dw, db];
  }, linearComposite);
}

/** linear from recorded ops: x·Wᵀ + b. */
export function linearComposite(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const y = matmulT(reshape(x, [-1, w.shape[1]]), w, false, true);
  return reshape(b ? add(y, b) : y, [...x.shape.slice(0, -1), w.shape[0]]);
}

/** dropout(x, p, training): zero each element with probability p, scale survivors by 1/(1−p). */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`dropout: probability p has to be between 0 and 1, but got ${p}`);
  requireFloat('dropout', 'x', x);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = arrayFor(x.dtype, x.size); // 0 or 1/(1−p) per element, drawn from the seeded stream
  for (let i = 0; i < mask.length; i++) mask[i] = random() < p ? 0 : scale;
  // y = x ⊙ mask: ∂y/∂x = mask
  return mul(x, new Tensor(mask, x.shape, x.dtype));
}

export interface EmbeddingOptions {
  /** Row whose entries get no gradient (PyTorch's padding_idx); negative counts from the end. */
  paddingIdx?: number | null;
}

/** embedding(indices, weight): int32 indices of any shape pick rows of weight [num, dim] → [...indices.shape, dim]. */
export function embedding(indices: Tensor, weight: Tensor, opts: EmbeddingOptions = {}): Tensor {
  if (!(indices instanceof Tensor)) throw new Error('embedding: indices must be an int32 tensor');
  if (indices.dtype !== 'int32') throw new Error(`embedding: indices must be an int32 tensor (got ${indices.dtype})`);
  if (!(weight instanceof Tensor) || weight.ndim !== 2) throw new Error(`embedding: weight must be a 2-D tensor [num, dim] (got shape ${weight instanceof Tensor ? fmt(weight.shape) : typeof weight})`);
  const [num, dim] = weight.shape;
  let padding = opts.paddingIdx ?? null;
  if (padding !== null) {
    if (!Number.isInteger(padding) || padding < -num || padding >= num) throw new Error(`embedding: paddingIdx ${padding} must be within the ${num} rows of weight`);
    if (padding < 0) padding += num;
  }
  const idx = indices.data as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= num) throw new Error(`embedding: index ${idx[i]} is out of range for a vocabulary of size ${num}`);
  }
  // rows are gathered; their gradients scatter-add back, so repeated indices accumulate
  return reshape(gather(weight, 0, idx, padding ?? -1), [...indices.shape, dim]);
}
