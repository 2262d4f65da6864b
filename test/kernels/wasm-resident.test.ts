// Resident float32 storage (src/tensor/kernels/wasm/resident.ts), in child processes with
// TSGRAD_THREADS=2 (the shared-memory build): arrayFor's blocks in wasm memory are zero-filled,
// reused and bounded; every kernel that runs on resident operands in place gives the same bits as
// on ordinary arrays (copied in and out) and agrees with js; a GPT trains to the same losses with
// resident storage on and off.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

function runChild(code: string, env: Record<string, string> = {}): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, TSGRAD_THREADS: '2', ...env }, encoding: 'utf8', timeout: 100_000,
  });
  expect(child.stderr).to.equal('');
  expect(child.status).to.equal(0);
  return child.stdout.trim();
}

// Child code both kernel tests start with: check(name, run, tol) runs run(make) with operands made
// resident, made plain (copied in and out), and on js (run(plain, true)), on two threads and one,
// and requires the bits of the first two to agree and the first to agree with js within tol.
const KERNEL_CHECK = `
  import { jsKernels } from './src/tensor/kernels/index.ts';
  import { wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
  import { residentFloat32, residentStats } from './src/tensor/kernels/wasm/resident.ts';
  import { randomArray } from './bench/harness.ts';
  const w = wasmModule();
  if (!w?.shared) throw new Error('the shared-memory build did not load');
  const plain = (a) => Float32Array.from(a);
  const stale = (n) => new Float32Array(n).fill(NaN); // outputs: a kernel must write every element
  const resident = (a) => { const r = residentFloat32(a.length, false); if (r === null && a.length >= 4096) throw new Error('not resident'); return r ? (r.set(a), r) : plain(a); };
  const check = (name, run, tol) => {
    for (const threads of [true, false]) {
      const mine = withThreads(threads, () => run(resident)), copied = withThreads(threads, () => run(plain)), js = run(plain, true);
      mine.forEach((a, k) => a.forEach((x, i) => {
        if (!Object.is(x, copied[k][i])) throw new Error(name + ': output ' + k + ' at ' + i + ': ' + x + ' in place, ' + copied[k][i] + ' copied');
        if (!(Math.abs(x - js[k][i]) <= tol * (1 + Math.abs(js[k][i])))) throw new Error(name + ': output ' + k + ' at ' + i + ': ' + x + ' vs js ' + js[k][i]);
      }));
    }
  };
`;

describe('resident float32 storage', function () {
  this.timeout(120_000);

  it('hands out zero-filled blocks in wasm memory, takes them back, reuses them and lowers its top', () => {
    const out = JSON.parse(runChild(`
      import { release } from './src/tensor/pool.ts';
      import { setBackend } from './src/tensor/kernels/index.ts';
      import { residentFloat32, residentStats, MIN_RESIDENT_FLOATS } from './src/tensor/kernels/wasm/resident.ts';
      const a = residentFloat32(5001, true), b = residentFloat32(70000, true);
      const facts = { a: a.buffer instanceof SharedArrayBuffer, b: b.buffer instanceof SharedArrayBuffer, aligned: a.byteOffset % 64 === 0 && b.byteOffset % 64 === 0 && b.byteOffset >= a.byteOffset + 5001 * 4 };
      facts.small = residentFloat32(MIN_RESIDENT_FLOATS - 1, true) !== null;
      a.fill(7);
      facts.releasedA = release('float32', a);
      const again = residentFloat32(5001, true);
      facts.reusedA = again.byteOffset === a.byteOffset && again.every((x) => x === 0);
      again.fill(3);
      release('float32', again);
      facts.emptyKeeps = residentFloat32(5001, false)[17] === 3; // torch.empty: the old contents
      const span = residentStats().spanBytes;
      release('float32', b);
      facts.topLowered = residentStats().spanBytes < span;
      setBackend('js');
      facts.onJs = residentFloat32(70000, true) !== null;
      console.log(JSON.stringify(facts));
    `));
    expect(out).to.deep.equal({ a: true, b: true, aligned: true, small: false, releasedA: true, reusedA: true, emptyKeeps: true, topLowered: true, onJs: false });
  });

  it('stays within TSGRAD_RESIDENT_MB (0: off; not a number: a clear error), beyond it arrays are ordinary', () => {
    const code = `
      import { residentFloat32, residentStats } from './src/tensor/kernels/wasm/resident.ts';
      const arrays = Array.from({ length: 8 }, () => residentFloat32(1 << 18, true)); // 1 MiB each
      console.log(JSON.stringify({ resident: arrays.filter((a) => a !== null).length, span: residentStats().spanBytes }));
    `;
    expect(JSON.parse(runChild(code, { TSGRAD_RESIDENT_MB: '3' }))).to.deep.equal({ resident: 3, span: 3 * 2 ** 20 });
    expect(JSON.parse(runChild(code, { TSGRAD_RESIDENT_MB: '0' }))).to.deep.equal({ resident: 0, span: 0 });
    const bad = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, TSGRAD_THREADS: '2', TSGRAD_RESIDENT_MB: 'lots' }, encoding: 'utf8', timeout: 100_000,
    });
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.include("TSGRAD_RESIDENT_MB: expected a number of MiB ≥ 0 (got 'lots')");
  });

  it('arrayFor makes resident only the arrays whose end tsgrad sees', () => {
    // a walk's gradients; a recording forward pass's activations until a walk begins with the last
    // graph unreleased, or until 256 MiB of them see no walk or release; never under noGrad
    const out = JSON.parse(runChild(`
      import * as tg from './src/index.ts';
      const shared = (t) => t.data.buffer instanceof SharedArrayBuffer;
      const w = tg.randn([128, 96], { requiresGrad: true }), x = tg.randn([64, 128]);
      const facts = {};
      const forward = () => x.matmul(w).relu();
      let h = forward();
      facts.first = shared(h);
      facts.noGrad = shared(tg.noGrad(forward));
      h.sum().backward();
      facts.gradient = shared(w.grad);
      h = forward();
      facts.second = shared(h);
      h.sum().backward(); // the first graph was never released
      facts.afterUnreleased = shared(forward());
      const loss = forward().sum();
      loss.backward();
      tg.releaseGraph(loss);
      facts.afterRelease = shared(forward());
      const big = tg.randn([1024, 1024], { requiresGrad: true });
      const outs = Array.from({ length: 70 }, () => big.relu()); // 4 MiB each, never walked back
      facts.forwardOnly = [shared(outs[0]), shared(outs[69])];
      console.log(JSON.stringify(facts));
    `));
    expect(out).to.deep.equal({ first: true, noGrad: false, gradient: true, second: true, afterUnreleased: false, afterRelease: true, forwardOnly: [true, false] });
  });

  it('every kernel on resident operands gives the bits of the copying path, and agrees with js', () => {
    // odd sizes, rows that are not multiples of 4, a single row; each case on two threads and one
    const out = runChild(KERNEL_CHECK + `
      import fc from 'fast-check';
      import { softmaxOn, softmaxBackwardOn } from './src/tensor/kernels/wasm/softmax.ts';
      import { unaryOn, unaryGradOn, binaryOn } from './src/tensor/kernels/wasm/maps.ts';
      import { adamUpdateOn, sgdUpdateOn, sgdMomentumUpdateOn } from './src/tensor/kernels/wasm/optim.ts';
      import { matmulOn } from './src/tensor/kernels/wasm/matmul.ts';
      const before = residentStats().operandsInPlace;
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 4097, max: 60000 }), fc.integer({ min: 1, max: 1000 }), (rows, n, seed) => {
        const cols = Math.ceil(n / rows), size = rows * cols;
        const x = randomArray(size, seed, -4, 4), g = randomArray(size, seed + 1), r = randomArray(cols, seed + 2);
        check('softmax', (make, js) => { const y = make(stale(size)); js ? jsKernels.softmax(plain(x), y, rows, cols) : softmaxOn(w, make(x), y, rows, cols); return [y]; }, 1e-6);
        check('softmaxBackward', (make, js) => { const dx = make(stale(size)); (js ? jsKernels.softmaxBackward : (...a) => softmaxBackwardOn(w, ...a))(make(x.map((v) => 1 / (1 + Math.exp(-v)))), make(g), dx, rows, cols); return [dx]; }, 1e-5);
        for (const op of ['gelu', 'exp', 'relu']) check(op, (make, js) => { const y = make(stale(size)); js ? jsKernels.unary(op, plain(x), y) : unaryOn(w, op, make(x), y); return [y]; }, 2e-6);
        check('gelu grad', (make, js) => { const dx = make(stale(size)); js ? jsKernels.unaryGrad('gelu', plain(x), plain(g), dx) : unaryGradOn(w, 'gelu', make(x), make(g), dx); return [dx]; }, 2e-6);
        for (const [op, b, bShape] of [['add', g, [rows, cols]], ['mul', Float32Array.of(0.5), [1]], ['sub', r, [cols]]]) {
          check(op, (make, js) => { const y = make(stale(size)); (js ? jsKernels.binary : (...a) => binaryOn(w, ...a))(op, make(x), [rows, cols], b.length >= 4096 ? make(b) : plain(b), bShape, y, [rows, cols]); return [y]; }, 1e-6);
        }
        check('sgd', (make, js) => { const t = make(x); (js ? jsKernels.sgdUpdate : (...a) => sgdUpdateOn(w, ...a))(t, make(g), 0.1, 0.01); return [t]; }, 1e-6);
        check('sgd momentum', (make, js) => { const t = make(x), b = make(g.map((v) => v / 2)); (js ? jsKernels.sgdMomentumUpdate : (...a) => sgdMomentumUpdateOn(w, ...a))(t, make(g), b, false, 0.1, 0.9, 0.1, true, 0.01); return [t, b]; }, 1e-6);
        check('adam', (make, js) => {
          const args = { theta: make(x), grad: make(g), m: make(g.map((v) => v / 3)), v: make(g.map((v) => v * v)), stepSize: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc2Sqrt: 0.3, l2: 0, decay: 0.99 };
          (js ? jsKernels.adamUpdate : (a) => adamUpdateOn(w, a))(args);
          return [args.theta, args.m, args.v];
        }, 1e-5);
      }), { numRuns: 12, seed: 13 });
      // products: A [m, k] (or stored transposed), B, a bias, a batch
      for (const [ci, c] of [{ batch: 1, m: 77, n: 300, k: 130, transA: false, transB: true, bias: true }, { batch: 3, m: 64, n: 96, k: 70, transA: true, transB: false }, { batch: 1, m: 1, n: 5000, k: 40, transA: false, transB: false }].entries()) {
        const aSpan = c.m * c.k, bSpan = c.k * c.n;
        const a = randomArray(c.batch * aSpan, 1 + ci), b = randomArray(c.batch * bSpan, 2 + ci), bias = randomArray(c.n, 3 + ci);
        check('matmul ' + ci, (make, js) => {
          const out = make(stale(c.batch * c.m * c.n));
          const args = { ...c, a: make(a), b: make(b), out, bias: c.bias ? plain(bias) : undefined, aOffsets: Int32Array.from({ length: c.batch }, (_, i) => i * aSpan), bOffsets: Int32Array.from({ length: c.batch }, (_, i) => i * bSpan) };
          js ? jsKernels.matmul(args) : matmulOn(w, args);
          return [out];
        }, 1e-5 * c.k);
      }
      console.log(residentStats().operandsInPlace - before);
    `);
    expect(Number(out), 'operands the kernels used in place').to.be.greaterThan(500);
  });

  it('the row, linear-gradient and attention kernels on resident operands give the bits of the copying path', () => {
    const out = runChild(KERNEL_CHECK + `
      import { layerNormOn, layerNormBackwardOn } from './src/tensor/kernels/wasm/norm.ts';
      import { crossEntropyOn, crossEntropyBackwardOn } from './src/tensor/kernels/wasm/losses.ts';
      import { linearBackwardOn } from './src/tensor/kernels/wasm/linear.ts';
      import { packedAttentionOn, packedAttentionBackwardOn } from './src/tensor/kernels/wasm/attention.ts';
      const before = residentStats().operandsInPlace;
      for (const [rows, D] of [[97, 130], [1, 5000], [300, 64]]) {
        const x = randomArray(rows * D, rows, -3, 3), g = randomArray(rows * D, D), wt = randomArray(D, 7), b = randomArray(D, 8);
        check('layerNorm ' + rows + 'x' + D, (make, js) => {
          const y = make(stale(rows * D)), mean = new Float64Array(rows), rstd = new Float64Array(rows);
          (js ? jsKernels.layerNorm : (...a) => layerNormOn(w, ...a))(make(x), rows, D, wt, b, 1e-5, y, mean, rstd);
          const dx = make(stale(rows * D)), dw = new Float64Array(D), db = new Float64Array(D);
          (js ? jsKernels.layerNormBackward : (...a) => layerNormBackwardOn(w, ...a))(make(x), make(g), rows, D, wt, mean, rstd, dx, dw, db);
          return [y, mean, rstd, dx, dw, db];
        }, 1e-4);
        const target = Int32Array.from({ length: rows }, (_, r) => (r * 7) % D);
        target[0] = -100;
        check('crossEntropy ' + rows + 'x' + D, (make, js) => {
          const args = { logits: make(x), rows, classes: D, target, ignoreIndex: -100, weight: null, smoothing: 0.1, lse: new Float64Array(rows) };
          const losses = new Float64Array(rows), dz = make(stale(rows * D));
          (js ? jsKernels.crossEntropy : (...a) => crossEntropyOn(w, ...a))(args, losses);
          (js ? jsKernels.crossEntropyBackward : (...a) => crossEntropyBackwardOn(w, ...a))(args, 1 / rows, dz);
          return [losses, args.lse, dz];
        }, 1e-5);
      }
      for (const [rows, inF, outF] of [[64, 300, 257], [130, 128, 512]]) {
        const g = randomArray(rows * outF, 1), x = randomArray(rows * inF, 2), wt = randomArray(outF * inF, 3);
        check('linearBackward ' + [rows, inF, outF], (make, js) => {
          const dx = make(stale(rows * inF)), dw = make(stale(outF * inF)), db = new Float64Array(outF);
          (js ? jsKernels.linearBackward : (...a) => linearBackwardOn(w, ...a))({ g: make(g), x: make(x), w: make(wt), rows, inF, outF }, dx, dw, db);
          return [dx, dw, db];
        }, 1e-5 * rows);
      }
      for (const [batch, T, heads, headDim, dropout] of [[2, 33, 3, 20, false], [3, 64, 4, 32, true]]) {
        const C = heads * headDim, qkv = randomArray(batch * T * 3 * C, T), dOut = randomArray(batch * T * C, heads);
        const keep = dropout ? randomArray(batch * heads * T * T, 5).map((v) => (v > -0.8 ? 1 / 0.9 : 0)) : null;
        check('attention ' + [batch, T, heads, headDim], (make, js) => {
          const args = { qkv: make(qkv), batch, T, heads, headDim, scale: 1 / Math.sqrt(headDim), causal: true, keep: keep && make(keep) };
          const out = make(stale(batch * T * C)), probs = make(stale(batch * heads * T * T)), dqkv = make(stale(qkv.length));
          (js ? jsKernels.packedAttention : (...a) => packedAttentionOn(w, ...a))(args, out, probs);
          (js ? jsKernels.packedAttentionBackward : (...a) => packedAttentionBackwardOn(w, ...a))(args, probs, make(dOut), dqkv);
          return [out, probs, dqkv];
        }, 1e-4);
      }
      console.log(residentStats().operandsInPlace - before);
    `);
    expect(Number(out), 'operands the kernels used in place').to.be.greaterThan(60);
  });

  it('a GPT trains to the same losses with resident storage on and off', () => {
    const code = `
      import { trainTinyGpt } from './test/helpers.ts';
      import { residentStats } from './src/tensor/kernels/wasm/resident.ts';
      const losses = trainTinyGpt({ backend: 'wasm', seed: 5, batch: 4, steps: 3, releaseGraph: true,
        config: { vocabSize: 65, nPositions: 64, nEmbd: 128, nLayer: 2, nHead: 4, dropout: 0.1, tieWeights: false } });
      console.log(JSON.stringify({ losses, inPlace: residentStats().operandsInPlace }));
    `;
    const on = JSON.parse(runChild(code)), off = JSON.parse(runChild(code, { TSGRAD_RESIDENT_MB: '0' }));
    expect(on.inPlace, 'operands used in place').to.be.greaterThan(100);
    expect(off.inPlace).to.equal(0);
    expect(on.losses[2]).to.be.below(on.losses[0]);
    expect(on.losses).to.deep.equal(off.losses);
  });
});
