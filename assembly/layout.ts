// Strided copies (permute, expand, slice) and their adjoint writes (pad, cat), as the js kernels of
// src/tensor/kernels/js/layout.ts: one last-dim run at a time, the leading dims walked as an
// odometer in row-major order. Pointers are byte offsets into the module's memory; `dims` holds
// rank i32 sizes, then rank i32 strides (in floats), then rank i32 of scratch for the odometer.
// `strided` points at the float of index (0, …, 0); `dense` at the row-major array.

/** dst[j] = src[j·stride] for j < n: v128 copies for stride 1, a splat for stride 0. */
// @ts-ignore: decorator
@inline function gatherRun(dst: usize, src: usize, n: i32, stride: i32): void {
  const bytes = <usize>n << 2;
  let b: usize = 0;
  if (stride == 1) {
    for (; b + 64 <= bytes; b += 64) {
      v128.store(dst + b, v128.load(src + b));
      v128.store(dst + b, v128.load(src + b, 16), 16);
      v128.store(dst + b, v128.load(src + b, 32), 32);
      v128.store(dst + b, v128.load(src + b, 48), 48);
    }
    for (; b + 16 <= bytes; b += 16) v128.store(dst + b, v128.load(src + b));
    for (; b < bytes; b += 4) store<f32>(dst + b, load<f32>(src + b));
    return;
  }
  if (stride == 0) {
    const v = v128.load32_splat(src);
    for (; b + 16 <= bytes; b += 16) v128.store(dst + b, v);
    const x = load<f32>(src);
    for (; b < bytes; b += 4) store<f32>(dst + b, x);
    return;
  }
  const step = <usize>stride << 2;
  let s = src;
  for (; b < bytes; b += 4, s += step) store<f32>(dst + b, load<f32>(s));
}

/** dst[j·stride] = src[j] for j < n, in j order (with stride 0 the last write stays, as in js). */
// @ts-ignore: decorator
@inline function scatterRun(dst: usize, src: usize, n: i32, stride: i32): void {
  if (stride == 1) {
    gatherRun(dst, src, n, 1);
    return;
  }
  const bytes = <usize>n << 2;
  const step = <usize>stride << 2;
  let d = dst;
  for (let b: usize = 0; b < bytes; b += 4, d += step) store<f32>(d, load<f32>(src + b));
}

/**
 * Walks the rank dims of `dims` one last-dim run at a time: the run of dense floats at `o` and of
 * strided floats at `s`, copied one way (scatter = 0: dense[o] = strided[s]) or the other.
 */
// @ts-ignore: decorator
@inline function walk(strided: usize, dense: usize, dims: usize, rank: i32, scatter: bool): void {
  const strides = dims + (<usize>rank << 2), idx = strides + (<usize>rank << 2);
  let n: i32 = 1;
  for (let d = 0; d < rank; d++) {
    n *= load<i32>(dims + (<usize>d << 2));
    store<i32>(idx + (<usize>d << 2), 0);
  }
  if (n == 0) return;
  const last = <usize>(rank - 1) << 2;
  const inner = load<i32>(dims + last), si = load<i32>(strides + last);
  const runBytes = <usize>inner << 2;
  let s = strided, o = dense;
  const end = dense + (<usize>n << 2);
  while (o < end) {
    if (scatter) scatterRun(s, o, inner, si);
    else gatherRun(o, s, inner, si);
    o += runBytes;
    // next index of the leading dims: s moves by stride_d, back by stride_d·shape_d on a wrap
    for (let d = rank - 2; d >= 0; d--) {
      const at = <usize>d << 2;
      const i = load<i32>(idx + at) + 1;
      const st = <usize>load<i32>(strides + at) << 2;
      if (i < load<i32>(dims + at)) {
        store<i32>(idx + at, i);
        s += st;
        break;
      }
      store<i32>(idx + at, 0);
      s -= st * <usize>(i - 1);
    }
  }
}

/** out[i₀, …, iₙ] = src[Σ i_d·strides[d]] over the shape in `dims`. */
export function stridedCopy(src: usize, out: usize, dims: usize, rank: i32): void {
  walk(src, out, dims, rank, false);
}

/** out[Σ i_d·strides[d]] = src[i₀, …, iₙ], in row-major order of i. */
export function stridedScatter(src: usize, out: usize, dims: usize, rank: i32): void {
  walk(out, src, dims, rank, true);
}
