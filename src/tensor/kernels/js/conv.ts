// conv2d and its gradient as the reference composes them: im2col of every image, then one batched
// product per (image, group) with the js matmul. The columns are not kept between forward and
// backward: the backward makes them again from x (K = C/G·kH·kW times the input's size saved).
import type { Conv2dArgs, FloatArray } from '../types.js';
import { im2col, col2im } from './im2col.js';
import { matmul } from './matmul.js';

/** The sizes of a convolution: N images, G groups of Og output and Cg input channels, K = Cg·kH·kW, L = outH·outW. */
export function convSizes(a: Conv2dArgs) {
  const G = a.groups, g = a.window;
  const Cg = a.channels / G, Og = a.outChannels / G;
  return { N: a.batch, C: a.channels, O: a.outChannels, G, Cg, Og, K: Cg * g.kernelH * g.kernelW, L: g.outH * g.outW, P: g.inH * g.inW };
}

const like = (a: FloatArray, n: number): FloatArray => new (a.constructor as { new (n: number): FloatArray })(n);

/** Offsets 0, step, 2·step, … of the N·G (image, group) matrices, or of the G weight matrices when `perGroup`. */
function offsets(N: number, G: number, step: number, perGroup = false): Int32Array {
  return Int32Array.from({ length: N * G }, (_, i) => (perGroup ? i % G : i) * step);
}

/** The columns of every image: col [N, G, K, L]. */
function columns(a: Conv2dArgs): FloatArray {
  const { N, C, K, L, G } = convSizes(a);
  const col = like(a.x, N * G * K * L);
  im2col(a.x, col, N * C, a.window);
  return col;
}

export function conv2d(a: Conv2dArgs, bias: FloatArray | null, y: FloatArray): void {
  const { N, O, G, Og, K, L } = convSizes(a);
  // Y[n, g] = W_g · col[n, g]
  matmul({
    a: a.weight, b: columns(a), out: y, batch: N * G, m: Og, n: L, k: K, transA: false, transB: false,
    aOffsets: offsets(N, G, Og * K, true), bOffsets: offsets(N, G, K * L),
  });
  if (bias) for (let r = 0; r < N * O; r++) for (let l = 0, o = r % O, at = r * L; l < L; l++) y[at + l] += bias[o];
}

export function conv2dBackward(a: Conv2dArgs, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null): void {
  const { N, C, O, G, Og, K, L } = convSizes(a);
  if (dx) {
    // dcol[n, g] = W_gᵀ · dY[n, g], then dx = col2im(dcol)
    const dcol = like(dy, N * G * K * L);
    matmul({
      a: a.weight, b: dy, out: dcol, batch: N * G, m: K, n: L, k: Og, transA: true, transB: false,
      aOffsets: offsets(N, G, Og * K, true), bOffsets: offsets(N, G, Og * L),
    });
    dx.fill(0, 0, N * C * a.window.inH * a.window.inW);
    col2im(dcol, dx, N * C, a.window);
  }
  if (dw) {
    // dW_g = Σ_n dY[n, g] · col[n, g]ᵀ, summed over n in float64
    const perImage = like(dy, N * O * K);
    matmul({
      a: dy, b: columns(a), out: perImage, batch: N * G, m: Og, n: K, k: L, transA: false, transB: true,
      aOffsets: offsets(N, G, Og * L), bOffsets: offsets(N, G, K * L),
    });
    const sum = new Float64Array(O * K);
    for (let n = 0; n < N; n++) for (let j = 0, at = n * O * K; j < O * K; j++) sum[j] += perImage[at + j];
    dw.set(sum);
  }
}
