// im2col and its adjoint col2im for conv2d, over contiguous float32 [inH, inW] planes. Pointers
// are byte offsets into the module's memory; the geometry is WindowGeometry of
// src/tensor/kernels/types.ts, one i32 per field. Each col row is one kernel offset (ki, kj) of one
// plane: outH·outW floats, row k = ki·kW + kj. The kernels take a range [k0, k1) of those rows, so
// that a plane whose col exceeds a chunk of memory can go a few rows at a time; with whole planes
// (k0 = 0, k1 = kH·kW) the rows of plane p follow those of plane p − 1, as in the js kernel.
// Stride 1 (the common case) moves four floats per v128; stride 2 deinterleaves 8 floats into 4.

/** First output o < out whose input o·stride − pad + offset is ≥ 0: ⌈(pad − offset)/stride⌉, clamped to [0, out]. */
// @ts-ignore: decorator
@inline function firstValid(out: i32, stride: i32, pad: i32, offset: i32): i32 {
  const n = pad - offset;
  return n <= 0 ? 0 : min(out, (n + stride - 1) / stride);
}

/** One past the last output o < out whose input o·stride − pad + offset is < size; at least lo. */
// @ts-ignore: decorator
@inline function endValid(size: i32, out: i32, stride: i32, pad: i32, offset: i32, lo: i32): i32 {
  const n = size - 1 + pad - offset; // the last o has o·stride ≤ n
  return n < 0 ? lo : max(lo, min(out, n / stride + 1));
}

/** dst[0, n) = 0, four floats per store; the last store may overlap the one before it. */
// @ts-ignore: decorator
@inline function zeroFloats(dst: usize, n: i32): void {
  const bytes = <usize>n << 2;
  if (n < 4) {
    for (let b: usize = 0; b < bytes; b += 4) store<f32>(dst + b, 0);
    return;
  }
  const zero = f32x4.splat(0);
  for (let b: usize = 0; b < bytes - 16; b += 16) v128.store(dst + b, zero);
  v128.store(dst + bytes - 16, zero);
}

/** dst[i] = src[i·stride] for i < n: v128 copies for stride 1, a deinterleave for stride 2. */
// @ts-ignore: decorator
@inline function gather(dst: usize, src: usize, n: i32, stride: i32): void {
  const bytes = <usize>n << 2;
  if (stride == 1 && n >= 4) {
    // dst and src never overlap, so the last vector may rewrite floats the loop already copied
    for (let b: usize = 0; b < bytes - 16; b += 16) v128.store(dst + b, v128.load(src + b));
    v128.store(dst + bytes - 16, v128.load(src + bytes - 16));
    return;
  }
  let i = 0;
  if (stride == 2) {
    // floats 2i … 2i + 7 hold the 4 wanted in their even lanes; i + 4 < n keeps 2i + 7 inside the row
    for (; i + 4 < n; i += 4) {
      const at = src + (<usize>i << 3);
      v128.store(dst + (<usize>i << 2), v128.shuffle<f32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6));
    }
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + <usize>(i * stride) * 4));
}

/** dst[i·stride] += src[i] for i < n, in i order; four lanes at a time for stride 1. */
// @ts-ignore: decorator
@inline function scatterAdd(dst: usize, src: usize, n: i32, stride: i32): void {
  let i = 0;
  if (stride == 1) {
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      v128.store(dst + p, f32x4.add(v128.load(dst + p), v128.load(src + p)));
    }
  }
  for (; i < n; i++) {
    const d = dst + <usize>(i * stride) * 4;
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>i << 2)));
  }
}

/**
 * col[p, k, oh, ow] = x[p, oh·sH − pH + ki·dH, ow·sW − pW + kj·dW] (0 in the padding) for k in
 * [k0, k1), k = ki·kW + kj; col holds planes·(k1 − k0) rows of outH·outW floats.
 */
export function im2col(
  x: usize, col: usize, planes: i32, k0: i32, k1: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
): void {
  const rowBytes = <usize>(outH * outW) << 2;
  let row = col;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * inH * inW) << 2);
    for (let k = k0; k < k1; k++, row += rowBytes) {
      const offH = (k / kW) * dH, offW = (k % kW) * dW;
      const ohLo = firstValid(outH, sH, pH, offH), ohHi = endValid(inH, outH, sH, pH, offH, ohLo);
      const owLo = firstValid(outW, sW, pW, offW), owHi = endValid(inW, outW, sW, pW, offW, owLo);
      zeroFloats(row, ohLo * outW);
      for (let oh = ohLo; oh < ohHi; oh++) {
        const dst = row + (<usize>(oh * outW) << 2);
        // input (oh·sH − pH + offH, owLo·sW − pW + offW): both ≥ 0 inside the valid range
        const src = plane + (<usize>((oh * sH - pH + offH) * inW + owLo * sW - pW + offW) << 2);
        zeroFloats(dst, owLo);
        gather(dst + (<usize>owLo << 2), src, owHi - owLo, sW);
        zeroFloats(dst + (<usize>owHi << 2), outW - owHi);
      }
      zeroFloats(row + (<usize>(ohHi * outW) << 2), (outH - ohHi) * outW);
    }
  }
}

/**
 * The adjoint of im2col over the same rows: dx[p, window] += col[p, k, oh, ow], in k order, so
 * that each dx float receives its terms in the order of the js kernel (one per k at most).
 */
export function col2im(
  col: usize, dx: usize, planes: i32, k0: i32, k1: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
): void {
  const rowBytes = <usize>(outH * outW) << 2;
  let row = col;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * inH * inW) << 2);
    for (let k = k0; k < k1; k++, row += rowBytes) {
      const offH = (k / kW) * dH, offW = (k % kW) * dW;
      const ohLo = firstValid(outH, sH, pH, offH), ohHi = endValid(inH, outH, sH, pH, offH, ohLo);
      const owLo = firstValid(outW, sW, pW, offW), owHi = endValid(inW, outW, sW, pW, offW, owLo);
      for (let oh = ohLo; oh < ohHi; oh++) {
        const src = row + (<usize>(oh * outW + owLo) << 2);
        const dst = plane + (<usize>((oh * sH - pH + offH) * inW + owLo * sW - pW + offW) << 2);
        scatterAdd(dst, src, owHi - owLo, sW);
      }
    }
  }
}
