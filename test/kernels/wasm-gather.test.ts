// The wasm row gathers and scatter-adds (src/tensor/kernels/wasm/gather.ts) against the js
// reference, on both builds, bit for bit (a gather moves floats; a scatter-add does js's float32
// adds in js's order): random outer / len / inner (1, odd, not a multiple of 4) with repeated
// indices and `skip` rows, into an out that starts nonzero; each of the three ways a call can go
// (a range of rows, whole planes, one distinct row at a time) and calls that cross the chunks; the
// module's memory staying bounded under a large table; float64 and out-of-range indices to js; the
// dispatch; and a tiny GPT and an embedding with a padding row trained through the wasm kernels.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { jsKernels, kernelFor, thresholds, wasmKernels } from '../../src/tensor/kernels/index.js';
import { loadWasm, wasmModule, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { gatherRowsOn, scatterAddRowsOn } from '../../src/tensor/kernels/wasm/gather.js';
import { randomArray } from '../../bench/harness.js';
import { expectSame, trainTinyGpt } from '../helpers.js';

const int = (min: number, max: number) => fc.integer({ min, max });

/** A call of either kernel: src or out viewed [outer, len, inner], `index` into len, `skip` (−1: none). */
interface Call { outer: number; len: number; inner: number; index: number[]; skip: number }
const show = (c: Call) => `outer ${c.outer} len ${c.len} inner ${c.inner} count ${c.index.length} skip ${c.skip}`;

/** Small random calls: inner 1–11, indices with repeats, skip one of them or none. */
const callArb: fc.Arbitrary<Call> = fc.record({ outer: int(1, 4), len: int(1, 9), inner: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 11, 16, 33) })
  .chain(({ outer, len, inner }) => fc.record({
    index: fc.array(int(0, len - 1), { maxLength: 13 }),
    skipAt: int(-1, len - 1),
  }).map(({ index, skipAt }) => ({ outer, len, inner, index, skip: skipAt })));

/** Indices into len rows from a fixed seed: uniform, so that small tables repeat rows. */
const indices = (count: number, len: number, seed: number): number[] => Array.from(randomArray(count, seed, 0, 1), (x) => Math.min(len - 1, Math.floor(x * len)));

/** gatherRows and scatterAddRows of one call on wasm (gate off unless `gated`) against js; the scatter adds into nonzero values. */
function check(w: WasmModule, c: Call, seed: number, gated = false): void {
  const { outer, len, inner, skip } = c, index = Int32Array.from(c.index), what = show(c);
  const table = randomArray(outer * len * inner, seed, -3, 3), n = outer * index.length * inner;
  const expected = new Float32Array(n), actual = new Float32Array(n).fill(7); // every float must be written
  jsKernels.gatherRows(table, outer, len, inner, index, expected);
  gatherRowsOn(w, table, outer, len, inner, index, actual, gated);
  expectSame(`gatherRows ${what}`, actual, expected);
  const g = randomArray(n, seed + 1, -3, 3), before = randomArray(outer * len * inner, seed + 2, -20, 20);
  const outJs = before.slice(), outWasm = before.slice();
  jsKernels.scatterAddRows(g, outer, len, inner, index, outJs, skip);
  scatterAddRowsOn(w, g, outer, len, inner, index, outWasm, skip, gated);
  expectSame(`scatterAddRows ${what}`, outWasm, outJs);
}

describe('wasm row gather and scatter-add kernels', function () {
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

      it('equal js on random calls: size-1 and odd dims, repeated indices, skipped rows, nonzero out', () => {
        fc.assert(fc.property(callArb, int(1, 2 ** 30), (c, seed) => check(w, c, seed)), { numRuns: 600, seed: 51 });
      });

      it('equal js gated as dispatch runs them (js or wasm per call)', () => {
        fc.assert(fc.property(callArb, int(1, 2 ** 30), (c, seed) => check(w, c, seed, true)), { numRuns: 200, seed: 52 });
      });

      it('equal js on the embedding shapes: W5 (65 × 128 by 768, 64 × 128 by 64), a padding row, a table of 4000 rows', () => {
        check(w, { outer: 1, len: 65, inner: 128, index: indices(768, 65, 1), skip: -1 }, 1, true);
        check(w, { outer: 1, len: 64, inner: 128, index: Array.from({ length: 64 }, (_, i) => i), skip: -1 }, 2, true);
        check(w, { outer: 1, len: 65, inner: 384, index: indices(768, 65, 3), skip: 0 }, 3);
        check(w, { outer: 1, len: 4000, inner: 128, index: indices(2048, 4000, 4), skip: 17 }, 4); // range 512K floats: one row at a time
      });

      it('cross the chunks (2^18 floats per array): blocks of outer indices, of rows, whole planes, distinct rows', () => {
        const cases: Call[] = [
          { outer: 1, len: 20, inner: 1001, index: indices(300, 20, 5), skip: 3 }, // 300 rows of 1001 floats: 261 rows per call
          { outer: 3, len: 50, inner: 2000, index: indices(200, 50, 6), skip: -1 }, // one outer index at a time, in row chunks
          { outer: 5000, len: 100, inner: 1, index: indices(60, 100, 7), skip: 40 }, // whole planes, two blocks of them
          { outer: 7, len: 30, inner: 5, index: indices(70_000, 30, 8).map((i) => i + 2).map((i) => Math.min(i, 29)), skip: -1 }, // range from row 2, rows chunked
          { outer: 2, len: 50_257, inner: 8, index: indices(40_000, 50_257, 9), skip: 11 }, // distinct rows, repeats across chunks
          { outer: 1, len: 60, inner: 4000, index: indices(100, 60, 10), skip: -1 }, // a range of 240K floats, rows chunked
          { outer: 3, len: 1000, inner: 4, index: indices(500, 100, 15).map((i) => i + 100), skip: 150 }, // rows 100 … 199 of each plane: a copy per plane
        ];
        for (const [i, c] of cases.entries()) check(w, c, 100 + i);
      });

      it('keeps the module memory bounded: a table of 3000 × 700 floats (8 MB) never goes in whole', () => {
        const fresh = loadWasm(flavour)!, before = fresh.memory.buffer.byteLength;
        check(fresh, { outer: 1, len: 3000, inner: 700, index: indices(2048, 3000, 11), skip: -1 }, 11);
        check(fresh, { outer: 1, len: 3000, inner: 700, index: indices(2048, 3000, 12), skip: 5 }, 12, true);
        // three arrays of at most 1 MB each past the static data, rounded up to a page
        expect(fresh.memory.buffer.byteLength).to.be.at.most(Math.max(before, fresh.heapBase + 3 * (1 << 20) + 65536));
      });

      it('gives float64 and int32 arguments, and indices outside [0, len), to the js kernels (the same result)', () => {
        const index = Int32Array.from([2, 0, 2, 1]);
        const src = Float64Array.from(randomArray(2 * 3 * 5, 13)), expected = new Float64Array(2 * 4 * 5), actual = new Float64Array(2 * 4 * 5);
        jsKernels.gatherRows(src, 2, 3, 5, index, expected);
        gatherRowsOn(w, src, 2, 3, 5, index, actual, false);
        expectSame('gatherRows float64', actual, expected);
        const outJs = new Float64Array(30).fill(2), outWasm = new Float64Array(30).fill(2);
        jsKernels.scatterAddRows(expected, 2, 3, 5, index, outJs, 0);
        scatterAddRowsOn(w, expected, 2, 3, 5, index, outWasm, 0, false);
        expectSame('scatterAddRows float64', outWasm, outJs);
        const ints = Int32Array.from({ length: 30 }, (_, i) => i * 3 - 7), intsJs = new Int32Array(40), intsWasm = new Int32Array(40);
        jsKernels.gatherRows(ints, 2, 3, 5, index, intsJs);
        gatherRowsOn(w, ints, 2, 3, 5, index, intsWasm, false);
        expectSame('gatherRows int32', intsWasm, intsJs);
        for (const bad of [[0, 3], [-1, 1]]) {
          const index = Int32Array.from(bad), table = randomArray(30, 14), g = randomArray(20, 15);
          const [gJs, gWasm] = [new Float32Array(20).fill(7), new Float32Array(20).fill(7)];
          jsKernels.gatherRows(table, 2, 3, 5, index, gJs);
          gatherRowsOn(w, table, 2, 3, 5, index, gWasm, false);
          expectSame(`gatherRows index [${bad}]`, gWasm, gJs);
          const [sJs, sWasm] = [table.slice(), table.slice()];
          jsKernels.scatterAddRows(g, 2, 3, 5, index, sJs, -1);
          scatterAddRowsOn(w, g, 2, 3, 5, index, sWasm, -1, false);
          expectSame(`scatterAddRows index [${bad}]`, sWasm, sJs);
        }
      });
    });
  }

  it('kernelFor routes float32 gathers and scatter-adds to wasm from wasmGatherElements, float64 to js', () => {
    for (const name of ['gatherRows', 'scatterAddRows'] as const) {
      const at = thresholds.wasmGatherElements;
      expect(kernelFor(name, 'float32', at), name).to.equal(wasmKernels[name]);
      expect(kernelFor(name, 'float32', at - 1), name).to.equal(jsKernels[name]);
      expect(kernelFor(name, 'float64', at), name).to.equal(jsKernels[name]);
    }
  });

  describe('training through the wasm kernels', () => {
    const names = ['gatherRows', 'scatterAddRows'] as const;
    let w: WasmModule, calls: Record<string, number>, exportsBefore: WasmModule['exports'];
    const originals = { gatherRows: wasmKernels.gatherRows!, scatterAddRows: wasmKernels.scatterAddRows! };
    const family = wasmKernels as unknown as Record<string, unknown>;
    /** Runs fn with the wasm family's gather kernels replaced by js's: every other kernel the same. */
    const withJsGathers = <T>(fn: () => T): T => {
      for (const name of names) family[name] = jsKernels[name];
      try {
        return fn();
      } finally {
        Object.assign(wasmKernels, originals);
      }
    };

    beforeEach(() => {
      w = wasmModule()!;
      exportsBefore = w.exports;
      calls = { gatherRows: 0, scatterAddRows: 0 };
      // the calls the per-call estimate lets into the module (the instance's exports are frozen: a copy)
      const counted: Record<string, unknown> = { ...exportsBefore };
      for (const name of names) {
        const fn = (exportsBefore as unknown as Record<string, (...args: number[]) => void>)[name];
        counted[name] = (...args: number[]) => (calls[name]++, fn(...args));
      }
      w.exports = counted as unknown as WasmModule['exports'];
    });
    afterEach(() => {
      w.exports = exportsBefore;
    });

    it('trains a tiny GPT to the losses of js, and bit for bit to the wasm family with js gathers', function () {
      this.timeout(120_000);
      // 8 × 16 tokens of width 32: the wte gather and its gradient (4096 floats) pass the threshold and the estimate
      const run = (backend: 'js' | 'wasm'): number[] => trainTinyGpt({
        backend, seed: 7, batch: 8, config: { vocabSize: 23, nPositions: 16, nEmbd: 32, nLayer: 1, nHead: 2, dropout: 0 },
      });
      const reference = run('js');
      const withJs = withJsGathers(() => run('wasm'));
      const before = { ...calls };
      const losses = run('wasm');
      expect(before, 'module calls while js gathered').to.deep.equal({ gatherRows: 0, scatterAddRows: 0 });
      expect(reference[4]).to.be.below(reference[0]);
      expect(losses).to.deep.equal(withJs);
      losses.forEach((l, i) => expect(l, `step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
      for (const name of names) expect(calls[name], `wasm ${name} calls`).to.be.above(0);
    });

    it('trains an embedding with a padding row (skipped in the gradient) bit for bit as with js gathers', function () {
      this.timeout(60_000);
      const train = (): { losses: number[]; weight: Float32Array } => {
        tg.setBackend('wasm');
        try {
          tg.manualSeed(3);
          const emb = new tg.nn.Embedding(40, 24, { paddingIdx: 3 }), head = new tg.nn.Linear(24, 5);
          const optimizer = new tg.optim.SGD([...emb.parameters(), ...head.parameters()], { lr: 0.5 });
          const idx = tg.randint(0, 40, [16, 12]), targets = tg.randint(0, 5, [16]);
          for (let i = 0; i < idx.size; i += 5) (idx.data as Int32Array)[i] = 3; // padding tokens among them
          const losses: number[] = [];
          for (let step = 0; step < 4; step++) {
            optimizer.zeroGrad();
            const loss = tg.F.crossEntropy(head.forward(emb.forward(idx).mean(1)), targets); // (16, 12, 24) → (16, 24) → (16, 5)
            loss.backward();
            optimizer.step();
            losses.push(loss.item());
          }
          return { losses, weight: emb.weight.data as Float32Array };
        } finally {
          tg.setBackend('auto');
        }
      };
      const reference = withJsGathers(train);
      const result = train();
      expect(result.losses).to.deep.equal(reference.losses);
      expectSame('embedding weight', result.weight, reference.weight);
      expect(Array.from(result.weight.subarray(3 * 24, 4 * 24)).every((v) => v === 0), 'padding row stays zero').to.equal(true);
      for (const name of names) expect(calls[name], `wasm ${name} calls`).to.be.above(0);
    });
  });
});
