// Layout kernels: strided copies that materialise permute, expand, slice; and concatenation.
import { arrayFor } from '../../dtype.js';
import { type Shape, sizeOf, stridesOf } from '../../shape.js';
import { Tensor } from '../../tensor.js';

/**
 * out[i₀, …, iₙ] = src[offset + Σ_d i_d · strides[d]]: one loop serves transpose/permute
 * (permuted strides), expand (stride 0 on broadcast dims) and slice (offset and step).
 */
export function stridedCopy(x: Tensor, outShape: Shape, strides: readonly number[], offset = 0): Tensor {
  const n = sizeOf(outShape);
  const out = new Tensor(arrayFor(x.dtype, n), outShape, x.dtype);
  const src = x.data, dst = out.data;
  const nd = outShape.length;
  if (n === 0) return out;
  if (nd === 0) {
    dst[0] = src[offset];
    return out;
  }
  const inner = outShape[nd - 1];
  const si = strides[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let so = offset;
  for (let o = 0; o < n; o += inner) {
    if (si === 1) dst.set(src.subarray(so, so + inner), o);
    else for (let j = 0; j < inner; j++) dst[o + j] = src[so + j * si];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      so += strides[d];
      if (idx[d] < outShape[d]) break;
      so -= strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** out = x with its dims reordered: out.shape[i] = x.shape[dims[i]]. */
export function permuteRaw(x: Tensor, dims: readonly number[]): Tensor {
  const st = stridesOf(x.shape);
  return stridedCopy(x, dims.map((d) => x.shape[d]), dims.map((d) => st[d]));
}

/** Materialise x broadcast to shape (shape already validated). */
export function expandRaw(x: Tensor, shape: Shape): Tensor {
  const own = stridesOf(x.shape);
  const offset = shape.length - x.ndim;
  const strides = shape.map((_, i) => (i < offset || x.shape[i - offset] === 1 ? 0 : own[i - offset]));
  return stridedCopy(x, shape, strides);
}

/** Concatenate along dim (shapes already validated to agree elsewhere). */
export function catRaw(tensors: readonly Tensor[], dim: number): Tensor {
  const first = tensors[0];
  const shape = [...first.shape];
  shape[dim] = tensors.reduce((s, t) => s + t.shape[dim], 0);
  const out = new Tensor(arrayFor(first.dtype, sizeOf(shape)), shape, first.dtype);
  const outer = sizeOf(shape.slice(0, dim));
  const inner = sizeOf(shape.slice(dim + 1));
  const rowOut = shape[dim] * inner;
  let col = 0;
  for (const t of tensors) {
    const chunk = t.shape[dim] * inner;
    const src = t.dtype === first.dtype ? t.data : Float64Array.from(t.data);
    for (let o = 0; o < outer; o++) out.data.set(src.subarray(o * chunk, (o + 1) * chunk), o * rowOut + col);
    col += chunk;
  }
  return out;
}
