// The wasm strided layout kernels (src/tensor/kernels/wasm/layout.ts) against the js reference, on
// both builds, bit for bit (they only move floats): random shapes of rank 0–5 with size-1 and
// empty dims, strides 0 and arbitrary, offsets; permutations of slices; last stride 1 and ≠ 1;
// calls that cross the chunks (a block of rows, or one index at a time of a dim; too many pieces: js). stridedScatter
// writes into an out pre-filled with random values, which the floats it skips must keep. Then
// float64 to js, the per-call gate, the dispatch, and a tiny GPT trained through the wasm kernels.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { jsKernels, kernelFor, thresholds, wasmKernels } from '../../src/tensor/kernels/index.js';
import { loadWasm, wasmModule, type SimdFlavour, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { normalise, stridedCopyOn, stridedScatterOn } from '../../src/tensor/kernels/wasm/layout.js';
import { randomArray } from '../../bench/harness.js';
import { expectSame, trainTinyGpt } from '../helpers.js';

const int = (min: number, max: number) => fc.integer({ min, max });
const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const lastIndex = (shape: readonly number[], strides: readonly number[]) => shape.reduce((a, d, i) => a + Math.max(0, d - 1) * strides[i], 0);

/** A strided walk: shape over strides from offset, in a strided array of `length` floats. */
interface Walk { shape: number[]; strides: number[]; offset: number; length: number }
const show = (c: Walk) => `shape [${c.shape}] strides [${c.strides}] offset ${c.offset} of ${c.length}`;

/** Any shape of rank 0–5 (size-1 and empty dims among them), any strides 0–9, any offset, a few floats past the last read. */
const walkArb: fc.Arbitrary<Walk> = fc.array(fc.record({ d: fc.constantFrom(0, 1, 1, 2, 3, 4, 5, 7), s: int(0, 9) }), { maxLength: 5 })
  .chain((dims) => fc.record({ offset: int(0, 20), extra: int(0, 5) }).map(({ offset, extra }) => {
    const shape = dims.map((x) => x.d), strides = dims.map((x) => x.s);
    return { shape, strides, offset, length: offset + lastIndex(shape, strides) + 1 + extra };
  }));

/** A permutation of a slice (start, step per dim) of a contiguous array: permute ∘ slice, as the ops build them. */
const sliceArb: fc.Arbitrary<Walk> = fc.array(fc.record({ size: int(1, 9), start: int(0, 3), step: int(1, 3) }), { minLength: 1, maxLength: 5 })
  .chain((dims) => fc.shuffledSubarray(dims.map((_, i) => i), { minLength: dims.length, maxLength: dims.length }).map((perm) => {
    const base = dims.map((x) => x.start + x.size * x.step);
    const st = base.map((_, i) => product(base.slice(i + 1)));
    return {
      shape: perm.map((d) => dims[d].size), strides: perm.map((d) => st[d] * dims[d].step),
      offset: dims.reduce((a, x, i) => a + x.start * st[i], 0), length: product(base),
    };
  }));

/** stridedCopy and stridedScatter of one walk on wasm (gate off unless `gated`) against js. */
function check(w: WasmModule, c: Walk, seed: number, gated = false): void {
  const n = product(c.shape), what = show(c);
  const src = randomArray(c.length, seed, -3, 3);
  const expected = new Float32Array(n), actual = new Float32Array(n).fill(7); // every float must be written
  jsKernels.stridedCopy(src, c.offset, c.strides, c.shape, expected);
  stridedCopyOn(w, src, c.offset, c.strides, c.shape, actual, gated);
  expectSame(`stridedCopy ${what}`, actual, expected);
  const dense = randomArray(n, seed + 1, -3, 3), before = randomArray(c.length, seed + 2, 10, 20);
  const outJs = before.slice(), outWasm = before.slice();
  jsKernels.stridedScatter(dense, c.shape, outJs, c.offset, c.strides);
  stridedScatterOn(w, dense, c.shape, outWasm, c.offset, c.strides, gated);
  expectSame(`stridedScatter ${what}`, outWasm, outJs);
}

/** A permute of a contiguous array of `shape` by `dims`. */
function permuteOf(shape: number[], dims: number[]): Walk {
  const st = shape.map((_, i) => product(shape.slice(i + 1)));
  return { shape: dims.map((d) => shape[d]), strides: dims.map((d) => st[d]), offset: 0, length: product(shape) };
}

describe('wasm strided layout kernels', function () {
  before(function () {
    if (!wasmKernels.available()) this.skip(); // build/*.wasm missing: `npm run build`
  });

  it('normalise drops size-1 dims and merges dims that step as one', () => {
    expect(normalise([2, 1, 3, 4], [12, 99, 4, 1])).to.deep.equal({ shape: [24], strides: [1] });
    expect(normalise([12, 4, 64, 32], [8192, 32, 128, 1])).to.deep.equal({ shape: [12, 4, 64, 32], strides: [8192, 32, 128, 1] });
    expect(normalise([3, 5, 2], [0, 0, 1])).to.deep.equal({ shape: [15, 2], strides: [0, 1] });
    expect(normalise([], [])).to.deep.equal({ shape: [1], strides: [1] });
  });

  for (const flavour of ['plain', 'relaxed'] as SimdFlavour[]) {
    describe(`${flavour} build`, () => {
      let w: WasmModule;
      before(function () {
        const loaded = loadWasm(flavour);
        if (loaded === null) this.skip();
        else w = loaded;
      });

      it('equal js on random shapes, strides (0 too) and offsets, rank 0–5 with size-1 and empty dims', () => {
        fc.assert(fc.property(walkArb, int(1, 2 ** 30), (c, seed) => check(w, c, seed)), { numRuns: 500, seed: 41 });
      });

      it('equal js on permutations of slices (last stride 1 and ≠ 1)', () => {
        fc.assert(fc.property(sliceArb, int(1, 2 ** 30), (c, seed) => check(w, c, seed)), { numRuns: 400, seed: 42 });
      });

      it('equal js on the W5 shapes, transposes and broadcasts, gated as dispatch runs them and not', () => {
        const cases: Walk[] = [
          { shape: [12, 4, 64, 32], strides: [8192, 32, 128, 1], offset: 0, length: 98304 },
          { shape: [12, 64, 4, 32], strides: [8192, 32, 2048, 1], offset: 0, length: 98304 },
          ...[0, 128, 256].map((offset) => ({ shape: [12, 64, 128], strides: [24576, 384, 1], offset, length: 294912 })),
          permuteOf([48, 64, 64], [0, 2, 1]),
          { shape: [256, 256], strides: [1, 0], offset: 3, length: 300 }, // expand of a column: last stride 0
          { shape: [64, 3, 33], strides: [0, 33, 1], offset: 0, length: 99 }, // expand of a leading dim
        ];
        for (const [i, c] of cases.entries()) for (const gated of [true, false]) check(w, c, i, gated);
      });

      it('cross the chunks (2^18 floats per array): blocks of rows, one index of a dim at a time, a broadcast source', () => {
        const cases: Walk[] = [
          { shape: [3, 300_001], strides: [300_001, 1], offset: 0, length: 900_003 }, // one row over a chunk
          { shape: [5, 70_000], strides: [70_001, 1], offset: 2, length: 350_010 }, // blocks of 3 rows
          { shape: [3, 2, 200_000], strides: [400_001, 200_000, 1], offset: 0, length: 1_200_003 }, // a row of 400,000 (merged): one at a time, in blocks
          permuteOf([2, 150_000, 3], [0, 2, 1]), // last stride 3, interleaved spans: 12 pieces, each index of dims 0 and 1 split again
          permuteOf([600, 700], [1, 0]), // one short row per piece: past MAX_PIECES, js
          { shape: [4, 300_000], strides: [0, 1], offset: 1, length: 300_001 }, // the same source under every row
          { shape: [2, 2, 200_000], strides: [0, 200_000, 1], offset: 0, length: 400_000 },
          { shape: [3, 2, 100_000], strides: [1, 300_000, 3], offset: 0, length: 600_000 }, // interleaved: scatter copies spans in
        ];
        for (const [i, c] of cases.entries()) check(w, c, 100 + i);
      });

      it('gives float64 arguments to the js kernels (the same result)', () => {
        const c = permuteOf([3, 4, 5], [2, 0, 1]);
        const src = Float64Array.from(randomArray(c.length, 5));
        const expected = new Float64Array(60), actual = new Float64Array(60);
        jsKernels.stridedCopy(src, 0, c.strides, c.shape, expected);
        stridedCopyOn(w, src, 0, c.strides, c.shape, actual, false);
        expectSame('stridedCopy float64', actual, expected);
        const outJs = new Float64Array(60).fill(2), outWasm = new Float64Array(60).fill(2);
        jsKernels.stridedScatter(expected, c.shape, outJs, 0, c.strides);
        stridedScatterOn(w, expected, c.shape, outWasm, 0, c.strides, false);
        expectSame('stridedScatter float64', outWasm, outJs);
      });
    });
  }

  it('kernelFor routes float32 strided copies and scatters to wasm from wasmLayoutElements, float64 to js', () => {
    for (const name of ['stridedCopy', 'stridedScatter'] as const) {
      const at = thresholds.wasmLayoutElements;
      expect(kernelFor(name, 'float32', at), name).to.equal(wasmKernels[name]);
      expect(kernelFor(name, 'float32', at - 1), name).to.equal(jsKernels[name]);
      expect(kernelFor(name, 'float64', at), name).to.equal(jsKernels[name]);
    }
  });

  it('trains a tiny GPT on wasm to the losses of js, through the wasm layout kernels into the module', function () {
    this.timeout(120_000);
    const w = wasmModule()!;
    const calls = { stridedCopy: 0, stridedScatter: 0, moduleCopy: 0 };
    const originals = { stridedCopy: wasmKernels.stridedCopy!, stridedScatter: wasmKernels.stridedScatter! };
    const exportsBefore = w.exports;
    const counted = wasmKernels as unknown as Record<string, (...args: unknown[]) => void>;
    for (const name of ['stridedCopy', 'stridedScatter'] as const) {
      counted[name] = (...args: unknown[]) => {
        calls[name]++;
        (originals[name] as (...args: unknown[]) => void)(...args);
      };
    }
    // the calls the per-call gate lets into the module (the instance's exports are frozen: a copy)
    w.exports = { ...exportsBefore, stridedCopy: (...args: [number, number, number, number]) => (calls.moduleCopy++, exportsBefore.stridedCopy(...args)) };
    // GPT's attention is one fused kernel that moves no head, so the loss adds a term through a
    // head split of the embeddings ([4, 16, 2, 32] permuted: runs of 32, past the gate) and a cat
    const run = (backend: 'js' | 'wasm'): number[] => trainTinyGpt({
      backend, seed: 6, batch: 4, config: { vocabSize: 23, nPositions: 16, nEmbd: 64, nLayer: 1, nHead: 2, dropout: 0 },
      loss: (model, idx, targets) => {
        const heads = tg.permute(model.transformer.wte.forward(idx).reshape(4, 16, 2, 32), 0, 2, 1, 3);
        return model.forward(idx, targets).loss!.add(tg.cat([heads, heads], 3).pow(2).mean().mul(1e-3));
      },
    });
    try {
      const reference = run('js');
      const losses = run('wasm');
      expect(reference[4]).to.be.below(reference[0]);
      losses.forEach((l, i) => expect(l, `step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
    } finally {
      Object.assign(wasmKernels, originals);
      w.exports = exportsBefore;
    }
    for (const [name, count] of Object.entries(calls)) expect(count, `wasm ${name} calls`).to.be.above(0);
  });
});
