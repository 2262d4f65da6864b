// Average pooling over contiguous float32 [inH, inW] planes, forward and backward, with the js
// kernels' exact arithmetic (src/tensor/kernels/js/im2col.ts): each window is summed in float64 in
// row-major order and divided in float64, as js does with its numbers, so the float32 results are
// the same bits. Pointers are byte offsets into the module's memory. Dilation does not apply.

/** Output o's window along one axis: start and end clipped to [0, size); its length clipped to [−pad, size + pad) (ceil mode can overhang), as js's avgWindows. */
// @ts-ignore: decorator
@inline function windowStart(o: i32, stride: i32, pad: i32): i32 {
  return max(o * stride - pad, 0);
}
// @ts-ignore: decorator
@inline function windowEnd(o: i32, stride: i32, pad: i32, kernel: i32, size: i32): i32 {
  return min(o * stride - pad + kernel, size);
}
// @ts-ignore: decorator
@inline function paddedLength(o: i32, stride: i32, pad: i32, kernel: i32, size: i32): i32 {
  const s = o * stride - pad;
  return min(s + kernel, size + pad) - s;
}

/** The divisor of window (oh, ow), as PyTorch: the override, the padded window, or the inputs it covers. */
// @ts-ignore: decorator
@inline function divisorOf(
  oh: i32, ow: i32, h0: i32, h1: i32, w0: i32, w1: i32, inH: i32, inW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  countIncludePad: bool, hasOverride: bool, divisor: f64,
): f64 {
  if (hasOverride) return divisor;
  if (countIncludePad) return <f64>(paddedLength(oh, sH, pH, kH, inH) * paddedLength(ow, sW, pW, kW, inW));
  return <f64>((h1 - h0) * (w1 - w0));
}

/** out = Σ window / divisor, the sum in float64 in row-major order (0/0 = NaN for an empty window, as js). */
export function avgPool2d(
  x: usize, out: usize, planes: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  countIncludePad: bool, hasOverride: bool, divisor: f64,
): void {
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * inH * inW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = windowStart(oh, sH, pH), h1 = windowEnd(oh, sH, pH, kH, inH);
      for (let ow = 0; ow < outW; ow++, o += 4) {
        const w0 = windowStart(ow, sW, pW), w1 = windowEnd(ow, sW, pW, kW, inW);
        let sum: f64 = 0;
        for (let ih = h0; ih < h1; ih++) {
          const r = plane + (<usize>(ih * inW) << 2);
          for (let iw = w0; iw < w1; iw++) sum += <f64>load<f32>(r + (<usize>iw << 2));
        }
        const div = divisorOf(oh, ow, h0, h1, w0, w1, inH, inW, kH, kW, sH, sW, pH, pW, countIncludePad, hasOverride, divisor);
        store<f32>(out + o, <f32>(sum / div));
      }
    }
  }
}

/** dx[window] += dy / divisor (the share in float64, each add rounded to float32, as js). */
export function avgPool2dBackward(
  dy: usize, dx: usize, planes: i32, inH: i32, inW: i32, outH: i32, outW: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
  countIncludePad: bool, hasOverride: bool, divisor: f64,
): void {
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * inH * inW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const h0 = windowStart(oh, sH, pH), h1 = windowEnd(oh, sH, pH, kH, inH);
      for (let ow = 0; ow < outW; ow++, o += 4) {
        const w0 = windowStart(ow, sW, pW), w1 = windowEnd(ow, sW, pW, kW, inW);
        const div = divisorOf(oh, ow, h0, h1, w0, w1, inH, inW, kH, kW, sH, sW, pH, pW, countIncludePad, hasOverride, divisor);
        const share = <f64>load<f32>(dy + o) / div;
        for (let ih = h0; ih < h1; ih++) {
          const r = plane + (<usize>(ih * inW) << 2);
          for (let iw = w0; iw < w1; iw++) {
            const d = r + (<usize>iw << 2);
            store<f32>(d, <f32>(<f64>load<f32>(d) + share));
          }
        }
      }
    }
  }
}
