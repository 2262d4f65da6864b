// conv2d, maxPool2d, avgPool2d: gradient rows through the shared helper, values worked out by hand,
// equality with a direct 7-loop convolution on random shapes, and the error messages.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, checkGradients, type GradRow } from '../helpers.js';

const F = tg.F;
const f64 = (data: number[] | number[][] | number[][][] | number[][][][]) => tg.tensor(data, { dtype: 'float64' });
const int = (min: number, max: number) => fc.integer({ min, max });

/** Shapes [x, w, b] for a conv with `groups`; the spatial size leaves room for the dilated kernel. */
const convShapes = (opts: { batch?: boolean; groups?: number; bias?: boolean; k?: number; dilation?: number } = {}) =>
  fc.tuple(int(1, 2), int(1, 2), int(1, 2), int(1, opts.k ?? 3), int(1, opts.k ?? 3), int(0, 3), int(0, 3)).map(([n, cg, og, kh, kw, dh, dw]) => {
    const G = opts.groups ?? 1, d = opts.dilation ?? 1;
    const H = d * (kh - 1) + 1 + dh, W = d * (kw - 1) + 1 + dw;
    const x = opts.batch === false ? [cg * G, H, W] : [n, cg * G, H, W];
    return [x, [og * G, cg, kh, kw], ...(opts.bias === false ? [] : [[og * G]])];
  });

const poolShapes = int(1, 2).chain((n) => fc.tuple(int(1, 2), int(2, 6), int(2, 6)).map(([c, h, w]) => [[n, c, h, w]]));

const rows: Record<string, GradRow> = {
  'conv2d': { shapes: convShapes(), fn: (x, w, b) => F.conv2d(x, w, b) },
  'conv2d (stride 2, padding 1)': { shapes: convShapes(), fn: (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }) },
  'conv2d (stride [1, 2], padding [2, 0])': { shapes: convShapes(), fn: (x, w, b) => F.conv2d(x, w, b, { stride: [1, 2], padding: [2, 0] }) },
  'conv2d (dilation 2)': { shapes: convShapes({ dilation: 2 }), fn: (x, w, b) => F.conv2d(x, w, b, { dilation: 2, padding: 1 }) },
  'conv2d (groups 2)': { shapes: convShapes({ groups: 2 }), fn: (x, w, b) => F.conv2d(x, w, b, { groups: 2 }) },
  'conv2d (depthwise, groups 3)': { shapes: convShapes({ groups: 3, bias: false }), fn: (x, w) => F.conv2d(x, w, null, { groups: 3, padding: 1 }) },
  'conv2d (no bias)': { shapes: convShapes({ bias: false }), fn: (x, w) => F.conv2d(x, w) },
  'conv2d (unbatched)': { shapes: convShapes({ batch: false }), fn: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }) },
  "conv2d (padding 'same', even kernel)": { shapes: convShapes({ k: 4 }), fn: (x, w, b) => F.conv2d(x, w, b, { padding: 'same' }) },
  'maxPool2d': { shapes: poolShapes, fn: (x) => F.maxPool2d(x, 2) },
  'maxPool2d (overlapping, stride 1)': { shapes: poolShapes, fn: (x) => F.maxPool2d(x, 2, 1) },
  'maxPool2d (kernel 3, stride 2, padding 1)': { shapes: poolShapes, fn: (x) => F.maxPool2d(x, 3, 2, { padding: 1 }) },
  'maxPool2d (unbatched, ceil mode)': { shapes: poolShapes.map(([s]) => [s.slice(1)]), fn: (x) => F.maxPool2d(x, 2, 2, { ceilMode: true }) },
  'avgPool2d': { shapes: poolShapes, fn: (x) => F.avgPool2d(x, 2) },
  'avgPool2d (kernel [2, 1], stride 1)': { shapes: poolShapes, fn: (x) => F.avgPool2d(x, [2, 1], 1) },
  'avgPool2d (padding 1, counting the padding)': { shapes: poolShapes, fn: (x) => F.avgPool2d(x, 3, 2, { padding: 1 }) },
  'avgPool2d (padding 1, not counting it, ceil mode)': { shapes: poolShapes, fn: (x) => F.avgPool2d(x, 3, 2, { padding: 1, countIncludePad: false, ceilMode: true }) },
};

describe('conv2d and pooling: gradcheck (float64, random shapes and values)', () => {
  for (const [name, row] of Object.entries(rows)) it(name, () => checkGradients(row));
});

describe('conv2d: values', () => {
  it('matches a 3×3 input and a 2×2 kernel worked out on paper, with its gradients', () => {
    const x = f64([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]).requiresGrad_();
    const w = f64([[[[1, 2], [3, 4]]]]).requiresGrad_();
    const b = f64([1]).requiresGrad_();
    const y = F.conv2d(x, w, b);
    // y[0,0] = 1·1 + 2·2 + 4·3 + 5·4 + 1 = 38, and so on
    expect(y.toArray()).to.deep.equal([[[[38, 48], [68, 78]]]]);
    y.sum().backward();
    expect(w.grad!.toArray()).to.deep.equal([[[[12, 16], [24, 28]]]]); // each weight sees the sum of the inputs it slides over
    expect(x.grad!.toArray()).to.deep.equal([[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]); // each input gets the weights that touch it
    expect(b.grad!.toArray()).to.deep.equal([4]);
  });

  it('pads with zeros and strides (ones kernel, stride 2, padding 1)', () => {
    const x = f64([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);
    // windows start at −1 and 1: {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
    expect(F.conv2d(x, tg.ones([1, 1, 2, 2], { dtype: 'float64' }), null, { stride: 2, padding: 1 }).toArray()).to.deep.equal([[[1, 5], [11, 28]]]);
  });

  it('equals a direct 7-loop convolution on random shapes, strides, paddings, dilations and groups', () => {
    const cases = fc.record({
      n: int(1, 2), g: int(1, 3), cg: int(1, 2), og: int(1, 2), kh: int(1, 3), kw: int(1, 3),
      s: fc.tuple(int(1, 3), int(1, 3)), p: fc.tuple(int(0, 2), int(0, 2)), d: fc.tuple(int(1, 2), int(1, 2)), extra: fc.tuple(int(0, 4), int(0, 4)),
    });
    fc.assert(fc.property(cases, ({ n, g, cg, og, kh, kw, s, p, d, extra }) => {
      const H = d[0] * (kh - 1) + 1 + extra[0], W = d[1] * (kw - 1) + 1 + extra[1];
      const x = tg.randn([n, g * cg, H, W], { dtype: 'float64' }), w = tg.randn([g * og, cg, kh, kw], { dtype: 'float64' });
      const b = tg.randn([g * og], { dtype: 'float64' });
      const got = F.conv2d(x, w, b, { stride: s, padding: p, dilation: d, groups: g });
      const want = naiveConv2d(x, w, b, s, p, d, g);
      expect(got.shape).to.deep.equal(want.shape);
      assertClose(got.data, want.data, 1e-12, 1e-12, 'conv2d');
    }), { numRuns: 40 });
  });

  it('runs in float32 and promotes a float32/float64 mix to float64', () => {
    const x = tg.randn([2, 3, 5, 5]), w = tg.randn([4, 3, 3, 3]);
    const y32 = F.conv2d(x, w, null, { padding: 1 });
    expect(y32.dtype).to.equal('float32');
    const y64 = F.conv2d(x.to('float64'), w);
    expect(y64.dtype).to.equal('float64');
    assertClose(naiveConv2d(x, w, null, [1, 1], [0, 0], [1, 1], 1).data, y64.data, 1e-5, 1e-5);
  });
});

describe('maxPool2d and avgPool2d: values', () => {
  const x = f64([[[[1, 2, 5, 6], [3, 4, 7, 8], [9, 10, 13, 14], [11, 12, 15, 16]]]]);

  it('takes the max and the mean of 2×2 windows', () => {
    expect(F.maxPool2d(x, 2).toArray()).to.deep.equal([[[[4, 8], [12, 16]]]]);
    expect(F.avgPool2d(x, 2).toArray()).to.deep.equal([[[[2.5, 6.5], [10.5, 14.5]]]]);
  });

  it('sends the max gradient to the first maximum of a tie, and spreads the mean gradient', () => {
    const t = f64([[[[1, 1], [1, 1]]]]).requiresGrad_();
    F.maxPool2d(t, 2).sum().backward();
    expect(t.grad!.toArray()).to.deep.equal([[[[1, 0], [0, 0]]]]);
    const u = f64([[[[1, 2], [3, 4]]]]).requiresGrad_();
    F.avgPool2d(u, 2).sum().mul(8).backward();
    expect(u.grad!.toArray()).to.deep.equal([[[[2, 2], [2, 2]]]]);
  });

  it('counts padded zeros in the mean by default (3×3 window around a 2×2 input)', () => {
    const t = f64([[[1, 2], [3, 4]]]);
    assertClose(F.avgPool2d(t, 3, 1, { padding: 1 }).data, [10 / 9, 10 / 9, 10 / 9, 10 / 9]);
    assertClose(F.avgPool2d(t, 3, 1, { padding: 1, countIncludePad: false }).data, [2.5, 2.5, 2.5, 2.5]);
    expect(F.maxPool2d(t.neg(), 3, 1, { padding: 1 }).toArray()).to.deep.equal([[[-1, -1], [-1, -1]]]); // padding never wins
  });
});

describe('conv2d and pooling: errors name the op and the shapes', () => {
  const x = tg.randn([1, 3, 8, 8]);
  const cases: [string, () => unknown, string][] = [
    ['channel mismatch', () => F.conv2d(x, tg.randn([6, 1, 5, 5])), 'conv2d: input has 3 channels but weight expects 1 (weight shape [6, 1, 5, 5])'],
    ['a 2-D input', () => F.conv2d(tg.randn([8, 8]), tg.randn([6, 1, 3, 3])), 'conv2d: expected a 3-D (unbatched [C, H, W]) or 4-D (batched [N, C, H, W]) input, got shape [8, 8]'],
    ['a 3-D weight', () => F.conv2d(x, tg.randn([6, 3, 3])), 'conv2d: weight must be 4-D'],
    ['a kernel larger than the padded input', () => F.conv2d(tg.randn([1, 1, 2, 2]), tg.randn([1, 1, 5, 5]), null, { padding: 1 }), 'larger than the padded input 4×4 (input shape [1, 1, 2, 2]'],
    ['groups not dividing the channels', () => F.conv2d(x, tg.randn([4, 1, 3, 3]), null, { groups: 2 }), 'conv2d: groups 2 must divide both the input channels 3 and the output channels 4'],
    ['a bias of the wrong length', () => F.conv2d(x, tg.randn([6, 3, 3, 3]), tg.randn([5])), 'conv2d: bias must have shape [6]'],
    ['a zero stride', () => F.conv2d(x, tg.randn([6, 3, 3, 3]), null, { stride: 0 }), 'conv2d: stride must be an integer ≥ 1'],
    ["padding 'same' with a stride", () => F.conv2d(x, tg.randn([6, 3, 3, 3]), null, { stride: 2, padding: 'same' }), "conv2d: padding 'same' needs stride 1"],
    ['an integer input', () => F.conv2d(tg.zeros([1, 3, 8, 8], { dtype: 'int32' }), tg.randn([6, 3, 3, 3])), 'conv2d: input must be a float tensor'],
    ['a pool window larger than the input', () => F.maxPool2d(tg.randn([1, 1, 2, 2]), 3), 'maxPool2d: kernel [3, 3] does not fit the input of shape [1, 1, 2, 2]'],
    ['pool padding over half the kernel', () => F.avgPool2d(x, 2, 1, { padding: 2 }), 'avgPool2d: padding [2, 2] must be at most half of the kernel [2, 2]'],
    ['a 5-D pool input', () => F.avgPool2d(tg.randn([1, 1, 1, 4, 4]), 2), 'avgPool2d: expected a 3-D (unbatched [C, H, W]) or 4-D'],
  ];
  for (const [what, call, message] of cases) it(what, () => expect(call).to.throw(message));
});

/** out[n, o, i, j] = b[o] + Σ_c Σ_ki Σ_kj w[o, c, ki, kj] · x[n, g·Cg + c, i·s − p + ki·d, j·s − p + kj·d]. */
function naiveConv2d(x: Tensor, w: Tensor, b: Tensor | null, s: number[], p: number[], d: number[], groups: number): Tensor {
  const [N, C, H, W] = x.shape, [O, Cg, kH, kW] = w.shape;
  const outH = Math.floor((H + 2 * p[0] - d[0] * (kH - 1) - 1) / s[0]) + 1, outW = Math.floor((W + 2 * p[1] - d[1] * (kW - 1) - 1) / s[1]) + 1;
  const out = new Float64Array(N * O * outH * outW);
  const Og = O / groups;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < outH; i++) for (let j = 0; j < outW; j++) {
    let sum = b ? b.data[o] : 0;
    for (let c = 0; c < Cg; c++) for (let ki = 0; ki < kH; ki++) for (let kj = 0; kj < kW; kj++) {
      const ih = i * s[0] - p[0] + ki * d[0], iw = j * s[1] - p[1] + kj * d[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const ci = Math.floor(o / Og) * Cg + c;
      sum += w.data[((o * Cg + c) * kH + ki) * kW + kj] * x.data[((n * C + ci) * H + ih) * W + iw];
    }
    out[((n * O + o) * outH + i) * outW + j] = sum;
  }
  return tg.tensor(out, { shape: [N, O, outH, outW] });
}
