// Max pooling over contiguous float32 [inH, inW] planes, forward and backward, with the js kernel's
// exact semantics (src/tensor/kernels/js/im2col.ts). Pointers are byte offsets into the module's
// memory; argmax is i32, one per output: the flat index in its plane of the input that won.
// The rule: a window's first valid tap (row-major order) is taken, and a later tap replaces it
// when v > best or v is NaN, so the first maximum wins ties and the last NaN wins; padding never
// does (−∞ and argmax −1 when a window has no valid tap). The rule is applied with compares and
// selects, never branches: on random data a branch per tap mispredicts once per window or more.
// Four outputs of a row go together wherever all their columns are inside the plane.

/** The rule for a later tap, on four lanes: v > best or v is NaN. */
// @ts-ignore: decorator
@inline function beats4(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
}

/** First tap k ≥ 0 of a window starting at s (dilation d) inside the input: ⌈−s/d⌉ when s < 0 (no division for d = 1). */
// @ts-ignore: decorator
@inline function firstTap(s: i32, d: i32, kernel: i32): i32 {
  return s >= 0 ? 0 : min(kernel, d == 1 ? -s : (d - 1 - s) / d);
}

/** One past the last tap k < kernel with s + k·d < size; 0 when there is none. */
// @ts-ignore: decorator
@inline function endTap(s: i32, d: i32, kernel: i32, size: i32): i32 {
  const n = size - 1 - s; // the last k has k·d ≤ n
  return n < 0 ? 0 : min(kernel, (d == 1 ? n : n / d) + 1);
}

/**
 * Floats a, a + stride, a + 2·stride, a + 3·stride (in floats). Stride 2 loads 8 floats and keeps
 * the even ones: the 8th lies one past the last wanted, still inside the module's buffers (x is
 * followed by out and argmax), and is dropped.
 */
// @ts-ignore: decorator
@inline function load4(a: usize, stride: i32): v128 {
  if (stride == 1) return v128.load(a);
  if (stride == 2) return v128.shuffle<f32>(v128.load(a), v128.load(a, 16), 0, 2, 4, 6);
  const step = <usize>stride << 2;
  let v = v128.load32_zero(a);
  v = f32x4.replace_lane(v, 1, load<f32>(a + step));
  v = f32x4.replace_lane(v, 2, load<f32>(a + 2 * step));
  return f32x4.replace_lane(v, 3, load<f32>(a + 3 * step));
}

/**
 * One window (rows kiLo … kiHi, columns clipped here) starting at (h0, w0): its max and argmax, in
 * lane 0 of v128 compares and bitselects (V8 turns a scalar f32 select into a branch).
 */
// @ts-ignore: decorator
@inline function window1(plane: usize, out: usize, argmax: usize, h0: i32, w0: i32, kiLo: i32, kiHi: i32, inW: i32, kW: i32, dH: i32, dW: i32): void {
  const kjLo = firstTap(w0, dW, kW), kjHi = endTap(w0, dW, kW, inW);
  if (kiLo >= kiHi || kjLo >= kjHi) {
    store<f32>(out, -Infinity);
    store<i32>(argmax, -1);
    return;
  }
  let i = (h0 + kiLo * dH) * inW + w0 + kjLo * dW; // the first valid tap is taken
  let best = v128.load32_zero(plane + (<usize>i << 2)), at = i32x4.splat(i);
  for (let ki = kiLo; ki < kiHi; ki++) {
    const r = (h0 + ki * dH) * inW + w0;
    for (let kj = ki == kiLo ? kjLo + 1 : kjLo; kj < kjHi; kj++) {
      i = r + kj * dW;
      const v = v128.load32_zero(plane + (<usize>i << 2));
      const take = beats4(v, best);
      best = v128.bitselect(v, best, take);
      at = v128.bitselect(i32x4.splat(i), at, take);
    }
  }
  v128.store32_lane(out, best, 0);
  v128.store32_lane(argmax, at, 0);
}

/** Four windows side by side (columns w0 + l·sW + kj·dW, all inside the plane), rows kiLo … kiHi (kiLo < kiHi). */
// @ts-ignore: decorator
@inline function window4(plane: usize, out: usize, argmax: usize, h0: i32, w0: i32, kiLo: i32, kiHi: i32, inW: i32, kW: i32, sW: i32, dH: i32, dW: i32): void {
  const lanes = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sW)); // the four windows' column offsets
  let i = (h0 + kiLo * dH) * inW + w0;
  let best = load4(plane + (<usize>i << 2), sW), at = i32x4.add(i32x4.splat(i), lanes);
  for (let ki = kiLo; ki < kiHi; ki++) {
    const r = (h0 + ki * dH) * inW + w0;
    for (let kj = ki == kiLo ? 1 : 0; kj < kW; kj++) {
      i = r + kj * dW;
      const v = load4(plane + (<usize>i << 2), sW);
      const take = beats4(v, best);
      best = v128.bitselect(v, best, take);
      at = v128.bitselect(i32x4.add(i32x4.splat(i), lanes), at, take);
    }
  }
  v128.store(out, best);
  v128.store(argmax, at);
}

/**
 * The common case, 2×2 windows with stride 2 and no padding or dilation, every window inside the
 * plane: four outputs read columns 2·ow … 2·ow + 7 of both rows once, evens are kj = 0, odds kj = 1
 * (window4 would load each tap's 8 floats apart: twice the loads).
 */
function maxPool2x2(x: usize, out: usize, argmax: usize, planes: i32, inH: i32, inW: i32, outH: i32, outW: i32): void {
  const lanes = i32x4(0, 2, 4, 6);
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * inH * inW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const base = 2 * oh * inW; // flat index of the window row 2·oh
      const r0 = plane + (<usize>base << 2), r1 = r0 + (<usize>inW << 2);
      let ow = 0;
      for (; ow + 4 <= outW; ow += 4, o += 16) {
        const c = <usize>ow << 3;
        const a0 = v128.load(r0 + c), a1 = v128.load(r0 + c, 16), b0 = v128.load(r1 + c), b1 = v128.load(r1 + c, 16);
        const i00 = i32x4.add(i32x4.splat(base + 2 * ow), lanes);
        // taps in row-major window order: (0, 0) is taken, then (0, 1), (1, 0), (1, 1) compete
        let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), at = i00;
        let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7), take = beats4(v, best);
        best = v128.bitselect(v, best, take);
        at = v128.bitselect(i32x4.add(i00, i32x4.splat(1)), at, take);
        v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        take = beats4(v, best);
        best = v128.bitselect(v, best, take);
        at = v128.bitselect(i32x4.add(i00, i32x4.splat(inW)), at, take);
        v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        take = beats4(v, best);
        best = v128.bitselect(v, best, take);
        at = v128.bitselect(i32x4.add(i00, i32x4.splat(inW + 1)), at, take);
        v128.store(out + o, best);
        v128.store(argmax + o, at);
      }
      for (; ow < outW; ow++, o += 4) window1(plane, out + o, argmax + o, 2 * oh, 2 * ow, 0, 2, inW, 2, 1, 1);
    }
  }
}

/** out = max over each window, argmax = its flat index in the plane (the js kernel's rule, above). */
export function maxPool2d(
  x: usize, out: usize, argmax: usize, planes: i32,
  inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
): void {
  if (kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 && dH == 1 && dW == 1 && 2 * outH <= inH && 2 * outW <= inW) {
    maxPool2x2(x, out, argmax, planes, inH, inW, outH, outW);
    return;
  }
  // outputs [owIn, owEnd) have every column inside: ow·sW − pW ≥ 0 and ow·sW − pW + (kW − 1)·dW ≤ inW − 1
  const owIn = min(outW, (pW + sW - 1) / sW);
  const last = inW - 1 + pW - (kW - 1) * dW;
  const owEnd = last < 0 ? owIn : max(owIn, min(outW, last / sW + 1));
  let o: usize = 0; // byte offset of the output, in out and argmax alike
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * inH * inW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * sH - pH;
      const kiLo = firstTap(h0, dH, kH), kiHi = endTap(h0, dH, kH, inH);
      let ow = 0;
      for (; ow < outW && (ow < owIn || kiLo >= kiHi); ow++, o += 4) window1(plane, out + o, argmax + o, h0, ow * sW - pW, kiLo, kiHi, inW, kW, dH, dW);
      for (; ow + 4 <= owEnd; ow += 4, o += 16) window4(plane, out + o, argmax + o, h0, ow * sW - pW, kiLo, kiHi, inW, kW, sW, dH, dW);
      for (; ow < outW; ow++, o += 4) window1(plane, out + o, argmax + o, h0, ow * sW - pW, kiLo, kiHi, inW, kW, dH, dW);
    }
  }
}

/** dx[p, argmax] += dy over the outputs in order (argmax −1: no input won); L = outH·outW, P = inH·inW. */
export function maxPool2dBackward(dy: usize, argmax: usize, dx: usize, planes: i32, L: i32, P: i32): void {
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * P) << 2);
    for (let i = 0; i < L; i++, o += 4) {
      const at = load<i32>(argmax + o);
      if (at < 0) continue;
      const d = plane + (<usize>at << 2);
      store<f32>(d, load<f32>(d) + load<f32>(dy + o));
    }
  }
}
