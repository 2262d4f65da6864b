// The wasm elementwise maps, binary ops and sums (src/tensor/kernels/wasm/maps.ts) against the js
// reference, on both builds (plain SIMD and relaxed SIMD): random sizes (odd, size 1, empty), the
// broadcast patterns and the ones that fall back, values with ±0, ±∞, NaN and large |x|, chunked
// calls, float64 to js, the dispatch, and a tiny GPT trained on wasm.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { TypedArray } from '../../src/tensor/dtype.js';
import { jsKernels, kernelFor, thresholds, wasmKernels } from '../../src/tensor/kernels/index.js';
import type { BinaryOp, UnaryGradOp, UnaryOp } from '../../src/tensor/kernels/types.js';
import { loadWasm, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { binaryOn, reduceOn, unaryGradOn, unaryOn } from '../../src/tensor/kernels/wasm/maps.js';
import { randomArray } from '../../bench/harness.js';
import { expectSame, trainTinyGpt } from '../helpers.js';

/** float32 tolerance of the maps: relative 2e-6 (exp's 4e-7, tanh, σ and erf evaluated in float32: a few ulp) … */
const REL = 2e-6;
/** … plus absolute 1.2e-38 (below 2^-126 the wasm exp flushes to 0), or 2e-7 for the GELUs: where Φ(x) is tiny the js value itself is 1 − erf(x) cancelled in float64. */
const ABS = 1.2e-38;
const ABS_GELU = 2e-7;
const UNARY_OPS: UnaryOp[] = ['neg', 'abs', 'sqrt', 'log', 'exp', 'tanh', 'sigmoid', 'relu', 'gelu', 'geluTanh'];
const GRAD_OPS: UnaryGradOp[] = ['relu', 'gelu', 'geluTanh'];
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 88.5, 89, -88.5, -100, 1e20, -1e20, 1e-30, -1e-30, 0.39, -0.41];

/** Float32 values in [−scale, scale] with the special values mixed in. */
const valuesArb = (maxLength: number): fc.Arbitrary<Float32Array> =>
  fc.record({ scale: fc.constantFrom(1, 5, 30, 100), seed: fc.integer({ min: 1, max: 2 ** 30 }), length: fc.integer({ min: 0, max: maxLength }), specials: fc.array(fc.nat(), { maxLength: 4 }) })
    .map(({ scale, seed, length, specials }) => {
      const x = randomArray(length, seed, -scale, scale);
      specials.forEach((s, i) => { if (length > 0) x[(s * 7 + i) % length] = SPECIALS[s % SPECIALS.length]; });
      return x;
    });

/** Same NaN-ness, the same infinity, or within ABS + REL·|expected|; names the op, index and input. */
function expectClose(what: string, input: ArrayLike<number>, actual: ArrayLike<number>, expected: ArrayLike<number>, rel = REL, abs = ABS): void {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? Math.abs(a - e) <= abs + rel * Math.abs(e) : a === e;
    if (!ok) throw new Error(`${what}: out[${i}] = ${a}, js gives ${e} (input ${input[i]})`);
  }
}

function checkUnary(w: WasmModule, op: UnaryOp, x: Float32Array): void {
  const expected = new Float32Array(x.length), actual = new Float32Array(x.length).fill(7); // must be overwritten
  jsKernels.unary(op, x, expected);
  unaryOn(w, op, x, actual);
  expectClose(op, x, actual, expected, REL, op === 'gelu' || op === 'geluTanh' ? ABS_GELU : ABS);
}

function checkGrad(w: WasmModule, op: UnaryGradOp, x: Float32Array, g: Float32Array): void {
  const expected = new Float32Array(x.length), actual = new Float32Array(x.length).fill(7);
  jsKernels.unaryGrad(op, x, g, expected);
  unaryGradOn(w, op, x, g, actual);
  expectClose(`${op}′`, x, actual, expected, REL, ABS_GELU);
}

function checkBinary(w: WasmModule, op: BinaryOp, aShape: number[], bShape: number[], outShape: number[], seed: number): void {
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const a = randomArray(size(aShape), seed, -3, 3), b = randomArray(size(bShape), seed + 1, -3, 3);
  if (b.length > 2) b[1] = 0; // x/0, 0/0
  if (a.length > 2) [a[0], a[2]] = [Infinity, NaN];
  const expected = new Float32Array(size(outShape)), actual = new Float32Array(size(outShape)).fill(7);
  jsKernels.binary(op, a, aShape, b, bShape, expected, outShape);
  binaryOn(w, op, a, aShape, b, bShape, actual, outShape);
  expectSame(`${op} [${aShape}] ∘ [${bShape}]`, actual, expected);
}

/** Σ over the middle dim; the wasm sum accumulates in float64 as js does into a Float64Array. */
function checkReduce(w: WasmModule, x: Float32Array, outer: number, len: number, inner: number, wide: boolean): void {
  const reference = new Float64Array(outer * inner);
  jsKernels.reduce('sum', x, outer, len, inner, reference);
  const actual: TypedArray = wide ? new Float64Array(outer * inner).fill(7) : new Float32Array(outer * inner).fill(7);
  reduceOn(w, 'sum', x, outer, len, inner, actual);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let magnitude = 0; // Σ|x|: float64 rounding differs with the order of the adds by ≤ len·1.1e-16·Σ|x|
      for (let r = 0; r < len; r++) magnitude += Math.abs(x[(o * len + r) * inner + i]);
      const e = reference[o * inner + i];
      const tol = (len + 1) * 1.2e-16 * magnitude + (wide ? 0 : 6e-8 * Math.abs(e)); // + one float32 rounding
      const a = actual[o * inner + i];
      const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? Math.abs(a - e) <= tol : a === e;
      if (!ok) throw new Error(`sum [${outer}, ${len}, ${inner}] (${wide ? 'float64' : 'float32'} out) at ${o}, ${i}: ${a}, js gives ${e}`);
    }
  }
}

describe('wasm elementwise maps, binary ops and sums', function () {
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

      for (const op of UNARY_OPS) {
        it(`unary ${op} matches js (odd sizes, ±0, ±∞, NaN, large |x|)`, () => {
          fc.assert(fc.property(valuesArb(70), (x) => checkUnary(w, op, x)), { numRuns: 150, seed: 21 });
          checkUnary(w, op, Float32Array.from(SPECIALS));
        });
      }

      it('unary tanh, sigmoid, gelu and exp match js densely across their whole range', () => {
        const x = Float32Array.from({ length: 40001 }, (_, i) => -100 + i / 200);
        for (const op of ['exp', 'tanh', 'sigmoid', 'gelu', 'geluTanh'] as UnaryOp[]) checkUnary(w, op, x);
        // log over every binade, subnormals included, and densely around 1
        checkUnary(w, 'log', Float32Array.from({ length: 60001 }, (_, i) => 2 ** (-149 + (277 * i) / 60000)));
        checkUnary(w, 'log', Float32Array.from({ length: 20001 }, (_, i) => 0.5 + i / 10000));
      });

      for (const op of GRAD_OPS) {
        it(`unaryGrad ${op} matches js`, () => {
          fc.assert(fc.property(valuesArb(70), fc.integer({ min: 1, max: 1000 }), (x, seed) => checkGrad(w, op, x, randomArray(x.length, seed))), { numRuns: 150, seed: 22 });
          const dense = Float32Array.from({ length: 20001 }, (_, i) => -50 + i / 200);
          checkGrad(w, op, dense, randomArray(dense.length, 3));
        });
      }

      it('binary add, sub, mul, div equal js bit for bit in every pattern, and fall back for the others', () => {
        const shapes = fc.record({ rows: fc.integer({ min: 1, max: 9 }), cols: fc.integer({ min: 1, max: 37 }), batch: fc.integer({ min: 2, max: 3 }) });
        const ops = fc.constantFrom<BinaryOp>('add', 'sub', 'mul', 'div', 'pow', 'maximum');
        fc.assert(fc.property(shapes, ops, fc.integer({ min: 1, max: 2 ** 30 }), ({ rows, cols, batch }, op, seed) => {
          const out = [rows, cols];
          checkBinary(w, op, out, out, out, seed); // same shape
          checkBinary(w, op, out, [], out, seed); // scalar b
          checkBinary(w, op, [1], out, out, seed); // scalar a
          checkBinary(w, op, out, [cols], out, seed); // row broadcast: the bias add
          checkBinary(w, op, out, [1, cols], out, seed);
          checkBinary(w, op, out, [rows, 1], out, seed); // column broadcast
          checkBinary(w, op, [batch, rows, cols], [rows, cols], [batch, rows, cols], seed); // a trailing block: positions under [B, T, C]
          checkBinary(w, op, [batch, rows, cols], [1, 1, cols], [batch, rows, cols], seed);
          checkBinary(w, op, [batch, rows, cols], [rows, 1], [batch, rows, cols], seed); // a column repeated: the conv bias
          checkBinary(w, op, [batch, rows, cols], [batch, 1, cols], [batch, rows, cols], seed); // a middle dim broadcast: js inside the wrapper
          checkBinary(w, op, [rows, 1], out, out, seed); // a broadcast: js
          checkBinary(w, op, [batch, 1, cols], [rows, 1], [batch, rows, cols], seed); // both broadcast: js
        }), { numRuns: 120, seed: 23 });
      });

      it('binary works in place (out = a), as the bias add does', () => {
        const a = randomArray(5 * 13, 4), b = randomArray(13, 5);
        const expected = new Float32Array(a.length);
        jsKernels.binary('add', a, [5, 13], b, [13], expected, [5, 13]);
        binaryOn(w, 'add', a, [5, 13], b, [13], a, [5, 13]);
        expectSame('add in place', a, expected);
      });

      it('reduce sum matches js: inner = 1, outer = 1, empty dims, ±∞ and NaN, float32 and float64 out', () => {
        const dims = fc.record({ outer: fc.integer({ min: 1, max: 4 }), len: fc.integer({ min: 0, max: 300 }), inner: fc.integer({ min: 1, max: 9 }), wide: fc.boolean(), seed: fc.integer({ min: 1, max: 2 ** 30 }), special: fc.constantFrom(0, Infinity, -Infinity, NaN) });
        fc.assert(fc.property(dims, ({ outer, len, inner, wide, seed, special }) => {
          const x = randomArray(outer * len * inner, seed, -10, 10);
          if (x.length > 0 && special !== 0) x[seed % x.length] = special;
          checkReduce(w, x, outer, len, inner, wide);
          checkReduce(w, x, 1, outer * len, inner, wide); // outer = 1: a bias gradient
          checkReduce(w, x, outer * len, inner, 1, wide); // inner = 1: row sums
        }), { numRuns: 150, seed: 24 });
      });

      it('goes through wasm memory chunk by chunk (2^18 floats per array) and matches js', () => {
        const n = 2 * (1 << 18) + 5;
        const x = randomArray(n, 6, -8, 8);
        checkUnary(w, 'gelu', x);
        checkGrad(w, 'geluTanh', x, randomArray(n, 7));
        const cols = 1001, rows = Math.floor(n / cols);
        const a = x.subarray(0, rows * cols);
        checkBinary(w, 'add', [rows, cols], [rows, cols], [rows, cols], 8);
        checkBinary(w, 'mul', [rows, cols], [], [rows, cols], 8);
        checkBinary(w, 'add', [rows, cols], [cols], [rows, cols], 8);
        checkBinary(w, 'div', [rows, cols], [rows, 1], [rows, cols], 8);
        checkBinary(w, 'sub', [3, rows, cols], [rows, 1], [3, rows, cols], 8); // a column repeated over chunks of 261 rows
        checkBinary(w, 'add', [2, 700, 1000], [700, 1000], [2, 700, 1000], 8); // a block of 700k floats: js
        checkReduce(w, a, 1, rows, cols, true); // one block of 524k floats: its rows in chunks, one accumulator
        checkReduce(w, a, rows, cols, 1, false); // 523 outer blocks at a time
        checkReduce(w, x, 1, 1, n, true); // inner above a chunk: js
      });

      it('gives float64 arguments, other dtypes and ops it lacks to the js kernel (the same result)', () => {
        const x = Float64Array.from(randomArray(33, 9, -4, 4));
        for (const op of ['gelu', 'exp', 'log', 'erf'] as UnaryOp[]) { // float64: js
          const expected = new Float64Array(33), actual = new Float64Array(33);
          jsKernels.unary(op, x, expected);
          unaryOn(w, op, x, actual);
          expect(Array.from(actual)).to.deep.equal(Array.from(expected));
        }
        const f = Float32Array.from(x), toInt = new Int32Array(33), wantInt = new Int32Array(33);
        jsKernels.unary('copy', f, wantInt);
        unaryOn(w, 'copy', f, toInt);
        expect(Array.from(toInt)).to.deep.equal(Array.from(wantInt));
        const max64 = new Float64Array(33), want64 = new Float64Array(33);
        jsKernels.reduce('max', x, 3, 11, 1, want64);
        reduceOn(w, 'max', x, 3, 11, 1, max64);
        expect(Array.from(max64)).to.deep.equal(Array.from(want64));
      });
    });
  }

  it('splits large transcendental maps with the second thread (TSGRAD_WASM_THREADS=2, in a child process) and matches js', function () {
    this.timeout(120000);
    // 1.3M (and an odd 1.2M + 3) elements pass THREAD_MIN_FLOPS; halves are cut at multiples of 4 so the
    // lanes the first half rounds up to are not computed twice in place
    const code = `
      import { jsKernels, wasmKernels } from './src/tensor/kernels/index.ts';
      import { wasmModule } from './src/tensor/kernels/wasm/loader.ts';
      if (!wasmModule()?.shared) throw new Error('the shared-memory build did not load');
      const rand = (n, s) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 16 - 8);
      for (const n of [1300000, 1200003]) {
        const x = rand(n, 1), g = rand(n, 2).map((v) => v / 8); // g in [−1, 1], as the other gradient tests
        for (const op of ['gelu', 'exp', 'tanh']) {
          const want = new Float32Array(n), got = new Float32Array(n);
          jsKernels.unary(op, x, want);
          wasmKernels.unary(op, x, got);
          for (let i = 0; i < n; i++) if (!(Math.abs(want[i] - got[i]) <= 2e-7 + 2e-6 * Math.abs(want[i]))) throw new Error(op + ' ' + n + ' at ' + i + ': ' + got[i] + ' vs ' + want[i]);
        }
        const want = new Float32Array(n), got = new Float32Array(n);
        jsKernels.unaryGrad('geluTanh', x, g, want);
        wasmKernels.unaryGrad('geluTanh', x, g, got);
        for (let i = 0; i < n; i++) if (!(Math.abs(want[i] - got[i]) <= 2e-7 + 2e-6 * Math.abs(want[i]))) throw new Error('geluTanh grad ' + n + ' at ' + i + ': ' + got[i] + ' vs ' + want[i]);
      }
      console.log('threads ok');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, TSGRAD_WASM_THREADS: '2' },
      encoding: 'utf8',
      timeout: 100000,
    });
    expect(child.stderr).to.equal('');
    expect(child.status).to.equal(0);
    expect(child.stdout.trim()).to.equal('threads ok');
  });

  it('kernelFor routes float32 maps, binary ops and sums to wasm from their thresholds, float64 to js', () => {
    tg.setBackend('auto');
    for (const [name, at] of [['unary', thresholds.wasmUnaryElements], ['unaryGrad', thresholds.wasmUnaryElements], ['binary', thresholds.wasmBinaryElements], ['reduce', thresholds.wasmReduceElements]] as const) {
      expect(kernelFor(name, 'float32', at), name).to.equal(wasmKernels[name]);
      expect(kernelFor(name, 'float32', at - 1), name).to.equal(jsKernels[name]);
      expect(kernelFor(name, 'float64', at), name).to.equal(jsKernels[name]);
    }
  });

  it('sums a run of consecutive dims in one float32 pass (the bias gradient [B, T, C] → [C]), as js does dim by dim', () => {
    const calls: string[] = [];
    const original = wasmKernels.reduce;
    wasmKernels.reduce = (kind, x, outer, len, inner, out) => {
      calls.push(`${x.constructor.name} ${outer}×${len}×${inner}`);
      original(kind, x, outer, len, inner, out);
    };
    try {
      tg.manualSeed(3);
      const x = tg.randn([7, 9, 33]);
      tg.setBackend('js');
      const reference = x.sum([0, 1]).toArray() as number[];
      const skipMiddle = x.sum([0, 2]).toArray() as number[];
      tg.setBackend('wasm');
      const actual = x.sum([0, 1]).toArray() as number[];
      expect(calls).to.deep.equal(['Float32Array 1×63×33']);
      actual.forEach((v, i) => expect(v).to.be.closeTo(reference[i], 1e-5));
      const split = x.sum([0, 2]).toArray() as number[]; // not consecutive: two passes, the second over float64 partial sums (js)
      split.forEach((v, i) => expect(v).to.be.closeTo(skipMiddle[i], 1e-5));
      expect(calls.slice(1)).to.deep.equal(['Float32Array 1×7×297']);
    } finally {
      wasmKernels.reduce = original;
      tg.setBackend('auto');
    }
  });

  it('trains a tiny GPT (both GELU forms) on wasm to the losses of js, through the wasm maps', function () {
    this.timeout(120_000);
    const calls = { unary: 0, unaryGrad: 0, binary: 0, reduce: 0 };
    const originals = { unary: wasmKernels.unary!, unaryGrad: wasmKernels.unaryGrad!, binary: wasmKernels.binary!, reduce: wasmKernels.reduce! };
    const counted = wasmKernels as unknown as Record<keyof typeof calls, (...args: unknown[]) => void>;
    for (const name of Object.keys(calls) as (keyof typeof calls)[]) {
      counted[name] = (...args: unknown[]) => {
        calls[name]++;
        (originals[name] as (...args: unknown[]) => void)(...args);
      };
    }
    const run = (backend: tg.BackendChoice, gelu: 'tanh' | 'none'): number[] => trainTinyGpt({
      backend, seed: 5, batch: 4, optimizer: (p) => new tg.optim.AdamW(p, { lr: 1e-2 }),
      config: { vocabSize: 19, nPositions: 8, nEmbd: 16, nLayer: 2, nHead: 2, dropout: 0, tieWeights: true, gelu },
    });
    try {
      for (const gelu of ['tanh', 'none'] as const) {
        const reference = run('js', gelu);
        const losses = run('wasm', gelu);
        expect(reference[4]).to.be.below(reference[0]);
        losses.forEach((l, i) => expect(l, `${gelu} step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
      }
    } finally {
      Object.assign(wasmKernels, originals);
      tg.setBackend('auto');
    }
    for (const [name, count] of Object.entries(calls)) expect(count, `wasm ${name} calls`).to.be.above(0);
  });
});
