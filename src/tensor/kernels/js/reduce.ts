// Reductions along dims, viewing x as [outer, len, inner] for one dim at a time.
import { type DType, arrayFor } from '../../dtype.js';
import { type Shape, sizeOf } from '../../shape.js';
import { Tensor } from '../../tensor.js';

export type ReduceKind = 'sum' | 'max' | 'min' | 'prod';

function split(shape: Shape, dim: number) {
  return { outer: sizeOf(shape.slice(0, dim)), len: shape[dim], inner: sizeOf(shape.slice(dim + 1)) };
}

const init: Record<ReduceKind, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** Reduce one dim (kept as size 1). Loops o, r, i so both arrays are walked contiguously. */
function reduceOne(x: Tensor, dim: number, kind: ReduceKind, dtype: DType): Tensor {
  const { outer, len, inner } = split(x.shape, dim);
  const shape = [...x.shape];
  shape[dim] = 1;
  if (len === 0 && (kind === 'max' || kind === 'min')) {
    throw new Error(`${kind}: cannot reduce over a dim of size 0 (shape [${x.shape.join(', ')}], dim ${dim})`);
  }
  const out = arrayFor(dtype, outer * inner);
  const src = x.data;
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    if (kind === 'sum' || kind === 'prod' || len === 0) out.fill(init[kind], ob, ob + inner);
    else out.set(src.subarray(o * len * inner, o * len * inner + inner), ob);
    for (let r = kind === 'sum' || kind === 'prod' ? 0 : 1; r < len; r++) {
      const xb = (o * len + r) * inner;
      if (kind === 'sum') for (let i = 0; i < inner; i++) out[ob + i] += src[xb + i];
      else if (kind === 'prod') for (let i = 0; i < inner; i++) out[ob + i] *= src[xb + i];
      else if (kind === 'max') for (let i = 0; i < inner; i++) { const v = src[xb + i]; if (v > out[ob + i] || v !== v) out[ob + i] = v; }
      else for (let i = 0; i < inner; i++) { const v = src[xb + i]; if (v < out[ob + i] || v !== v) out[ob + i] = v; }
    }
  }
  return new Tensor(out, shape, dtype);
}

/**
 * Reduce over the given (normalized, sorted) dims; keepdim keeps them as size 1. Sums of int32
 * or bool give int32, as PyTorch's integer sums; float sums accumulate in float64 then round.
 */
export function reduce(x: Tensor, dims: readonly number[], kind: ReduceKind, keepdim: boolean): Tensor {
  const dtype: DType = x.dtype === 'bool' ? (kind === 'sum' || kind === 'prod' ? 'int32' : 'bool') : x.dtype;
  let t = x;
  const wide = x.dtype === 'float32' && (kind === 'sum' || kind === 'prod'); // read float32, accumulate in float64
  for (const d of dims) t = reduceOne(t, d, kind, wide ? 'float64' : dtype);
  if (wide && t !== x) t = new Tensor(Float32Array.from(t.data), t.shape, 'float32');
  if (dims.length === 0 && t === x) t = new Tensor(x.data.slice(), x.shape, dtype);
  const shape = keepdim ? t.shape : t.shape.filter((_, i) => !dims.includes(i));
  return new Tensor(t.data, shape, t.dtype);
}

/** Index of the largest (or smallest) value along dim; first one wins ties; NaN counts as largest. */
export function argReduce(x: Tensor, dim: number, largest: boolean, keepdim: boolean): Tensor {
  const { outer, len, inner } = split(x.shape, dim);
  if (len === 0) throw new Error(`${largest ? 'argmax' : 'argmin'}: cannot reduce over a dim of size 0`);
  const out = new Int32Array(outer * inner);
  const src = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = src[o * len * inner + i];
      let at = 0;
      for (let r = 1; r < len && best === best; r++) {
        const v = src[(o * len + r) * inner + i];
        if (v !== v || (largest ? v > best : v < best)) { best = v; at = r; }
      }
      out[o * inner + i] = at;
    }
  }
  const shape = [...x.shape];
  if (keepdim) shape[dim] = 1;
  else shape.splice(dim, 1);
  return new Tensor(out, shape, 'int32');
}

/** Sum a broadcast gradient back to the operand's shape: over leading dims and dims that were 1. */
export function sumTo(grad: Tensor, shape: Shape): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < grad.ndim; i++) if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) dims.push(i);
  const summed = reduce(grad, dims, 'sum', true);
  return new Tensor(summed.data, shape, summed.dtype);
}
