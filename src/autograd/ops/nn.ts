// Layer primitives: linear (one fused op over a matmul kernel), dropout, embedding.
// y = x·Wᵀ + b with dX = g·W, dW = gᵀ·x, db = Σ_rows g; dropout and embedding route gradients back.
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, promoteTypes } from '../../tensor/dtype.js';
import { cast } from '../../tensor/kernels/js/elementwise.js';
import { expandRaw } from '../../tensor/kernels/js/layout.js';
import { reduce, sumTo } from '../../tensor/kernels/js/reduce.js';
import { matmulRaw } from '../../tensor/kernels/run.js';
import { random } from '../../tensor/random.js';
import { fmt, sizeOf } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { requireFloat } from './operands.js';

/** The same values seen with another shape of equal size (no copy). */
const view = (t: Tensor, shape: readonly number[]) => new Tensor(t.data, shape, t.dtype);

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
  const x2d = view(x, [rows, inF]);
  let y = matmulRaw(x2d, w, false, true); // [rows, out], Wᵀ never materialised
  if (b) {
    const dtype = promoteTypes(y.dtype, b.dtype);
    if (dtype !== y.dtype) y = cast(y, dtype);
    const yd = y.data, bd = b.size === outF ? b.data : expandRaw(b, [outF]).data; // a [] or [1] bias broadcasts
    for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) yd[r * outF + j] += bd[j];
  }
  const inputs = b ? [x, w, b] : [x, w];
  return record(view(y, outShape), 'linear', inputs, (g) => {
    const g2d = view(g, [rows, outF]);
    return [
      x.requiresGrad ? view(matmulRaw(g2d, w), x.shape) : null, // dX = g · W
      w.requiresGrad ? matmulRaw(g2d, x2d, true, false) : null, // dW = gᵀ · x
      b?.requiresGrad ? sumTo(reduce(g2d, [0], 'sum', false), b.shape) : null, // db = Σ_rows g
    ];
  });
}

/** dropout(x, p, training): zero each element with probability p, scale survivors by 1/(1−p). */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`dropout: probability p has to be between 0 and 1, but got ${p}`);
  requireFloat('dropout', 'x', x);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = arrayFor(x.dtype, x.size); // 0 or 1/(1−p) per element, drawn from the seeded stream
  for (let i = 0; i < mask.length; i++) mask[i] = random() < p ? 0 : scale;
  const out = arrayFor(x.dtype, x.size);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] === 0 ? 0 : x.data[i] * mask[i];
  // ∂y/∂x = mask / (1 − p)
  return record(new Tensor(out, x.shape, x.dtype), 'dropout', [x], (g) => {
    const dx = arrayFor(x.dtype, x.size);
    for (let i = 0; i < dx.length; i++) dx[i] = mask[i] === 0 ? 0 : g.data[i] * mask[i];
    return [new Tensor(dx, x.shape, x.dtype)];
  });
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
  const idx = indices.data;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= num) throw new Error(`embedding: index ${idx[i]} is out of range for a vocabulary of size ${num}`);
  }
  const out = arrayFor(weight.dtype, idx.length * dim);
  for (let i = 0; i < idx.length; i++) out.set(weight.data.subarray(idx[i] * dim, (idx[i] + 1) * dim), i * dim);
  // ∂out[i]/∂weight[idx[i]] = 1: rows are scatter-added, so repeated indices accumulate
  return record(new Tensor(out, [...indices.shape, dim], weight.dtype), 'embedding', [weight], (g) => {
    const dw = arrayFor(g.dtype, weight.size);
    const gd = g.data;
    for (let i = 0; i < idx.length; i++) {
      const row = idx[i];
      if (row === padding) continue;
      for (let j = 0; j < dim; j++) dw[row * dim + j] += gd[i * dim + j];
    }
    return [new Tensor(dw, weight.shape, g.dtype)];
  });
}
