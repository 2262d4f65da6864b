// The wasm convolution and pooling layout kernels (src/tensor/kernels/wasm/conv.ts) against the js
// reference, on both builds (plain SIMD and relaxed SIMD), with fast-check on random geometries:
// odd and size-1 planes, stride and dilation > 1, padding (asymmetric too, and windows wholly in
// it), kernels larger than the stride, ceil mode, countIncludePad and divisorOverride, ties, ±0
// and NaN in max pooling; then calls that cross the chunks, float64 to js, the dispatch, and
// LeNet-5 trained on wasm. All six kernels do js's arithmetic in js's order, so every comparison
// is bit for bit (argmax included), and the outputs they accumulate into start nonzero.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { jsKernels, kernelFor, thresholds, wasmKernels, type KernelName } from '../../src/tensor/kernels/index.js';
import type { AvgPoolMode, WindowGeometry } from '../../src/tensor/kernels/types.js';
import { loadWasm, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { avgPool2dBackwardOn, avgPool2dOn, col2imOn, im2colOn, maxPool2dBackwardOn, maxPool2dOn } from '../../src/tensor/kernels/wasm/conv.js';
import { randomArray } from '../../bench/harness.js';
import { expectSame } from '../helpers.js';

const int = (min: number, max: number) => fc.integer({ min, max });

/** What the planes hold: uniform values, few distinct ones (ties, ±0), or specials (NaN, ±∞, −0) among them. */
type Fill = 'uniform' | 'ties' | 'specials';
const TIES = [0, -0, 1, -1, 2];
const SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 3];

function fill(n: number, seed: number, kind: Fill): Float32Array {
  const x = randomArray(n, seed, -4, 4);
  if (kind === 'ties') return x.map((v) => TIES[Math.floor(Math.abs(v) * 1000) % TIES.length]);
  if (kind === 'specials') for (let i = 0; i < n; i++) if (Math.floor(Math.abs(x[i]) * 1000) % 4 === 0) x[i] = SPECIALS[i % SPECIALS.length];
  return x;
}
const fillArb = fc.constantFrom<Fill>('uniform', 'ties', 'specials');

/** A convolution's window: padding before (pad) and after (pad + extra: 'same' with an even kernel), outputs as conv2d counts them. */
const convGeometryArb: fc.Arbitrary<WindowGeometry> = fc.record({
  inH: int(1, 7), inW: int(1, 20), kernelH: int(1, 4), kernelW: int(1, 4), strideH: int(1, 3), strideW: int(1, 3),
  padH: int(0, 3), padW: int(0, 3), extraH: int(0, 1), extraW: int(0, 1), dilationH: int(1, 3), dilationW: int(1, 3),
}).map(({ extraH, extraW, ...g }) => ({
  ...g,
  outH: Math.floor((g.inH + 2 * g.padH + extraH - g.dilationH * (g.kernelH - 1) - 1) / g.strideH) + 1,
  outW: Math.floor((g.inW + 2 * g.padW + extraW - g.dilationW * (g.kernelW - 1) - 1) / g.strideW) + 1,
})).filter((g) => g.outH >= 1 && g.outW >= 1);

/** One pooled axis, as ops/conv.ts's pooledSize (PyTorch's): ceil mode drops a window starting in the padding. */
function pooledSize(size: number, kernel: number, stride: number, pad: number, dilation: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** A pooling window as poolGeometry makes it: padding at most half the kernel, ceil mode or not; no dilation for average pooling. */
const poolGeometryArb = (dilated: boolean): fc.Arbitrary<WindowGeometry> => fc.record({
  inH: int(1, 7), inW: int(1, 24), kernelH: int(1, 4), kernelW: int(1, 4), strideH: int(1, 3), strideW: int(1, 3),
  padH: int(0, 2), padW: int(0, 2), dilationH: int(1, dilated ? 3 : 1), dilationW: int(1, dilated ? 3 : 1), ceil: fc.boolean(),
}).map(({ ceil, ...g }) => ({
  ...g,
  padH: Math.min(g.padH, g.kernelH >> 1), padW: Math.min(g.padW, g.kernelW >> 1),
  outH: pooledSize(g.inH, g.kernelH, g.strideH, Math.min(g.padH, g.kernelH >> 1), g.dilationH, ceil),
  outW: pooledSize(g.inW, g.kernelW, g.strideW, Math.min(g.padW, g.kernelW >> 1), g.dilationW, ceil),
})).filter((g) => g.outH >= 1 && g.outW >= 1);

const modeArb: fc.Arbitrary<AvgPoolMode> = fc.record({ countIncludePad: fc.boolean(), divisorOverride: fc.constantFrom(undefined, 1, 3, 2.5, -7) })
  .map(({ countIncludePad, divisorOverride }) => (divisorOverride === undefined ? { countIncludePad } : { countIncludePad, divisorOverride }));

const sizes = (g: WindowGeometry) => ({ P: g.inH * g.inW, L: g.outH * g.outW, K: g.kernelH * g.kernelW });
const show = (g: WindowGeometry, planes: number) => `${planes}×${g.inH}×${g.inW} → ${g.outH}×${g.outW}, k ${g.kernelH}×${g.kernelW} s ${g.strideH},${g.strideW} p ${g.padH},${g.padW} d ${g.dilationH},${g.dilationW}`;

/** im2col on wasm, then col2im of a random col into a dx that starts nonzero, both against js. */
function checkConv(w: WasmModule, g: WindowGeometry, planes: number, seed: number, kind: Fill): void {
  const { P, L, K } = sizes(g), what = show(g, planes);
  const x = fill(planes * P, seed, kind);
  const expected = new Float32Array(planes * K * L), actual = new Float32Array(planes * K * L).fill(7); // every float must be written
  jsKernels.im2col(x, expected, planes, g);
  im2colOn(w, x, actual, planes, g);
  expectSame(`im2col ${what}`, actual, expected);
  const col = randomArray(planes * K * L, seed + 1, -2, 2), dx0 = randomArray(planes * P, seed + 2);
  const dxJs = dx0.slice(), dxWasm = dx0.slice();
  jsKernels.col2im(col, dxJs, planes, g);
  col2imOn(w, col, dxWasm, planes, g);
  expectSame(`col2im ${what}`, dxWasm, dxJs);
}

/** maxPool2d (out and argmax) and its gradient on wasm against js. */
function checkMaxPool(w: WasmModule, g: WindowGeometry, planes: number, seed: number, kind: Fill): void {
  const { P, L } = sizes(g), what = show(g, planes);
  const x = fill(planes * P, seed, kind);
  const out = new Float32Array(planes * L), argmax = new Int32Array(planes * L);
  const outW = new Float32Array(planes * L).fill(7), argmaxW = new Int32Array(planes * L).fill(7);
  jsKernels.maxPool2d(x, out, argmax, planes, g);
  maxPool2dOn(w, x, outW, argmaxW, planes, g);
  expectSame(`maxPool2d ${what}`, outW, out);
  expectSame(`maxPool2d argmax ${what}`, argmaxW, argmax);
  const dy = randomArray(planes * L, seed + 1), dx0 = randomArray(planes * P, seed + 2);
  const dxJs = dx0.slice(), dxWasm = dx0.slice();
  jsKernels.maxPool2dBackward(dy, argmax, dxJs, planes, g);
  maxPool2dBackwardOn(w, dy, argmax, dxWasm, planes, g);
  expectSame(`maxPool2dBackward ${what}`, dxWasm, dxJs);
}

/** avgPool2d and its gradient on wasm against js. */
function checkAvgPool(w: WasmModule, g: WindowGeometry, mode: AvgPoolMode, planes: number, seed: number, kind: Fill): void {
  const { P, L } = sizes(g), what = `${show(g, planes)} ${JSON.stringify(mode)}`;
  const x = fill(planes * P, seed, kind);
  const out = new Float32Array(planes * L), outW = new Float32Array(planes * L).fill(7);
  jsKernels.avgPool2d(x, out, planes, g, mode);
  avgPool2dOn(w, x, outW, planes, g, mode);
  expectSame(`avgPool2d ${what}`, outW, out);
  const dy = randomArray(planes * L, seed + 1), dx0 = randomArray(planes * P, seed + 2);
  const dxJs = dx0.slice(), dxWasm = dx0.slice();
  jsKernels.avgPool2dBackward(dy, dxJs, planes, g, mode);
  avgPool2dBackwardOn(w, dy, dxWasm, planes, g, mode);
  expectSame(`avgPool2dBackward ${what}`, dxWasm, dxJs);
}

/** A square geometry with conv2d's output size. */
function square(size: number, k: number, s: number, p: number, d = 1): WindowGeometry {
  const out = Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  return { inH: size, inW: size, outH: out, outW: out, kernelH: k, kernelW: k, strideH: s, strideW: s, padH: p, padW: p, dilationH: d, dilationW: d };
}

describe('wasm convolution and pooling kernels', function () {
  before(function () {
    if (!wasmKernels.available()) this.skip(); // build/*.wasm missing: `npm run build`
  });

  for (const flavour of ['plain', 'relaxed'] as SimdFlavour[]) {
    describe(`${flavour} build`, () => {
      let w: WasmModule;
      before(function () {
        const loaded = loadWasm(flavour);
        if (loaded === null) this.skip();
        else w = loaded;
      });

      it('im2col and col2im equal js on random geometries (stride, dilation, padding, windows in the padding)', () => {
        fc.assert(fc.property(convGeometryArb, int(1, 4), int(1, 2 ** 30), fillArb, (g, planes, seed, kind) => checkConv(w, g, planes, seed, kind)), { numRuns: 300, seed: 31 });
        // padding wider than the stride on a 1-wide plane: whole rows of windows read only padding
        checkConv(w, { ...square(1, 7, 1, 3), inW: 1, outW: 1 }, 2, 5, 'uniform');
        checkConv(w, square(3, 1, 1, 3), 2, 6, 'uniform');
      });

      it('maxPool2d and its gradient equal js, argmax included (ties, ±0, NaN, ceil mode, dilation)', () => {
        fc.assert(fc.property(poolGeometryArb(true), int(1, 4), int(1, 2 ** 30), fillArb, (g, planes, seed, kind) => checkMaxPool(w, g, planes, seed, kind)), { numRuns: 300, seed: 32 });
        // the 2×2 stride-2 fast path: odd planes (ceil mode goes to the general path), width not a multiple of 8
        for (const size of [1, 2, 3, 9, 10, 28, 29]) {
          for (const kind of ['uniform', 'ties', 'specials'] as Fill[]) checkMaxPool(w, square(size, 2, 2, 0), 3, size, kind);
          if (size > 1) checkMaxPool(w, { ...square(size, 2, 2, 0), outH: Math.ceil(size / 2), outW: Math.ceil(size / 2) }, 2, size, 'ties'); // ceil mode
        }
      });

      it('maxPool2d picks the first of tied maxima and the last NaN, in row-major window order', () => {
        const g = square(4, 2, 2, 0); // windows {0, 1, 4, 5}, {2, 3, 6, 7}, … of one plane
        const x = Float32Array.from([1, 1, NaN, 0, 0, 1, 5, NaN, -0, 0, -Infinity, -Infinity, 0, -0, -Infinity, -Infinity]);
        const out = new Float32Array(4), argmax = new Int32Array(4);
        maxPool2dOn(w, x, out, argmax, 1, g);
        expectSame('max', out, [1, NaN, -0, -Infinity]);
        expect(Array.from(argmax)).to.deep.equal([0, 7, 8, 10]);
      });

      it('avgPool2d and its gradient equal js bit for bit (countIncludePad, divisorOverride, ceil mode, padding)', () => {
        fc.assert(fc.property(poolGeometryArb(false), modeArb, int(1, 4), int(1, 2 ** 30), fillArb, (g, mode, planes, seed, kind) => checkAvgPool(w, g, mode, planes, seed, kind)), { numRuns: 300, seed: 33 });
      });

      it('goes through wasm memory chunk by chunk (2^18 floats per array) and matches js', () => {
        checkConv(w, square(28, 5, 1, 2), 32, 1, 'uniform'); // LeNet conv1: 13 planes of 19,600 col floats per chunk
        checkConv(w, square(14, 5, 1, 0), 192, 2, 'uniform'); // LeNet conv2
        checkConv(w, square(120, 5, 1, 2), 2, 3, 'uniform'); // 360,000 col floats per plane: 18 col rows at a time
        checkConv(w, square(121, 3, 2, 1, 2), 3, 4, 'specials'); // the same with stride and dilation 2
        checkConv(w, square(600, 3, 1, 1), 1, 5, 'uniform'); // a plane over a chunk: js
        for (const g of [square(28, 2, 2, 0), square(28, 3, 2, 1), square(29, 3, 1, 1, 2)]) checkMaxPool(w, g, 401, 6, 'ties'); // 314,384 floats and more
        checkMaxPool(w, square(600, 2, 2, 0), 1, 7, 'uniform'); // js
        checkAvgPool(w, square(28, 3, 2, 1), { countIncludePad: false }, 401, 8, 'uniform');
      });

      it('gives float64 arguments to the js kernels (the same result)', () => {
        const g = square(6, 3, 2, 1), planes = 2, { P, L, K } = sizes(g);
        const x = Float64Array.from(randomArray(planes * P, 9));
        const colJs = new Float64Array(planes * K * L), colW = new Float64Array(planes * K * L);
        jsKernels.im2col(x, colJs, planes, g);
        im2colOn(w, x, colW, planes, g);
        expectSame('im2col float64', colW, colJs);
        const out = new Float64Array(planes * L), outW = new Float64Array(planes * L), am = new Int32Array(planes * L), amW = new Int32Array(planes * L);
        jsKernels.maxPool2d(x, out, am, planes, g);
        maxPool2dOn(w, x, outW, amW, planes, g);
        expectSame('maxPool2d float64', outW, out);
        jsKernels.avgPool2d(x, out, planes, g, { countIncludePad: true });
        avgPool2dOn(w, x, outW, planes, g, { countIncludePad: true });
        expectSame('avgPool2d float64', outW, out);
      });
    });
  }

  it('kernelFor routes float32 convolution and pooling kernels to wasm from their thresholds, float64 to js', () => {
    tg.setBackend('auto');
    const gates: [KernelName, number][] = [
      ['im2col', thresholds.wasmIm2colElements], ['col2im', thresholds.wasmIm2colElements],
      ['maxPool2d', thresholds.wasmMaxPoolElements], ['maxPool2dBackward', thresholds.wasmMaxPoolBackwardElements],
      ['avgPool2d', thresholds.wasmAvgPoolElements], ['avgPool2dBackward', thresholds.wasmAvgPoolElements],
    ];
    for (const [name, at] of gates) {
      expect(kernelFor(name, 'float32', at), name).to.equal(wasmKernels[name]);
      expect(kernelFor(name, 'float32', at - 1), name).to.equal(jsKernels[name]);
      expect(kernelFor(name, 'float64', at), name).to.equal(jsKernels[name]);
      expect(tg.backendInfo().kernels[name], name).to.deep.equal(['js', 'wasm']);
    }
  });

  it('trains LeNet-5 (and an average-pooled conv net) on wasm to the losses of js, through the wasm kernels', function () {
    this.timeout(120_000);
    const names = ['conv2d', 'conv2dBackward', 'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward'] as const;
    const calls = Object.fromEntries(names.map((n) => [n, 0])) as Record<(typeof names)[number], number>;
    const originals = Object.fromEntries(names.map((n) => [n, wasmKernels[n]!]));
    const counted = wasmKernels as unknown as Record<string, (...args: unknown[]) => void>;
    for (const name of names) {
      counted[name] = (...args: unknown[]) => {
        calls[name]++;
        (originals[name] as (...args: unknown[]) => void)(...args);
      };
    }
    const train = (backend: tg.BackendChoice, net: 'lenet' | 'avg'): number[] => {
      tg.setBackend(backend);
      tg.manualSeed(4);
      const model = net === 'lenet' ? new tg.models.LeNet5() : new tg.nn.Sequential(
        new tg.nn.Conv2d(1, 4, 3, { padding: 1 }), new tg.nn.ReLU(), new tg.nn.AvgPool2d(2), new tg.nn.Conv2d(4, 4, 3, { stride: 2 }), new tg.nn.Flatten(), new tg.nn.Linear(4 * 6 * 6, 10));
      // the second conv takes its input's gradient (col2im); LeNet's first does not need one
      const x = tg.rand([4, 1, 28, 28]), y = tg.randint(0, 10, [4]);
      const optimizer = new tg.optim.SGD(model.parameters(), { lr: 0.05 });
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        optimizer.zeroGrad();
        const loss = net === 'lenet' ? (model as tg.models.LeNet5).forward(x, y).loss! : tg.F.crossEntropy((model as tg.nn.Sequential).forward(x), y);
        loss.backward();
        optimizer.step();
        losses.push(loss.item());
      }
      return losses;
    };
    try {
      for (const net of ['lenet', 'avg'] as const) {
        const reference = train('js', net);
        const losses = train('wasm', net);
        expect(reference[3]).to.be.below(reference[0]);
        losses.forEach((l, i) => expect(l, `${net} step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
      }
    } finally {
      Object.assign(wasmKernels, originals);
      tg.setBackend('auto');
    }
    for (const [name, count] of Object.entries(calls)) expect(count, `wasm ${name} calls`).to.be.above(0);
  });
});
