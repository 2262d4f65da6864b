// Layout kernels: strided copies (permute, expand, slice), their adjoint writes (pad, cat), and
// row gathers / scatter-adds (indexSelect, embedding and their gradients).
import type { TypedArray } from '../../dtype.js';

/** Walk the index space of `shape` one last-dim run at a time, calling run(o, s) with the flat
 *  position o in shape and the strided position s. */
function forEachRun(shape: readonly number[], strides: readonly number[], offset: number, run: (o: number, s: number, inner: number) => void): void {
  const nd = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  if (n === 0) return;
  if (nd === 0) {
    run(0, offset, 1);
    return;
  }
  const inner = shape[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let s = offset;
  for (let o = 0; o < n; o += inner) {
    run(o, s, inner);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      s += strides[d];
      if (idx[d] < shape[d]) break;
      s -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** out[i₀, …, iₙ] = src[offset + Σ_d i_d · strides[d]]. */
export function stridedCopy(src: TypedArray, offset: number, strides: readonly number[], outShape: readonly number[], out: TypedArray): void {
  const si = strides.length ? strides[strides.length - 1] : 1;
  forEachRun(outShape, strides, offset, (o, s, inner) => {
    if (si === 1) out.set(src.subarray(s, s + inner), o);
    else for (let j = 0; j < inner; j++) out[o + j] = src[s + j * si];
  });
}

/** out[offset + Σ_d i_d · strides[d]] = src[i₀, …, iₙ]. */
export function stridedScatter(src: TypedArray, shape: readonly number[], out: TypedArray, offset: number, strides: readonly number[]): void {
  const si = strides.length ? strides[strides.length - 1] : 1;
  forEachRun(shape, strides, offset, (o, s, inner) => {
    if (si === 1) out.set(src.subarray(o, o + inner), s);
    else for (let j = 0; j < inner; j++) out[s + j * si] = src[o + j];
  });
}

export function gatherRows(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray): void {
  const count = index.length;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < count; r++) {
      const from = (o * len + index[r]) * inner;
      out.set(src.subarray(from, from + inner), (o * count + r) * inner);
    }
  }
}

export function scatterAddRows(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray, skip: number): void {
  const count = index.length;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < count; r++) {
      if (index[r] === skip) continue;
      const to = (o * len + index[r]) * inner, from = (o * count + r) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += src[from + i];
    }
  }
}
