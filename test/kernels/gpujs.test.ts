// The gpujs kernel family against the js reference: matmul (transposes, batches, broadcast
// offsets, K > 1000), softmax forward/backward, extreme logits, and the bounded kernel cache.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  disposeGpujs,
  gpujsCacheSize,
  gpujsCacheStats,
  gpujsKernels,
  setGpujsCacheCapacity,
} from '../../src/tensor/kernels/gpujs/index.js';
import { jsKernels } from '../../src/tensor/kernels/js/index.js';
import type { MatmulArgs } from '../../src/tensor/kernels/types.js';

/** Deterministic uniform values in [-scale, scale) (mulberry32), so failures reproduce from the seed. */
function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

interface MatmulCase {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  broadcastA: boolean; // every batch entry reads the same A (offset repeated)
  broadcastB: boolean;
  seed: number;
}

/** Runs one case on gpujs and js; returns both outputs. */
function runMatmul(c: MatmulCase, fill?: number): { gpu: Float32Array; ref: Float32Array } {
  const aCount = c.broadcastA ? 1 : c.batch;
  const bCount = c.broadcastB ? 1 : c.batch;
  const a = fill === undefined ? randomArray(aCount * c.m * c.k, c.seed) : new Float32Array(aCount * c.m * c.k).fill(fill);
  const b = fill === undefined ? randomArray(bCount * c.k * c.n, c.seed + 1) : new Float32Array(bCount * c.k * c.n).fill(fill);
  const offsets = (count: number, size: number) =>
    Int32Array.from({ length: c.batch }, (_, i) => (count === 1 ? 0 : i * size));
  const make = (): MatmulArgs => ({
    a,
    b,
    out: new Float32Array(c.batch * c.m * c.n).fill(NaN), // the kernel must overwrite every cell
    batch: c.batch,
    m: c.m,
    n: c.n,
    k: c.k,
    transA: c.transA,
    transB: c.transB,
    aOffsets: offsets(aCount, c.m * c.k),
    bOffsets: offsets(bCount, c.k * c.n),
  });
  const gpuArgs = make();
  const refArgs = make();
  gpujsKernels.matmul(gpuArgs);
  jsKernels.matmul(refArgs);
  return { gpu: gpuArgs.out as Float32Array, ref: refArgs.out as Float32Array };
}

/** float32 sums of k products of values in [-1, 1]: error grows with k. */
const matmulTolerance = (k: number) => 1e-5 + 2e-6 * k;

const dim = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 13), fc.integer({ min: 1, max: 24 }));
const matmulCase: fc.Arbitrary<MatmulCase> = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  m: dim,
  n: dim,
  k: dim,
  transA: fc.boolean(),
  transB: fc.boolean(),
  broadcastA: fc.boolean(),
  broadcastB: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

describe('gpujs kernels', () => {
  after(async () => {
    // destroys every cached kernel and the GPU instance, so mocha can exit
    await disposeGpujs();
  });

  it('loads gpu.js and reports a known target', () => {
    expect(gpujsKernels.available()).to.equal(true);
    expect(['webasm', 'headlessgl', 'webgl', 'webgl2', 'webgpu', 'cpu']).to.include(gpujsKernels.target!());
  });

  it('does not load gpu.js until first used', () => {
    const indexUrl = new URL('../../src/tensor/kernels/gpujs/index.ts', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((path) => path.includes('/gpu.js/'));
      const { gpujsKernels } = await import(${JSON.stringify(indexUrl)});
      const before = loaded();
      gpujsKernels.available();
      console.log(JSON.stringify([before, loaded()]));`;
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd });
    expect(JSON.parse(stdout.toString().trim())).to.deep.equal([false, true]);
  });

  describe('matmul', () => {
    it('matches js on random shapes, transposes and broadcast batches', () => {
      fc.assert(
        fc.property(matmulCase, (c) => {
          const { gpu, ref } = runMatmul(c);
          expect(maxAbsDiff(gpu, ref), JSON.stringify(c)).to.be.at.most(matmulTolerance(c.k));
        }),
        { numRuns: 40 },
      );
    });

    it('handles 1×N, N×1 and odd shapes', () => {
      const shapes: [number, number, number][] = [[1, 17, 5], [17, 1, 5], [1, 1, 1], [9, 11, 1], [1, 1, 33], [31, 3, 29]];
      for (const [m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const c = { batch: 2, m, n, k, transA, transB, broadcastA: false, broadcastB: true, seed: m * 100 + n };
            const { gpu, ref } = runMatmul(c);
            expect(maxAbsDiff(gpu, ref), JSON.stringify(c)).to.be.at.most(matmulTolerance(k));
          }
        }
      }
    });

    it('runs the full K when K > 1000 (no loop cap)', () => {
      // all ones: every output is exactly K; gpu.js's silent cap would give 1000
      const ones = runMatmul({ batch: 1, m: 2, n: 3, k: 2500, transA: false, transB: false, broadcastA: false, broadcastB: false, seed: 0 }, 1);
      expect(Array.from(ones.gpu)).to.deep.equal(new Array(6).fill(2500));
      const c = { batch: 2, m: 3, n: 5, k: 1500, transA: true, transB: true, broadcastA: true, broadcastB: false, seed: 7 };
      const { gpu, ref } = runMatmul(c);
      expect(maxAbsDiff(gpu, ref)).to.be.at.most(matmulTolerance(c.k));
    });

    it('writes zeros for K = 0', () => {
      const { gpu } = runMatmul({ batch: 2, m: 2, n: 3, k: 0, transA: false, transB: false, broadcastA: false, broadcastB: false, seed: 0 });
      expect(Array.from(gpu)).to.deep.equal(new Array(12).fill(0));
    });
  });

  describe('softmax', () => {
    function softmaxBoth(x: Float32Array, rows: number, cols: number) {
      const gpu = new Float32Array(rows * cols).fill(NaN);
      const ref = new Float32Array(rows * cols);
      gpujsKernels.softmax(x, gpu, rows, cols);
      jsKernels.softmax(x, ref, rows, cols);
      return { gpu, ref };
    }

    it('forward and backward match js on random shapes', () => {
      const shape = fc.record({ rows: dim, cols: dim, scale: fc.constantFrom(1, 10, 50), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }) });
      fc.assert(
        fc.property(shape, ({ rows, cols, scale, seed }) => {
          const x = randomArray(rows * cols, seed, scale);
          const { gpu, ref } = softmaxBoth(x, rows, cols);
          expect(maxAbsDiff(gpu, ref)).to.be.at.most(1e-6);

          const dy = randomArray(rows * cols, seed + 1);
          const dxGpu = new Float32Array(rows * cols).fill(NaN);
          const dxRef = new Float32Array(rows * cols);
          gpujsKernels.softmaxBackward(ref, dy, dxGpu, rows, cols);
          jsKernels.softmaxBackward(ref, dy, dxRef, rows, cols);
          expect(maxAbsDiff(dxGpu, dxRef)).to.be.at.most(1e-6);
        }),
        { numRuns: 25 },
      );
    });

    it('reduces over more than 1000 columns', () => {
      const cols = 3000;
      const { gpu } = softmaxBoth(new Float32Array(2 * cols), 2, cols); // uniform rows: 1/3000 each
      for (const v of gpu) expect(v).to.be.closeTo(1 / cols, 1e-9);
      const y = gpu;
      const dy = new Float32Array(2 * cols).fill(1); // Σ dy·y = 1, so dx = y·(1 − 1) = 0
      const dx = new Float32Array(2 * cols).fill(NaN);
      gpujsKernels.softmaxBackward(y, dy, dx, 2, cols);
      for (const v of dx) expect(Math.abs(v)).to.be.at.most(1e-6);
    });

    it('gives no NaN for logits of ±1000 and rows sum to 1', () => {
      const rows = 4;
      const cols = 9;
      const x = randomArray(rows * cols, 3).map((v) => (v < 0 ? -1000 : 1000));
      x[0] = 1000;
      x[cols] = -1000; // row 1 contains both extremes
      const { gpu, ref } = softmaxBoth(x, rows, cols);
      expect(gpu.some(Number.isNaN)).to.equal(false);
      expect(maxAbsDiff(gpu, ref)).to.be.at.most(1e-6);
      for (let r = 0; r < rows; r++) {
        const sum = gpu.subarray(r * cols, (r + 1) * cols).reduce((s, v) => s + v, 0);
        expect(sum).to.be.closeTo(1, 1e-5);
      }
    });

    it('treats −∞ (masked) logits like js: zero weight, a fully masked row is NaN', () => {
      const x = Float32Array.from([0, -Infinity, 1, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity]);
      const { gpu, ref } = softmaxBoth(x, 2, 4);
      expect(gpu[1]).to.equal(0);
      expect(gpu[3]).to.equal(0);
      expect(maxAbsDiff(gpu.subarray(0, 4), ref.subarray(0, 4))).to.be.at.most(1e-7);
      expect(Array.from(gpu.subarray(4)).every(Number.isNaN)).to.equal(true);
      expect(Array.from(ref.subarray(4)).every(Number.isNaN)).to.equal(true);
    });
  });

  describe('kernel cache', () => {
    it('reuses a kernel for a shape it has seen', () => {
      const c = { batch: 1, m: 6, n: 6, k: 6, transA: false, transB: false, broadcastA: false, broadcastB: false, seed: 1 };
      runMatmul(c);
      const created = gpujsCacheStats().created;
      runMatmul({ ...c, seed: 2 });
      expect(gpujsCacheStats().created).to.equal(created);
    });

    it('stays bounded and destroys what it evicts', () => {
      const capacity = 4;
      setGpujsCacheCapacity(capacity);
      try {
        for (let size = 1; size <= 12; size++) {
          runMatmul({ batch: 1, m: size, n: 2, k: 3, transA: false, transB: false, broadcastA: false, broadcastB: false, seed: size });
          const x = randomArray(size * 3, size);
          gpujsKernels.softmax(x, new Float32Array(size * 3), size, 3);
          expect(gpujsCacheSize()).to.be.at.most(capacity);
        }
        const stats = gpujsCacheStats();
        expect(stats.entries).to.equal(capacity);
        expect(stats.destroyed).to.equal(stats.created - stats.kernels);
        // gpu.js forgets a destroyed kernel (its cpu target keeps listing them; see GPUJS.md)
        if (gpujsKernels.target!() !== 'cpu') expect(stats.live).to.equal(stats.kernels);
      } finally {
        setGpujsCacheCapacity(32);
      }
    });

    it('rebuilds after disposeGpujs()', async () => {
      await disposeGpujs();
      expect(gpujsCacheSize()).to.equal(0);
      const { gpu, ref } = runMatmul({ batch: 1, m: 3, n: 4, k: 5, transA: true, transB: false, broadcastA: false, broadcastB: false, seed: 9 });
      expect(maxAbsDiff(gpu, ref)).to.be.at.most(matmulTolerance(5));
      expect(gpujsCacheSize()).to.equal(1);
    });
  });
});
