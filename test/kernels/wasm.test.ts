// The wasm kernel family against the js reference: matmul on random shapes (odd sizes, vectors,
// transposes, broadcast batches, sizes across the cache blocks), softmax forward/backward, exp.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import { jsKernels, wasmKernels, type MatmulArgs } from '../../src/tensor/kernels/index.js';
import { loadWasm, memoryF32, wasmModule, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { matmulOn } from '../../src/tensor/kernels/wasm/matmul.js';
import { softmaxBackwardOn, softmaxOn } from '../../src/tensor/kernels/wasm/softmax.js';

// deterministic uniform values (xorshift32) shared with the bench, so a failing case can be replayed
import { randomArray } from '../../bench/harness.js';
import { expectSame } from '../helpers.js';

interface Case {
  batch: number; m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  broadcastA: boolean; broadcastB: boolean; // all offsets 0 for that operand
  seed: number;
}

/** Builds matmul args for a case; operands start at a non-zero offset to exercise the used-range copy. */
function makeArgs(c: Case, out: Float32Array | Float64Array, f64 = false): MatmulArgs {
  const { batch, m, n, k } = c;
  const lead = 3; // unused floats before the first matrix
  const aCount = c.broadcastA ? 1 : batch;
  const bCount = c.broadcastB ? 1 : batch;
  let a: Float32Array | Float64Array = randomArray(lead + aCount * m * k, c.seed);
  let b: Float32Array | Float64Array = randomArray(lead + bCount * k * n, c.seed + 7);
  if (f64) {
    a = Float64Array.from(a);
    b = Float64Array.from(b);
  }
  const aOffsets = Int32Array.from({ length: batch }, (_, i) => lead + (c.broadcastA ? 0 : i * m * k));
  const bOffsets = Int32Array.from({ length: batch }, (_, i) => lead + (c.broadcastB ? 0 : i * k * n));
  return { a, b, out, batch, m, n, k, transA: c.transA, transB: c.transB, aOffsets, bOffsets };
}

/** float32 rounding grows with the length of each dot product: inputs in [-1, 1], tolerance ∝ k. */
function expectMatmulClose(c: Case, w: WasmModule | null = wasmModule()): void {
  const size = c.batch * c.m * c.n;
  const expected = new Float32Array(size);
  const actual = new Float32Array(size).fill(NaN); // must be overwritten everywhere
  jsKernels.matmul(makeArgs(c, expected));
  matmulOn(w, makeArgs(c, actual));
  const tol = 1e-6 * (c.k + 4);
  for (let i = 0; i < size; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${JSON.stringify(c)}: out[${i}] = ${actual[i]}, js gives ${expected[i]}`);
    }
  }
}

const caseArb = (maxM: number, maxN: number, maxK: number): fc.Arbitrary<Case> =>
  fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    m: fc.integer({ min: 1, max: maxM }),
    n: fc.integer({ min: 1, max: maxN }),
    k: fc.integer({ min: 1, max: maxK }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    broadcastA: fc.boolean(),
    broadcastB: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });

describe('wasm kernels', function () {
  before(function () {
    if (!wasmKernels.available()) this.skip(); // build/*.wasm missing: `npm run build`
  });

  describe('matmul', () => {
    it('matches js on random small shapes (tiles, tails, transposes, broadcast batches)', () => {
      fc.assert(fc.property(caseArb(13, 21, 19), (c) => expectMatmulClose(c)), { numRuns: 300, seed: 1 });
    });

    it('matches js on vectors: 1×k · k×n and m×k · k×1 (the gemv paths)', () => {
      const vec = fc.oneof(caseArb(1, 80, 70), caseArb(80, 1, 70), caseArb(1, 1, 40));
      fc.assert(fc.property(vec, (c) => expectMatmulClose(c)), { numRuns: 200, seed: 2 });
    });

    it('matches js on medium shapes that are not multiples of the 4×8 tile', () => {
      fc.assert(fc.property(caseArb(70, 70, 300), (c) => expectMatmulClose(c)), { numRuns: 25, seed: 3 });
    });

    it('matches js across every cache block edge (m > 128, n > 1024, k > 256)', () => {
      for (const [transA, transB] of [[false, false], [true, true], [false, true], [true, false]]) {
        expectMatmulClose({ batch: 1, m: 131, n: 1030, k: 261, transA, transB, broadcastA: false, broadcastB: false, seed: 11 });
      }
    });

    it('adds a bias to every row of every product, on both builds, as js does (and with k = 0)', () => {
      for (const flavour of ['relaxed', 'plain'] as SimdFlavour[]) {
        const w = flavour === wasmModule()?.flavour ? wasmModule() : loadWasm(flavour);
        if (w === null) continue;
        fc.assert(fc.property(caseArb(13, 21, 19), fc.boolean(), (c, emptyK) => {
          const kase = emptyK ? { ...c, k: 0 } : c;
          const bias = randomArray(kase.n, kase.seed + 7);
          const expected = new Float32Array(kase.batch * kase.m * kase.n), actual = new Float32Array(expected.length).fill(NaN);
          jsKernels.matmul({ ...makeArgs(kase, expected), bias });
          matmulOn(w, { ...makeArgs(kase, actual), bias });
          for (let i = 0; i < expected.length; i++) expect(actual[i]).to.be.closeTo(expected[i], 1e-6 * (kase.k + 4));
          // and the bias really is in there: js with bias minus js without equals the bias
          const plain = new Float32Array(expected.length);
          jsKernels.matmul(makeArgs(kase, plain));
          for (let i = 0; i < expected.length; i++) expect(expected[i] - plain[i]).to.be.closeTo(bias[i % kase.n], 1e-5);
        }), { numRuns: 60, seed: 12 });
      }
    });

    it('reads matrices in place with row strides lda, ldb (attention heads): js against packed copies, wasm against js', () => {
      const strided = fc.record({ c: fc.oneof(caseArb(13, 21, 19), caseArb(1, 40, 30), caseArb(40, 1, 30)), padA: fc.integer({ min: 0, max: 5 }), padB: fc.integer({ min: 0, max: 5 }) });
      fc.assert(fc.property(strided, ({ c, padA, padB }) => {
        const { batch, m, n, k, transA, transB } = c;
        const [aRows, aCols] = transA ? [k, m] : [m, k], [bRows, bCols] = transB ? [n, k] : [k, n];
        const lda = aCols + padA, ldb = bCols + padB;
        // batch entry i's matrices lie one after another, each rows × ld with the padding after each row
        const a = randomArray(batch * aRows * lda + 2, c.seed), b = randomArray(batch * bRows * ldb + 2, c.seed + 1);
        const aOffsets = Int32Array.from({ length: batch }, (_, i) => 2 + i * aRows * lda);
        const bOffsets = Int32Array.from({ length: batch }, (_, i) => 1 + i * bRows * ldb);
        const pack = (x: Float32Array, offs: Int32Array, rows: number, cols: number, ld: number) => {
          const out = new Float32Array(batch * rows * cols);
          for (let i = 0; i < batch; i++) for (let r = 0; r < rows; r++) out.set(x.subarray(offs[i] + r * ld, offs[i] + r * ld + cols), (i * rows + r) * cols);
          return out;
        };
        const packedOffsets = (size: number) => Int32Array.from({ length: batch }, (_, i) => i * size);
        const size = batch * m * n;
        const want = new Float32Array(size), js = new Float32Array(size), wasm = new Float32Array(size).fill(NaN);
        jsKernels.matmul({ a: pack(a, aOffsets, aRows, aCols, lda), b: pack(b, bOffsets, bRows, bCols, ldb), out: want, batch, m, n, k, transA, transB, aOffsets: packedOffsets(m * k), bOffsets: packedOffsets(k * n) });
        const args = { a, b, batch, m, n, k, transA, transB, aOffsets, bOffsets, lda, ldb };
        jsKernels.matmul({ ...args, out: js });
        matmulOn(wasmModule(), { ...args, out: wasm });
        expectSame('js strided vs packed', js, want);
        for (let i = 0; i < size; i++) expect(wasm[i], `wasm out[${i}]`).to.be.closeTo(want[i], 1e-6 * (k + 4));
      }), { numRuns: 300, seed: 21 });
    });

    it('writes zeros when k = 0 and nothing when m·n = 0', () => {
      const out = new Float32Array(6).fill(5);
      const empty = new Float32Array(0);
      const offsets = new Int32Array(2);
      wasmKernels.matmul({ a: empty, b: empty, out, batch: 2, m: 1, n: 3, k: 0, transA: false, transB: false, aOffsets: offsets, bOffsets: offsets });
      expect(Array.from(out)).to.deep.equal([0, 0, 0, 0, 0, 0]);
      wasmKernels.matmul({ a: empty, b: empty, out: empty, batch: 2, m: 0, n: 3, k: 4, transA: false, transB: false, aOffsets: offsets, bOffsets: offsets });
    });

    it('gives float64 arguments to the js kernel (exact same result)', () => {
      const c: Case = { batch: 2, m: 5, n: 6, k: 7, transA: true, transB: false, broadcastA: false, broadcastB: true, seed: 5 };
      const expected = new Float64Array(60);
      const actual = new Float64Array(60);
      jsKernels.matmul(makeArgs(c, expected, true));
      wasmKernels.matmul(makeArgs(c, actual, true));
      expect(Array.from(actual)).to.deep.equal(Array.from(expected));
    });

    it('grows its memory for a large product and still matches', () => {
      expectMatmulClose({ batch: 2, m: 300, n: 200, k: 500, transA: false, transB: true, broadcastA: false, broadcastB: false, seed: 9 });
    });
  });

  describe('softmax', () => {
    const shape = fc.record({
      rows: fc.integer({ min: 1, max: 9 }),
      cols: fc.integer({ min: 1, max: 70 }),
      scale: fc.constantFrom(1, 10, 100),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });

    it('forward matches js on random shapes', () => {
      fc.assert(fc.property(shape, ({ rows, cols, scale, seed }) => {
        const x = randomArray(rows * cols, seed, -scale, scale);
        const expected = new Float32Array(rows * cols);
        const actual = new Float32Array(rows * cols);
        jsKernels.softmax(x, expected, rows, cols);
        wasmKernels.softmax(x, actual, rows, cols);
        for (let i = 0; i < x.length; i++) {
          expect(Math.abs(actual[i] - expected[i])).to.be.at.most(2e-6 * expected[i] + 1e-12, `element ${i}`);
        }
      }), { numRuns: 200, seed: 4 });
    });

    it('backward matches js on random shapes', () => {
      fc.assert(fc.property(shape, ({ rows, cols, seed }) => {
        const y = new Float32Array(rows * cols);
        jsKernels.softmax(randomArray(rows * cols, seed, -3, 3), y, rows, cols);
        const dy = randomArray(rows * cols, seed + 1);
        const expected = new Float32Array(rows * cols);
        const actual = new Float32Array(rows * cols);
        jsKernels.softmaxBackward(y, dy, expected, rows, cols);
        wasmKernels.softmaxBackward(y, dy, actual, rows, cols);
        for (let i = 0; i < y.length; i++) expect(actual[i]).to.be.closeTo(expected[i], 1e-6);
      }), { numRuns: 200, seed: 5 });
    });

    it('goes through wasm memory chunk by chunk: many rows, and rows longer than a chunk', () => {
      // CHUNK_FLOATS is 2^18: 600 rows of 1000 take three chunks; a row of 2^18 + 5 needs one alone
      for (const [rows, cols] of [[600, 1000], [3, (1 << 18) + 5]]) {
        const x = randomArray(rows * cols, 3, -20, 20);
        const expected = new Float32Array(rows * cols);
        const actual = new Float32Array(rows * cols);
        jsKernels.softmax(x, expected, rows, cols);
        wasmKernels.softmax(x, actual, rows, cols);
        // relative 2e-6 (x − max rounded to float32 alone moves exp by up to |x − max|·6e-8), absolute 1e-12
        let bad = 0;
        for (let i = 0; i < x.length; i++) if (!(Math.abs(actual[i] - expected[i]) <= 2e-6 * expected[i] + 1e-12)) bad++;
        expect(bad).to.equal(0);
        const dy = randomArray(rows * cols, 4);
        jsKernels.softmaxBackward(expected, dy, x, rows, cols); // x reused as the js gradient
        wasmKernels.softmaxBackward(expected, dy, actual, rows, cols);
        let worst = 0;
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(actual[i] - x[i]));
        expect(worst).to.be.below(1e-6);
      }
    });

    it('gives no NaN for ±1000 logits, and exact zeros far below the max', () => {
      const x = Float32Array.from([1000, -1000, 999, -1000, 0, 1000, 1000, -1000, 500]);
      const out = new Float32Array(9);
      wasmKernels.softmax(x, out, 1, 9);
      const expected = new Float32Array(9);
      jsKernels.softmax(x, expected, 1, 9);
      for (let i = 0; i < 9; i++) {
        expect(Number.isNaN(out[i])).to.equal(false);
        expect(out[i]).to.be.closeTo(expected[i], 1e-6);
      }
      expect(out[1]).to.equal(0);
      expect(out[4]).to.equal(0);
    });

    it('maps −∞ (masked) logits to 0 and a fully masked row to NaN, like js', () => {
      const x = Float32Array.from([0, -Infinity, 1, -Infinity, /* row 2 */ -Infinity, -Infinity, -Infinity, -Infinity]);
      const out = new Float32Array(8);
      wasmKernels.softmax(x, out, 2, 4);
      expect(out[1]).to.equal(0);
      expect(out[3]).to.equal(0);
      expect(out[0] + out[2]).to.be.closeTo(1, 1e-6);
      expect(Array.from(out.subarray(4)).every(Number.isNaN)).to.equal(true);
    });

    it('propagates a NaN input to its row', () => {
      const x = Float32Array.from([0, NaN, 1, 2, 3, 4, 5, 6, 7]);
      const out = new Float32Array(9);
      wasmKernels.softmax(x, out, 1, 9);
      expect(Array.from(out).every(Number.isNaN)).to.equal(true);
    });
  });

  describe('the other build (plain SIMD when relaxed is loaded, and the reverse)', () => {
    let other: WasmModule | null = null;
    before(function () {
      other = loadWasm(wasmModule()?.flavour === 'relaxed' ? 'plain' : 'relaxed');
      if (other === null) this.skip();
    });

    it('matmul matches js', () => {
      fc.assert(fc.property(fc.oneof(caseArb(13, 21, 19), caseArb(1, 40, 40), caseArb(40, 1, 40)), (c) => expectMatmulClose(c, other)), { numRuns: 150, seed: 6 });
      expectMatmulClose({ batch: 1, m: 131, n: 1030, k: 261, transA: true, transB: false, broadcastA: false, broadcastB: false, seed: 12 }, other);
    });

    it('softmax forward and backward match js', () => {
      const rows = 7;
      const cols = 1027;
      const x = randomArray(rows * cols, 8, -30, 30);
      const dy = randomArray(rows * cols, 9);
      const [y0, y1, d0, d1] = [0, 1, 2, 3].map(() => new Float32Array(rows * cols));
      jsKernels.softmax(x, y0, rows, cols);
      softmaxOn(other, x, y1, rows, cols);
      jsKernels.softmaxBackward(y0, dy, d0, rows, cols);
      softmaxBackwardOn(other, y0, dy, d1, rows, cols);
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(y1[i] - y0[i])).to.be.at.most(2e-6 * y0[i] + 1e-12);
        expect(d1[i]).to.be.closeTo(d0[i], 1e-6);
      }
    });
  });

  describe('second thread (TSGRAD_THREADS=2, in a child process)', () => {
    it('splits large matmuls and softmaxes, matches js, and lets the process exit', function () {
      this.timeout(120000);
      // Large enough to pass THREAD_MIN_FLOPS: a single product (rows split), a batch (entries
      // split), both vector paths, and a softmax; exits 0 only if all match and nothing hangs.
      const code = `
        import { jsKernels, wasmKernels } from './src/tensor/kernels/index.ts';
        import { wasmModule } from './src/tensor/kernels/wasm/loader.ts';
        if (!wasmModule()?.shared) throw new Error('the shared-memory build did not load');
        const rand = (n, s) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
        const cases = [[1, 203, 300, 257, false, true], [3, 100, 180, 300, true, false], [1, 1, 40000, 400, false, false],
          [1, 40000, 1, 400, true, false], [1, 1, 40000, 400, false, true], [1, 40000, 1, 400, false, false]];
        for (const [batch, m, n, k, transA, transB] of cases) {
          const a = rand(batch * m * k, 1), b = rand(batch * k * n, 2);
          const offs = (span) => Int32Array.from({ length: batch }, (_, i) => i * span);
          const args = (out) => ({ a, b, out, batch, m, n, k, transA, transB, aOffsets: offs(m * k), bOffsets: offs(k * n) });
          const want = new Float32Array(batch * m * n), got = new Float32Array(batch * m * n);
          jsKernels.matmul(args(want));
          wasmKernels.matmul(args(got));
          for (let i = 0; i < want.length; i++) if (!(Math.abs(want[i] - got[i]) <= 1e-6 * (k + 4))) throw new Error('matmul ' + [batch, m, n, k] + ' at ' + i);
        }
        const rows = 3000, cols = 1000, x = rand(rows * cols, 3).map((v) => v * 20);
        const y0 = new Float32Array(rows * cols), y1 = new Float32Array(rows * cols);
        jsKernels.softmax(x, y0, rows, cols);
        wasmKernels.softmax(x, y1, rows, cols);
        for (let i = 0; i < y0.length; i++) if (!(Math.abs(y0[i] - y1[i]) <= 2e-6 * y0[i] + 1e-12)) throw new Error('softmax at ' + i);
        const d0 = new Float32Array(rows * cols), d1 = new Float32Array(rows * cols), g = rand(rows * cols, 4);
        jsKernels.softmaxBackward(y0, g, d0, rows, cols);
        wasmKernels.softmaxBackward(y0, g, d1, rows, cols);
        for (let i = 0; i < d0.length; i++) if (!(Math.abs(d0[i] - d1[i]) <= 1e-6)) throw new Error('softmax backward at ' + i);
        // rows longer than a streamed block: one row per block
        const [lr, lc] = [3, (1 << 17) + 5], lx = rand(lr * lc, 5).map((v) => v * 20), ly0 = new Float32Array(lr * lc), ly1 = new Float32Array(lr * lc);
        jsKernels.softmax(lx, ly0, lr, lc);
        wasmKernels.softmax(lx, ly1, lr, lc);
        for (let i = 0; i < ly0.length; i++) if (!(Math.abs(ly0[i] - ly1[i]) <= 2e-6 * ly0[i] + 1e-12)) throw new Error('long-row softmax at ' + i);
        console.log('threads ok');
      `;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        env: { ...process.env, TSGRAD_THREADS: '2' },
        encoding: 'utf8',
        timeout: 100000,
      });
      expect(child.stderr).to.equal('');
      expect(child.status).to.equal(0);
      expect(child.stdout.trim()).to.equal('threads ok');
    });
  });

  describe('exp polynomial', () => {
    for (const flavour of ['relaxed', 'plain'] as SimdFlavour[]) {
      it(`is within ${flavour === 'relaxed' ? 5 : 3}e-7 relative of Math.exp on [-87, 88] (${flavour} build)`, function () {
        const w = flavour === wasmModule()?.flavour ? wasmModule() : loadWasm(flavour);
        if (w === null) this.skip();
        const len = 200003;
        const mem = memoryF32(w, w.heapBase + 8 * len)!;
        const at = w.heapBase >> 2;
        for (let i = 0; i < len; i++) mem[at + i] = -87 + (175 * i) / (len - 1);
        const x = mem.slice(at, at + len);
        w.exports.expArray(w.heapBase, w.heapBase + 4 * len, len);
        let worst = 0;
        for (let i = 0; i < len; i++) {
          const exact = Math.exp(x[i]);
          worst = Math.max(worst, Math.abs(mem[at + len + i] - exact) / exact);
        }
        expect(worst).to.be.below(flavour === 'relaxed' ? 5e-7 : 3e-7);
      });
    }
  });
});
