// Row gathers and scatter-adds (indexSelect, embedding and their gradients), as the js kernels of
// src/tensor/kernels/js/layout.ts, over float32 arrays viewed as [outer, rows, inner]. Pointers
// are byte offsets into the module's memory; `index` holds `count` i32. The JS side copies in only
// the rows a call reads or adds into, so row index[r] sits at local row index[r] − base.

/** dst[0, n) = src[0, n): 16 floats per step, then 4 per v128, then the tail one by one. */
// @ts-ignore: decorator
@inline function copyRow(dst: usize, src: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let b: usize = 0;
  for (; b + 64 <= bytes; b += 64) {
    v128.store(dst + b, v128.load(src + b));
    v128.store(dst + b, v128.load(src + b, 16), 16);
    v128.store(dst + b, v128.load(src + b, 32), 32);
    v128.store(dst + b, v128.load(src + b, 48), 48);
  }
  for (; b + 16 <= bytes; b += 16) v128.store(dst + b, v128.load(src + b));
  for (; b < bytes; b += 4) store<f32>(dst + b, load<f32>(src + b));
}

/** dst[i] += src[i] for i < n: each lane is one float32 add, as js's, so the bits match js's. */
// @ts-ignore: decorator
@inline function addRow(dst: usize, src: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let b: usize = 0;
  for (; b + 32 <= bytes; b += 32) {
    v128.store(dst + b, f32x4.add(v128.load(dst + b), v128.load(src + b)));
    v128.store(dst + b, f32x4.add(v128.load(dst + b, 16), v128.load(src + b, 16)), 16);
  }
  for (; b + 16 <= bytes; b += 16) v128.store(dst + b, f32x4.add(v128.load(dst + b), v128.load(src + b)));
  for (; b < bytes; b += 4) store<f32>(dst + b, load<f32>(dst + b) + load<f32>(src + b));
}

/** out[o, r, :] = src[o, index[r] − base, :] for src [outer, len, inner] and out [outer, count, inner]. */
export function gatherRows(src: usize, outer: i32, len: i32, inner: i32, index: usize, count: i32, base: i32, out: usize): void {
  const rowBytes = <usize>inner << 2, planeBytes = <usize>len * rowBytes;
  let to = out;
  for (let o = 0; o < outer; o++) {
    const plane = src + <usize>o * planeBytes;
    for (let r = 0; r < count; r++, to += rowBytes) {
      copyRow(to, plane + <usize>(load<i32>(index + (<usize>r << 2)) - base) * rowBytes, inner);
    }
  }
}

/**
 * out[o, index[r] − base, :] += src[o, r, :] for src [outer, count, inner] and out [outer, len, inner],
 * in r order (repeated indices add up as in js), rows whose index[r] is `skip` left out.
 */
export function scatterAddRows(src: usize, outer: i32, len: i32, inner: i32, index: usize, count: i32, base: i32, skip: i32, out: usize): void {
  const rowBytes = <usize>inner << 2, planeBytes = <usize>len * rowBytes;
  let from = src;
  for (let o = 0; o < outer; o++) {
    const plane = out + <usize>o * planeBytes;
    for (let r = 0; r < count; r++, from += rowBytes) {
      const i = load<i32>(index + (<usize>r << 2));
      if (i != skip) addRow(plane + <usize>(i - base) * rowBytes, from, inner);
    }
  }
}
