// The wasm row and update kernels (LayerNorm, cross-entropy, SGD, momentum SGD, Adam/AdamW)
// against the js reference, on both builds (plain SIMD and relaxed SIMD), with fast-check on
// random shapes: odd sizes, size-1 dims, rows far from 0, huge logits, −∞ (masked), NaN, several
// chunks. Tolerances are float32's: |wasm − js| ≤ abs + rel·|js| with the values given per test.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { jsKernels, wasmKernels, type FloatArray } from '../../src/tensor/kernels/index.js';
import type { AdamArgs, CrossEntropyArgs } from '../../src/tensor/kernels/types.js';
import { loadWasm, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { layerNormBackwardOn, layerNormOn } from '../../src/tensor/kernels/wasm/norm.js';
import { crossEntropyBackwardOn, crossEntropyOn } from '../../src/tensor/kernels/wasm/losses.js';
import { adamUpdateOn, sgdMomentumUpdateOn, sgdUpdateOn } from '../../src/tensor/kernels/wasm/optim.js';
import { randomArray } from '../../bench/harness.js';
import { trainTinyGpt } from '../helpers.js';

/** Element-wise |a − e| ≤ abs + rel·|e| (abs one number or one per element); NaN must meet NaN and ±∞ the same ±∞. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, absolute: number | ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i], abs = typeof absolute === 'number' ? absolute : absolute[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`${what}[${i}] = ${a}, js gives ${e}`);
    } else if (!(Math.abs(a - e) <= abs + rel * Math.abs(e))) {
      throw new Error(`${what}[${i}] = ${a}, js gives ${e} (|diff| ${Math.abs(a - e)} > ${abs} + ${rel}·|js|)`);
    }
  }
}

/** Largest finite |a_i|. */
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Values x·scale + offset, with a few special values planted (NaN, ±∞, −0) when asked. */
function values(n: number, seed: number, scale: number, offset: number, special: readonly number[]): Float32Array {
  const x = randomArray(n, seed, -scale, scale).map((v) => v + offset);
  special.forEach((v, i) => {
    if (n > 0) x[(seed + 7 * i) % n] = v;
  });
  return x;
}

const specialArb = fc.oneof({ weight: 4, arbitrary: fc.constant<number[]>([]) }, fc.subarray([NaN, Infinity, -Infinity, -0], { minLength: 1 }));

for (const flavour of ['plain', 'relaxed'] as SimdFlavour[]) {
  describe(`wasm row and update kernels (${flavour} build)`, () => {
    let w: WasmModule | null = null;
    before(function () {
      w = loadWasm(flavour);
      if (w === null) this.skip(); // build/*.wasm missing (npm run build) or no relaxed SIMD here
    });

    describe('layerNorm', () => {
      const caseArb = fc.record({
        rows: fc.integer({ min: 1, max: 6 }), D: fc.integer({ min: 1, max: 70 }),
        scale: fc.constantFrom(1, 100), offset: fc.constantFrom(0, -3, 1000), affine: fc.constantFrom('both', 'weight', 'none'),
        eps: fc.constantFrom(1e-5, 1e-12), special: specialArb, seed: fc.integer({ min: 1, max: 2 ** 30 }),
      });
      type LnCase = { rows: number; D: number; scale: number; offset: number; affine: string; eps: number; special: number[]; seed: number };

      function check({ rows, D, scale, offset, affine, eps, special, seed }: LnCase, withDx = true): void {
        const x = values(rows * D, seed, scale, offset, special);
        const weight = affine === 'none' ? null : randomArray(D, seed + 1, -2, 2);
        const bias = affine === 'both' ? randomArray(D, seed + 2) : null;
        const run = (fwd: typeof jsKernels.layerNorm, bwd: typeof jsKernels.layerNormBackward) => {
          const y = new Float32Array(rows * D).fill(NaN), mean = new Float64Array(rows), rstd = new Float64Array(rows);
          fwd(x, rows, D, weight, bias, eps, y, mean, rstd);
          const g = randomArray(rows * D, seed + 3);
          const dx = withDx ? new Float32Array(rows * D).fill(NaN) : null;
          const dw = new Float64Array(D).fill(0.5), db = new Float64Array(D).fill(-0.25); // accumulated into
          bwd(x, g, rows, D, weight, mean, rstd, dx, dw, db);
          return { y, mean, rstd, dx, dw, db };
        };
        const js = run(jsKernels.layerNorm, jsKernels.layerNormBackward);
        const wa = run((...a) => layerNormOn(w, ...a), (...a) => layerNormBackwardOn(w, ...a));
        // x̂ is O(√D) at most: absolute 2e-5 on y and dx, relative 1e-5 on the statistics
        expectClose(wa.mean, js.mean, 1e-6, 1e-6 * scale, 'mean');
        expectClose(wa.rstd, js.rstd, 1e-5, 0, 'rstd');
        expectClose(wa.y, js.y, 1e-5, 2e-5, 'y');
        if (withDx) expectClose(wa.dx!, js.dx!, 1e-5, 2e-5 * Math.max(1, maxAbs(js.dx!)), 'dx');
        expectClose(wa.dw, js.dw, 1e-5, 2e-5 * rows, 'dw');
        expectClose(wa.db, js.db, 1e-5, 1e-5 * rows, 'db');
      }

      it('forward and backward match js on random shapes (rows far from 0, no affine, NaN and ±∞ rows)', () => {
        fc.assert(fc.property(caseArb, (c) => check(c)), { numRuns: 150, seed: 21 });
      });

      it('backward without dx (the input needs no gradient) still accumulates dw and db', () => {
        fc.assert(fc.property(caseArb, (c) => check(c, false)), { numRuns: 30, seed: 22 });
      });

      it('goes through several chunks (300 rows of 1000, one row of 2^18 + 3)', () => {
        check({ rows: 300, D: 1000, scale: 2, offset: 0.5, affine: 'both', eps: 1e-5, special: [], seed: 5 });
        check({ rows: 1, D: (1 << 18) + 3, scale: 1, offset: 0, affine: 'weight', eps: 1e-5, special: [], seed: 6 });
      });
    });

    describe('crossEntropy', () => {
      const caseArb = fc.record({
        rows: fc.integer({ min: 1, max: 9 }), C: fc.integer({ min: 1, max: 70 }),
        scale: fc.constantFrom(1, 30, 1000), weighted: fc.boolean(), smoothing: fc.constantFrom(0, 0.1, 1),
        special: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, fc.subarray([NaN, -Infinity, -Infinity, -0], { minLength: 1 })),
        perRowScale: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 30 }),
      });
      type CeCase = { rows: number; C: number; scale: number; weighted: boolean; smoothing: number; special: number[]; perRowScale: boolean; seed: number };

      function check({ rows, C, scale, weighted, smoothing, special, perRowScale, seed }: CeCase): void {
        const logits = values(rows * C, seed, scale, 0, special);
        // every third row ignored (a padding label), the others a random class
        const target = Int32Array.from(randomArray(rows, seed + 1, 0, C), (v, r) => (r % 3 === 2 ? -100 : Math.min(C - 1, Math.floor(v))));
        const weight = weighted ? Array.from(randomArray(C, seed + 2, 0.1, 2)) : null;
        const s = perRowScale ? Float64Array.from(randomArray(rows, seed + 3, -2, 2)) : 1 / rows;
        const run = (fwd: typeof jsKernels.crossEntropy, bwd: typeof jsKernels.crossEntropyBackward) => {
          const args: CrossEntropyArgs = { logits, rows, classes: C, target, ignoreIndex: -100, weight, smoothing, lse: new Float64Array(rows) };
          const losses = new Float64Array(rows).fill(NaN), dz = new Float32Array(rows * C).fill(NaN);
          fwd(args, losses);
          bwd(args, s, dz);
          return { lse: args.lse, losses, dz };
        };
        const js = run(jsKernels.crossEntropy, jsKernels.crossEntropyBackward);
        const wa = run((...a) => crossEntropyOn(w, ...a), (...a) => crossEntropyBackwardOn(w, ...a));
        // lse and the losses: absolute 1e-5 (log of a sum with float32 exps), relative 1e-6 (|logits| up to 1000)
        expectClose(wa.lse, js.lse, 1e-6, 1e-5, 'lse');
        expectClose(wa.losses, js.losses, 1e-6, 1e-5 * (1 + (weighted ? 2 : 1)), 'losses');
        // the gradient s·(A·p − a) with A, a ≤ 2 (which may cancel to ~0): absolute 4e-6·max|s|
        expectClose(wa.dz, js.dz, 1e-5, 4e-6 * (typeof s === 'number' ? s : maxAbs(s)), 'dz');
      }

      it('forward and backward match js on random shapes (weights, smoothing, ignored rows, huge and masked logits, NaN)', () => {
        fc.assert(fc.property(caseArb, (c) => check(c)), { numRuns: 200, seed: 23 });
      });

      it('ignored rows get exact zeros and a fully masked row NaN, as in js', () => {
        const C = 5;
        const logits = Float32Array.from([1, 2, 3, 4, 5, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity]);
        const args: CrossEntropyArgs = { logits, rows: 2, classes: C, target: Int32Array.from([-100, 1]), ignoreIndex: -100, weight: null, smoothing: 0, lse: new Float64Array(2) };
        const losses = new Float64Array(2), dz = new Float32Array(10).fill(7);
        crossEntropyOn(w, args, losses);
        crossEntropyBackwardOn(w, args, 1, dz);
        expect(losses[0]).to.equal(0);
        expect(args.lse[1]).to.equal(-Infinity);
        expect(Number.isNaN(losses[1])).to.equal(true);
        expect(Array.from(dz.subarray(0, 5))).to.deep.equal([0, 0, 0, 0, 0]);
      });

      it('goes through several chunks: BERT-sized rows of 30522 classes, and a row longer than a chunk', () => {
        check({ rows: 20, C: 30522, scale: 5, weighted: false, smoothing: 0.1, special: [], perRowScale: false, seed: 7 });
        check({ rows: 2, C: (1 << 18) + 5, scale: 3, weighted: true, smoothing: 0, special: [], perRowScale: true, seed: 8 });
      });
    });

    describe('optimizer updates', () => {
      const caseArb = fc.record({
        n: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(150_001)), // the long one spans three chunks
        steps: fc.integer({ min: 1, max: 3 }), special: fc.oneof({ weight: 4, arbitrary: fc.constant<number[]>([]) }, fc.constant([NaN])),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      });
      const hyperArb = fc.record({
        lr: fc.constantFrom(1e-3, 0.1), weightDecay: fc.constantFrom(0, 0.01), momentum: fc.constantFrom(0.9, 0.5),
        dampening: fc.constantFrom(0, 0.3), nesterov: fc.boolean(), adamw: fc.boolean(), bc2Sqrt: fc.constantFrom(1, 0.03),
      });

      /** θ and state after `steps` updates by each implementation; gradients fixed per step. */
      function compare(n: number, steps: number, special: readonly number[], seed: number, state: number, update: (impl: 'js' | 'wasm', arrays: Float32Array[], grad: Float32Array, step: number) => void): void {
        const init = () => [randomArray(n, seed, -1, 1), ...Array.from({ length: state }, (_, i) => randomArray(n, seed + 1 + i, 0, 0.01))];
        const js = init(), wa = init();
        // per element, the size of the terms that met (|before| + |change|, the largest over the steps):
        // float32 rounds those, and the result may cancel far below them (θ − stepSize·m/√v)
        const size = js.map((a) => Float64Array.from(a, Math.abs));
        for (let step = 0; step < steps; step++) {
          const grad = values(n, seed + 10 + step, 1, 0, special);
          const before = js.map((a) => Float64Array.from(a));
          update('js', js, grad, step);
          update('wasm', wa, grad, step);
          js.forEach((a, i) => a.forEach((v, k) => (size[i][k] = Math.max(size[i][k], Math.abs(before[i][k]) + Math.abs(v - before[i][k])))));
        }
        // a few float32 roundings per step: 4e-6 of those sizes, plus 1e-7
        js.forEach((a, i) => expectClose(wa[i], a, 0, size[i].map((v) => 4e-6 * v + 1e-7), i === 0 ? 'θ' : `state ${i}`));
      }

      it('sgdUpdate matches js', () => {
        fc.assert(fc.property(caseArb, hyperArb, ({ n, steps, special, seed }, h) => compare(n, steps, special, seed, 0, (impl, [theta], grad) => {
          (impl === 'js' ? jsKernels.sgdUpdate : (...a: Parameters<typeof jsKernels.sgdUpdate>) => sgdUpdateOn(w, ...a))(theta, grad, h.lr, h.weightDecay);
        })), { numRuns: 40, seed: 24 });
      });

      it('sgdMomentumUpdate matches js (first step, dampening, Nesterov)', () => {
        fc.assert(fc.property(caseArb, hyperArb, ({ n, steps, special, seed }, h) => compare(n, steps, special, seed, 1, (impl, [theta, buf], grad, step) => {
          const dampening = h.nesterov ? 0 : h.dampening;
          const f = impl === 'js' ? jsKernels.sgdMomentumUpdate : (...a: Parameters<typeof jsKernels.sgdMomentumUpdate>) => sgdMomentumUpdateOn(w, ...a);
          f(theta, grad, buf, step === 0, h.lr, h.momentum, dampening, h.nesterov, h.weightDecay);
        })), { numRuns: 40, seed: 25 });
      });

      it('adamUpdate matches js (Adam with L2, AdamW with decoupled decay, bias correction)', () => {
        fc.assert(fc.property(caseArb, hyperArb, ({ n, steps, special, seed }, h) => compare(n, steps, special, seed, 2, (impl, [theta, m, v], grad) => {
          const args: AdamArgs = {
            theta, grad, m, v, stepSize: h.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc2Sqrt: h.bc2Sqrt,
            l2: h.adamw ? 0 : h.weightDecay, decay: h.adamw ? 1 - h.lr * h.weightDecay : 1,
          };
          if (impl === 'js') jsKernels.adamUpdate(args);
          else adamUpdateOn(w, args);
        })), { numRuns: 40, seed: 26 });
      });
    });
  });
}

describe('wasm row and update kernels: routing', () => {
  before(function () {
    if (!wasmKernels.available()) this.skip();
  });

  it('give float64 arguments to the js kernels (bit for bit)', () => {
    const x = Float64Array.from(randomArray(12, 1)), g = Float64Array.from(randomArray(12, 2));
    const run = (k: typeof jsKernels | typeof wasmKernels) => {
      const y = new Float64Array(12), mean = new Float64Array(3), rstd = new Float64Array(3), dx = new Float64Array(12), dw = new Float64Array(4), db = new Float64Array(4);
      k.layerNorm!(x, 3, 4, null, null, 1e-5, y, mean, rstd);
      k.layerNormBackward!(x, g, 3, 4, null, mean, rstd, dx, dw, db);
      const args: CrossEntropyArgs = { logits: x, rows: 3, classes: 4, target: Int32Array.from([0, 3, 1]), ignoreIndex: -100, weight: null, smoothing: 0.1, lse: new Float64Array(3) };
      const losses = new Float64Array(3), dz = new Float64Array(12);
      k.crossEntropy!(args, losses);
      k.crossEntropyBackward!(args, 0.5, dz);
      const theta = Float64Array.from(x), m = new Float64Array(12), v = new Float64Array(12);
      k.adamUpdate!({ theta, grad: g, m, v, stepSize: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, bc2Sqrt: 0.1, l2: 0, decay: 0.99 });
      k.sgdUpdate!(theta, g, 0.1, 0.01);
      k.sgdMomentumUpdate!(theta, g, m, false, 0.1, 0.9, 0, true, 0);
      return [y, mean, rstd, dx, dw, db, losses, dz, theta, m, v].map((a: FloatArray) => Array.from(a));
    };
    expect(run(wasmKernels)).to.deep.equal(run(jsKernels));
  });

  it('a tiny GPT trains to the same losses on wasm and js (label smoothing, AdamW), and the wasm kernels run', function () {
    this.timeout(120_000);
    const names = ['layerNorm', 'layerNormBackward', 'crossEntropy', 'crossEntropyBackward', 'adamUpdate'] as const;
    const calls: Record<string, number> = {};
    const saved = names.map((n) => wasmKernels[n]);
    names.forEach((n, i) => {
      calls[n] = 0;
      (wasmKernels as unknown as Record<string, unknown>)[n] = (...a: unknown[]) => {
        calls[n]++;
        return (saved[i] as (...b: unknown[]) => void)(...a);
      };
    });
    const train = (backend: tg.BackendChoice): number[] => trainTinyGpt({
      backend, seed: 3, batch: 3, optimizer: (p) => new tg.optim.AdamW(p, { lr: 1e-2, weightDecay: 0.1 }),
      config: { vocabSize: 23, nPositions: 8, nEmbd: 16, nLayer: 2, nHead: 2, dropout: 0, tieWeights: true },
      loss: (model, idx, targets) => tg.F.crossEntropy(model.forward(idx).logits.reshape(24, 23), targets.reshape(24), { labelSmoothing: 0.1 }),
    });
    try {
      const reference = train('js');
      expect(reference[4]).to.be.below(reference[0]);
      const losses = train('wasm');
      losses.forEach((l, i) => expect(l, `step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
      for (const n of names) expect(calls[n], n).to.be.above(0);
    } finally {
      names.forEach((n, i) => ((wasmKernels as unknown as Record<string, unknown>)[n] = saved[i]));
    }
  });
});
