// The wasm conv2d kernel and its gradient (src/tensor/kernels/wasm/conv2d.ts: im2col and gemm per
// image and group inside the module) against the js reference, on both builds, with fast-check on
// random convolutions: groups, stride, padding, dilation, size-1 images and kernels, odd sizes.
// The products run in another order than js's (blocked, maybe fused multiply-adds), so results
// agree within float32 tolerance; one thread and two must agree bit for bit.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { jsKernels, kernelFor, thresholds, wasmKernels } from '../../src/tensor/kernels/index.js';
import type { Conv2dArgs } from '../../src/tensor/kernels/types.js';
import { loadWasm, type SimdFlavour } from '../../src/tensor/kernels/wasm/loader.js';
import { conv2dBackwardOn, conv2dOn } from '../../src/tensor/kernels/wasm/conv2d.js';
import { randomArray } from '../../bench/harness.js';
import { assertClose, expectSame } from '../helpers.js';

const int = (min: number, max: number) => fc.integer({ min, max });

interface Conv { N: number; C: number; O: number; G: number; H: number; W: number; k: [number, number]; s: number; p: number; d: number }

function argsOf(c: Conv, seed: number): Conv2dArgs {
  const outH = Math.floor((c.H + 2 * c.p - c.d * (c.k[0] - 1) - 1) / c.s) + 1, outW = Math.floor((c.W + 2 * c.p - c.d * (c.k[1] - 1) - 1) / c.s) + 1;
  const window = { inH: c.H, inW: c.W, outH, outW, kernelH: c.k[0], kernelW: c.k[1], strideH: c.s, strideW: c.s, padH: c.p, padW: c.p, dilationH: c.d, dilationW: c.d };
  return {
    x: randomArray(c.N * c.C * c.H * c.W, seed), weight: randomArray(c.O * (c.C / c.G) * c.k[0] * c.k[1], seed + 1),
    batch: c.N, channels: c.C, outChannels: c.O, groups: c.G, window,
  };
}

const convArb: fc.Arbitrary<Conv> = fc.record({
  N: int(1, 5), Cg: int(1, 3), Og: int(1, 5), G: int(1, 3), H: int(1, 9), W: int(1, 12),
  k: fc.tuple(int(1, 4), int(1, 4)), s: int(1, 3), p: int(0, 2), d: int(1, 2),
}).map(({ Cg, Og, ...c }) => ({ ...c, C: Cg * c.G, O: Og * c.G }))
  .filter((c) => c.H + 2 * c.p >= c.d * (c.k[0] - 1) + 1 && c.W + 2 * c.p >= c.d * (c.k[1] - 1) + 1);

/** Forward and backward on wasm (outputs start as NaN: every float must be written) against js. */
function check(flavour: SimdFlavour, c: Conv, seed: number, withBias: boolean): void {
  const w = loadWasm(flavour)!;
  const a = argsOf(c, seed), g = a.window, L = g.outH * g.outW;
  const bias = withBias ? randomArray(c.O, seed + 2) : null;
  const yJs = new Float32Array(c.N * c.O * L), yW = yJs.slice().fill(NaN);
  jsKernels.conv2d(a, bias, yJs);
  conv2dOn(w, a, bias, yW);
  const tol = 1e-5 * (1 + a.window.kernelH * a.window.kernelW * c.C / c.G);
  assertClose(yW, yJs, tol, 1e-5, `conv2d y ${JSON.stringify(c)}`);
  const dy = randomArray(yJs.length, seed + 3);
  const dxJs = new Float32Array(a.x.length), dwJs = new Float32Array(a.weight.length);
  const dxW = dxJs.slice().fill(NaN), dwW = dwJs.slice().fill(NaN);
  jsKernels.conv2dBackward(a, dy, dxJs, dwJs);
  conv2dBackwardOn(w, a, dy, dxW, dwW);
  assertClose(dxW, dxJs, 1e-5 * (1 + c.O), 1e-5, `conv2d dx ${JSON.stringify(c)}`);
  assertClose(dwW, dwJs, 1e-5 * (1 + c.N * L), 1e-5, `conv2d dw ${JSON.stringify(c)}`);
  // only dw, only dx: the other is not computed
  const dwOnly = dwJs.slice().fill(NaN), dxOnly = dxJs.slice().fill(NaN);
  conv2dBackwardOn(w, a, dy, null, dwOnly);
  conv2dBackwardOn(w, a, dy, dxOnly, null);
  expectSame('dw alone', dwOnly, dwW);
  expectSame('dx alone', dxOnly, dxW);
}

describe('wasm conv2d kernel', () => {
  for (const flavour of ['plain', 'relaxed'] as SimdFlavour[]) {
    describe(`${flavour} build`, function () {
      before(function () {
        if (!loadWasm(flavour)) this.skip();
      });

      it('equals js within float32 tolerance on random convolutions (groups, stride, padding, dilation, bias)', () => {
        fc.assert(fc.property(convArb, int(1, 2 ** 30), fc.boolean(), (c, seed, withBias) => check(flavour, c, seed, withBias)), { numRuns: 150, seed: 41 });
      });

      it('goes through the images chunk by chunk (LeNet-5 sizes, and more images than a chunk holds)', () => {
        check(flavour, { N: 32, C: 1, O: 6, G: 1, H: 28, W: 28, k: [5, 5], s: 1, p: 2, d: 1 }, 5, true);
        check(flavour, { N: 9, C: 6, O: 16, G: 1, H: 14, W: 14, k: [5, 5], s: 1, p: 0, d: 1 }, 6, true);
        check(flavour, { N: 300, C: 1, O: 2, G: 1, H: 64, W: 64, k: [3, 3], s: 1, p: 1, d: 1 }, 7, false); // 128 images per chunk
      });

      it('gives float64 arguments to the js kernel (the same result)', () => {
        const a32 = argsOf({ N: 2, C: 2, O: 3, G: 1, H: 5, W: 6, k: [3, 2], s: 1, p: 1, d: 1 }, 11);
        const a = { ...a32, x: Float64Array.from(a32.x), weight: Float64Array.from(a32.weight) };
        const n = 2 * 3 * 5 * 7, yJs = new Float64Array(n), yW = new Float64Array(n);
        jsKernels.conv2d(a, null, yJs);
        conv2dOn(loadWasm(flavour), a, null, yW);
        expectSame('float64 y', yW, yJs);
      });
    });
  }

  it('gives the same bits on one thread and two, the worker given half the images (TSGRAD_THREADS=2, in a child process)', function () {
    this.timeout(120_000);
    // 16 images, 2 groups, 37.7 MFLOP: above THREAD_MIN_FLOPS, so the second half of the images goes to the worker
    const code = `
      import { jsKernels } from './src/tensor/kernels/index.ts';
      import { wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
      import { conv2dOn, conv2dBackwardOn } from './src/tensor/kernels/wasm/conv2d.ts';
      import { threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { randomArray } from './bench/harness.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const window = { inH: 16, inW: 16, outH: 16, outW: 16, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1 };
      const a = { x: randomArray(16 * 32 * 256, 8), weight: randomArray(32 * 16 * 9, 9), batch: 16, channels: 32, outChannels: 32, groups: 2, window };
      const bias = randomArray(32, 10), dy = randomArray(16 * 32 * 256, 11);
      const run = (threads) => withThreads(threads, () => {
        const y = new Float32Array(dy.length), dx = new Float32Array(a.x.length), dw = new Float32Array(a.weight.length);
        conv2dOn(w, a, bias, y);
        conv2dBackwardOn(w, a, dy, dx, dw);
        return [y, dx, dw];
      });
      const one = run(false), jobs = threadStats().jobs, two = run(true);
      if (threadStats().jobs !== jobs + 2) throw new Error('the worker was given ' + (threadStats().jobs - jobs) + ' jobs, not 2');
      for (let k = 0; k < 3; k++) for (let i = 0; i < one[k].length; i++) if (!Object.is(one[k][i], two[k][i])) throw new Error(['y', 'dx', 'dw'][k] + '[' + i + ']: ' + two[k][i] + ' on two threads, ' + one[k][i] + ' on one');
      const y = new Float32Array(dy.length);
      jsKernels.conv2d(a, bias, y);
      for (let i = 0; i < y.length; i++) if (!(Math.abs(y[i] - two[0][i]) <= 1e-4)) throw new Error('y[' + i + '] ' + two[0][i] + ' vs js ' + y[i]);
      console.log('threads ok');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, TSGRAD_THREADS: '2' }, encoding: 'utf8', timeout: 100_000,
    });
    expect(child.stderr + child.stdout).to.contain('threads ok');
  });

  it('kernelFor routes float32 conv2d to wasm from its threshold, float64 to js', () => {
    for (const name of ['conv2d', 'conv2dBackward'] as const) {
      expect(kernelFor(name, 'float32', thresholds.wasmConvFlops), name).to.equal(wasmKernels[name]);
      expect(kernelFor(name, 'float32', thresholds.wasmConvFlops - 1), name).to.equal(jsKernels[name]);
      expect(kernelFor(name, 'float64', thresholds.wasmConvFlops), name).to.equal(jsKernels[name]);
    }
  });
});
