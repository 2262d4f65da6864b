// The linear layer's gradient kernel (dX = g·W, dW = gᵀ·x, db = Σ_rows g in one call) on wasm
// against the js reference, on both builds and random shapes, any subset of the three wanted;
// and on two threads in a child process, where its products are cut in pieces: the same bits.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import fc from 'fast-check';
import { jsKernels } from '../../src/tensor/kernels/index.js';
import { loadWasm, wasmModule } from '../../src/tensor/kernels/wasm/loader.js';
import { linearBackwardOn } from '../../src/tensor/kernels/wasm/linear.js';
import { randomArray } from '../../bench/harness.js';

function expectClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) throw new Error(`${what}[${i}] = ${actual[i]}, js gives ${expected[i]}`);
  }
}

describe('wasm linear backward', function () {
  this.timeout(120_000);

  for (const flavour of ['relaxed', 'plain'] as const) {
    it(`matches js for dX, dW and db, any of them wanted (${flavour} build)`, () => {
      const w = flavour === wasmModule()?.flavour ? wasmModule() : loadWasm(flavour);
      if (w === null) throw new Error(`the ${flavour} build did not load`);
      const shapes = fc.record({ rows: fc.integer({ min: 1, max: 70 }), inF: fc.integer({ min: 1, max: 70 }), outF: fc.integer({ min: 1, max: 70 }), want: fc.integer({ min: 1, max: 7 }), seed: fc.integer({ min: 1, max: 999 }) });
      fc.assert(fc.property(shapes, ({ rows, inF, outF, want, seed }) => {
        const args = { g: randomArray(rows * outF, seed), x: randomArray(rows * inF, seed + 1), w: randomArray(outF * inF, seed + 2), rows, inF, outF };
        const make = (bit: number, size: number) => (want & bit ? new Float32Array(size).fill(NaN) : null);
        const [dx, dw, db] = [make(1, rows * inF), make(2, outF * inF), make(4, outF)];
        const [rx, rw, rb] = [make(1, rows * inF), make(2, outF * inF), make(4, outF)];
        linearBackwardOn(w, args, dx, dw, db);
        jsKernels.linearBackward(args, rx, rw, rb);
        if (dx) expectClose(dx, rx!, 1e-5 * outF, 'dx');
        if (dw) expectClose(dw, rw!, 1e-5 * rows, 'dw');
        if (db) expectClose(db, rb!, 1e-5 * rows, 'db');
      }), { numRuns: 60, seed: 21 });
    });
  }

  it('runs the three one after the other for a weight over 64 MB, with the same results as js', () => {
    const [rows, inF, outF] = [3, 4097, 4097]; // W: 16.8 M floats
    const args = { g: randomArray(rows * outF, 1), x: randomArray(rows * inF, 2), w: randomArray(outF * inF, 3), rows, inF, outF };
    const run = (f: typeof jsKernels.linearBackward) => { const out = [new Float32Array(rows * inF), new Float32Array(outF * inF), new Float32Array(outF)]; f(args, out[0], out[1], out[2]); return out; };
    const wasm = run((a, dx, dw, db) => linearBackwardOn(wasmModule(), a, dx, dw, db)), js = run(jsKernels.linearBackward);
    ['dx', 'dw', 'db'].forEach((what, k) => expectClose(wasm[k], js[k], 1e-5 * 64, what));
  });

  it('gives the same bits on two threads as on one (TSGRAD_THREADS=2, in a child process)', () => {
    const code = `
      import { wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
      import { linearBackwardOn } from './src/tensor/kernels/wasm/linear.ts';
      import { threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { randomArray } from './bench/harness.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const before = threadStats().workerPieces;
      // dX cut by rows (rows ≥ inF), dW by columns (inF > outF), and the reverse
      for (const [rows, inF, outF] of [[301, 130, 97], [250, 60, 333]]) {
        const args = { g: randomArray(rows * outF, 1), x: randomArray(rows * inF, 2), w: randomArray(outF * inF, 3), rows, inF, outF };
        const run = () => { const out = [new Float32Array(rows * inF), new Float32Array(outF * inF), new Float32Array(outF)]; linearBackwardOn(w, args, ...out); return out; };
        const one = withThreads(false, run);
        for (let rep = 0; rep < 10; rep++) {
          withThreads(true, run).forEach((a, k) => a.forEach((v, i) => { if (!Object.is(v, one[k][i])) throw new Error(rows + ': array ' + k + ' at ' + i + ': ' + v + ' vs ' + one[k][i]); }));
        }
      }
      if (!(threadStats().workerPieces > before)) throw new Error('the worker ran no piece');
      console.log('linear ok');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, TSGRAD_THREADS: '2' }, encoding: 'utf8', timeout: 100_000 });
    expect(child.stderr).to.equal('');
    expect(child.stdout.trim()).to.equal('linear ok');
  });
});
