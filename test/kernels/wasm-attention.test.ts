// The fused packed-attention kernels (assembly/attention.ts) against the js reference on both
// builds, with fast-check on random shapes (T and d not multiples of the 4×8 tile, one head, one
// batch entry, causal or not, with dropout factors or without), and on two threads in a child
// process: the same bits as one.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import { jsKernels } from '../../src/tensor/kernels/index.js';
import type { PackedAttentionArgs } from '../../src/tensor/kernels/types.js';
import { loadWasm, wasmModule, type WasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { packedAttentionBackwardOn, packedAttentionOn } from '../../src/tensor/kernels/wasm/attention.js';
import { randomArray } from '../../bench/harness.js';

/** |a − e| ≤ tol · (1 + max |e|), elementwise. */
function expectClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  let scale = 1;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) throw new Error(`${what}[${i}] = ${actual[i]}, js gives ${expected[i]}`);
  }
}

interface Case { batch: number; T: number; heads: number; headDim: number; causal: boolean; dropout: boolean; seed: number }

/** Dropout factors 0 or 1/(1 − p) for p = 0.25, from a seed. */
function keepFactors(n: number, seed: number): Float32Array {
  return randomArray(n, seed, 0, 1).map((u) => (u < 0.25 ? 0 : 1 / 0.75));
}

function compare(w: WasmModule, c: Case): void {
  const C = c.heads * c.headDim, n = c.batch * c.T;
  const keep = c.dropout ? keepFactors(c.batch * c.heads * c.T * c.T, c.seed + 2) : null;
  const args: PackedAttentionArgs = { qkv: randomArray(n * 3 * C, c.seed, -2, 2), batch: c.batch, T: c.T, heads: c.heads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim), causal: c.causal, keep };
  const dOut = randomArray(n * C, c.seed + 1);
  const run = (fwd: typeof jsKernels.packedAttention, bwd: typeof jsKernels.packedAttentionBackward) => {
    const out = new Float32Array(n * C).fill(NaN), probs = new Float32Array(c.batch * c.heads * c.T * c.T).fill(NaN), dqkv = new Float32Array(n * 3 * C).fill(NaN);
    fwd(args, out, probs);
    bwd(args, probs, dOut, dqkv);
    return { out, probs, dqkv };
  };
  const js = run(jsKernels.packedAttention, jsKernels.packedAttentionBackward);
  const wasm = run((a, o, p) => packedAttentionOn(w, a, o, p), (a, p, g, d) => packedAttentionBackwardOn(w, a, p, g, d));
  const what = `${w.flavour} ${JSON.stringify(c)}`;
  expectClose(wasm.probs, js.probs, 1e-5, `${what} probs`);
  expectClose(wasm.out, js.out, 1e-5, `${what} out`);
  expectClose(wasm.dqkv, js.dqkv, 1e-5 * c.T, `${what} dqkv`);
  if (c.causal) for (let i = 0; i < c.T; i++) for (let j = i + 1; j < c.T; j++) expect(wasm.probs[i * c.T + j], 'causal: no weight above the diagonal').to.equal(0);
}

const cases = fc.record({
  batch: fc.integer({ min: 1, max: 3 }), T: fc.integer({ min: 1, max: 40 }), heads: fc.integer({ min: 1, max: 4 }),
  headDim: fc.integer({ min: 1, max: 24 }), causal: fc.boolean(), dropout: fc.boolean(), seed: fc.integer({ min: 1, max: 1000 }),
});

describe('wasm packed attention', function () {
  this.timeout(120_000);

  for (const flavour of ['relaxed', 'plain'] as const) {
    it(`matches js forward and backward on random shapes (${flavour} build)`, () => {
      const w = flavour === wasmModule()?.flavour ? wasmModule() : loadWasm(flavour);
      if (w === null) throw new Error(`the ${flavour} build did not load`);
      fc.assert(fc.property(cases, (c) => compare(w, c)), { numRuns: 40, seed: 13 });
      compare(w, { batch: 2, T: 64, heads: 4, headDim: 32, causal: true, dropout: false, seed: 5 }); // W5's heads
      compare(w, { batch: 2, T: 64, heads: 4, headDim: 32, causal: true, dropout: true, seed: 6 });
    });
  }

  it('gives the same bits on two threads as on one (TSGRAD_THREADS=2, in a child process)', () => {
    const code = `
      import { wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
      import { packedAttentionOn, packedAttentionBackwardOn } from './src/tensor/kernels/wasm/attention.ts';
      import { threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { randomArray } from './bench/harness.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const [batch, T, heads, headDim] = [8, 61, 4, 20], C = heads * headDim; // 32 heads: ~9.5 MFLOP forward, above THREAD_MIN_FLOPS
      const keep = randomArray(batch * heads * T * T, 5, 0, 1).map((u) => (u < 0.1 ? 0 : 1 / 0.9));
      const args = { qkv: randomArray(batch * T * 3 * C, 3, -2, 2), batch, T, heads, headDim, scale: 0.2, causal: true, keep };
      const dOut = randomArray(batch * T * C, 4);
      const run = () => {
        const out = new Float32Array(batch * T * C), probs = new Float32Array(batch * heads * T * T), dqkv = new Float32Array(batch * T * 3 * C);
        packedAttentionOn(w, args, out, probs);
        packedAttentionBackwardOn(w, args, probs, dOut, dqkv);
        return [out, probs, dqkv];
      };
      const one = withThreads(false, run);
      const before = threadStats().workerPieces;
      for (let rep = 0; rep < 10; rep++) {
        const two = withThreads(true, run);
        two.forEach((a, k) => a.forEach((v, i) => { if (!Object.is(v, one[k][i])) throw new Error('array ' + k + ' at ' + i + ': ' + v + ' vs ' + one[k][i]); }));
      }
      if (!(threadStats().workerPieces > before)) throw new Error('the worker ran no head');
      console.log('heads ok');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, TSGRAD_THREADS: '2' }, encoding: 'utf8', timeout: 100_000 });
    expect(child.stderr).to.equal('');
    expect(child.stdout.trim()).to.equal('heads ok');
  });
});
