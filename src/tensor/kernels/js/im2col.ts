// Sliding-window kernels over image planes: im2col / col2im for conv2d, max and average pooling.
// Kernels only compute: shapes and arguments are checked by the ops. Each loop works on `planes`
// contiguous [H, W] planes (N·C of them for an NCHW tensor).
import type { AvgPoolMode, FloatArray, WindowGeometry } from '../types.js';

/** The outputs o in [lo, hi) whose input index o·stride − pad + offset lies inside [0, size). */
function validRange(size: number, out: number, stride: number, pad: number, offset: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - offset) / stride));
  const hi = Math.min(out, Math.floor((size - 1 + pad - offset) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * col[p, ki, kj, oh, ow] = x[p, oh·sH − pH + ki·dH, ow·sW − pW + kj·dW] (0 in the padding):
 * each plane p becomes kernelH·kernelW rows of outH·outW columns, so a plane's rows follow its
 * channel's and conv2d is one matmul W [O, C·kH·kW] · col [C·kH·kW, outH·outW] per image.
 */
export function im2col(x: FloatArray, col: FloatArray, planes: number, g: WindowGeometry): void {
  const { inH, inW, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const L = outH * outW;
  let row = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * inH * inW;
    for (let ki = 0; ki < kernelH; ki++) {
      const [ohLo, ohHi] = validRange(inH, outH, strideH, padH, ki * dilationH);
      for (let kj = 0; kj < kernelW; kj++, row += L) {
        const [owLo, owHi] = validRange(inW, outW, strideW, padW, kj * dilationW);
        col.fill(0, row, row + ohLo * outW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = row + oh * outW;
          const src = plane + (oh * strideH - padH + ki * dilationH) * inW - padW + kj * dilationW;
          for (let ow = 0; ow < owLo; ow++) col[dst + ow] = 0;
          for (let ow = owLo; ow < owHi; ow++) col[dst + ow] = x[src + ow * strideW];
          for (let ow = owHi; ow < outW; ow++) col[dst + ow] = 0;
        }
        col.fill(0, row + ohHi * outW, row + L);
      }
    }
  }
}

/** The adjoint of im2col: dx[p, ih, iw] += every col entry that was read from it. dx starts at 0. */
export function col2im(col: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry): void {
  const { inH, inW, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const L = outH * outW;
  let row = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * inH * inW;
    for (let ki = 0; ki < kernelH; ki++) {
      const [ohLo, ohHi] = validRange(inH, outH, strideH, padH, ki * dilationH);
      for (let kj = 0; kj < kernelW; kj++, row += L) {
        const [owLo, owHi] = validRange(inW, outW, strideW, padW, kj * dilationW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const srcRow = row + oh * outW;
          const dst = plane + (oh * strideH - padH + ki * dilationH) * inW - padW + kj * dilationW;
          for (let ow = owLo; ow < owHi; ow++) dx[dst + ow * strideW] += col[srcRow + ow];
        }
      }
    }
  }
}

/**
 * out = max over each window (padding never wins), argmax = the flat index in its plane of the
 * first maximum in row-major window order; a NaN wins and propagates, as PyTorch.
 */
export function maxPool2d(x: FloatArray, out: FloatArray, argmax: Int32Array, planes: number, g: WindowGeometry): void {
  const { inH, inW, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = ow * strideW - padW;
        let best = -Infinity, at = -1;
        for (let ki = 0; ki < kernelH; ki++) {
          const ih = h0 + ki * dilationH;
          if (ih < 0 || ih >= inH) continue;
          for (let kj = 0; kj < kernelW; kj++) {
            const iw = w0 + kj * dilationW;
            if (iw < 0 || iw >= inW) continue;
            const v = x[plane + ih * inW + iw];
            if (v > best || v !== v || at < 0) {
              best = v;
              at = ih * inW + iw;
            }
          }
        }
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
}

/** dx[argmax] += dy: each output's gradient goes to the input that won its window. dx starts at 0. */
export function maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray, planes: number, g: WindowGeometry): void {
  const L = g.outH * g.outW, plane = g.inH * g.inW;
  for (let p = 0, o = 0; p < planes; p++) {
    const base = p * plane;
    for (let i = 0; i < L; i++, o++) if (argmax[o] >= 0) dx[base + argmax[o]] += dy[o];
  }
}



/**
 * Each output's window along one axis clipped to the input, and its divisor, exactly as PyTorch:
 * the window is first clipped to [−pad, size + pad) (ceil mode can overhang) and that length
 * counts when padding does. Computed once per axis, shared by every plane and row.
 */
function avgWindows(out: number, stride: number, pad: number, kernel: number, size: number) {
  const start = new Int32Array(out), end = new Int32Array(out), padded = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const s = o * stride - pad, e = Math.min(s + kernel, size + pad);
    padded[o] = e - s;
    start[o] = Math.max(s, 0);
    end[o] = Math.min(e, size);
  }
  return { start, end, padded };
}

/** Run body(plane offset, output index, h0, h1, w0, w1, divisor) for every pooling window. */
function forEachAvgWindow(planes: number, g: WindowGeometry, mode: AvgPoolMode, body: (at: number, o: number, h0: number, h1: number, w0: number, w1: number, div: number) => void): void {
  const h = avgWindows(g.outH, g.strideH, g.padH, g.kernelH, g.inH);
  const w = avgWindows(g.outW, g.strideW, g.padW, g.kernelW, g.inW);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const at = p * g.inH * g.inW;
    for (let oh = 0; oh < g.outH; oh++) {
      const h0 = h.start[oh], h1 = h.end[oh];
      for (let ow = 0; ow < g.outW; ow++, o++) {
        const w0 = w.start[ow], w1 = w.end[ow];
        const div = mode.divisorOverride ?? (mode.countIncludePad ? h.padded[oh] * w.padded[ow] : (h1 - h0) * (w1 - w0));
        body(at, o, h0, h1, w0, w1, div);
      }
    }
  }
}

/** out = Σ window / divisor. */
export function avgPool2d(x: FloatArray, out: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  const inW = g.inW;
  forEachAvgWindow(planes, g, mode, (at, o, h0, h1, w0, w1, div) => {
    let sum = 0;
    for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) sum += x[at + ih * inW + iw];
    out[o] = sum / div;
  });
}

/** dx[window] += dy / divisor. dx starts at 0. */
export function avgPool2dBackward(dy: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void {
  const inW = g.inW;
  forEachAvgWindow(planes, g, mode, (at, o, h0, h1, w0, w1, div) => {
    const share = dy[o] / div;
    for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[at + ih * inW + iw] += share;
  });
}
