// The worker thread's job protocol (src/tensor/kernels/wasm/threads.ts, jobs.ts), in a child process with
// TSGRAD_THREADS=2: claimed pieces give the same bits whichever thread runs them, the worker
// really takes pieces when it is awake, and a job the main thread finishes before the worker
// comes is closed without waiting for it (and without the worker touching it later).
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

function runChild(code: string): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, TSGRAD_THREADS: '2' }, encoding: 'utf8', timeout: 100_000,
  });
  expect(child.stderr).to.equal('');
  expect(child.status).to.equal(0);
  return child.stdout.trim();
}

describe('wasm worker thread', function () {
  this.timeout(120_000);

  it('gives matmul pieces the same bits on one thread and two, and the worker takes some', () => {
    // a single product cut in row pieces (odd m), one cut in column pieces (m = 1, strided A), a
    // batch claimed entry by entry, a transposed B with a row stride (packed attention's case),
    // and products whose pieces share one packed operand
    const out = runChild(`
      import { wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
      import { matmulOn } from './src/tensor/kernels/wasm/matmul.ts';
      import { threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { jsKernels } from './src/tensor/kernels/index.ts';
      import { randomArray } from './bench/harness.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const cases = [
        { batch: 1, m: 771, n: 389, k: 130, transA: false, transB: true },
        { batch: 1, m: 1, n: 60001, k: 300, transA: true, transB: false, lda: 2 },
        { batch: 48, m: 64, n: 64, k: 40, transA: false, transB: false },
        { batch: 6, m: 200, n: 96, k: 256, transA: false, transB: true, lda: 512, ldb: 768 },
        // one operand packed once for all pieces: A for column pieces, B for row pieces; K over
        // several 256-deep slices, ragged panels, and more than 1024 columns (two column blocks)
        { batch: 1, m: 102, n: 700, k: 600, transA: true, transB: false },
        { batch: 1, m: 300, n: 77, k: 520, transA: false, transB: false, ldb: 80 },
        { batch: 1, m: 64, n: 1100, k: 70, transA: false, transB: true },
        { batch: 1, m: 1200, n: 1030, k: 20, transA: true, transB: false },
      ];
      const before = threadStats().workerPieces;
      cases.forEach((c, ci) => {
        const lda = c.lda ?? (c.transA ? c.m : c.k), ldb = c.ldb ?? (c.transB ? c.k : c.n);
        const aSpan = (c.transA ? (c.k - 1) * lda + c.m : (c.m - 1) * lda + c.k), bSpan = (c.transB ? (c.n - 1) * ldb + c.k : (c.k - 1) * ldb + c.n);
        const a = randomArray(c.batch * aSpan, 1 + ci), b = randomArray(c.batch * bSpan, 2 + ci);
        const args = (out) => ({ ...c, a, b, out, aOffsets: Int32Array.from({ length: c.batch }, (_, i) => i * aSpan), bOffsets: Int32Array.from({ length: c.batch }, (_, i) => i * bSpan) });
        const one = new Float32Array(c.batch * c.m * c.n), js = new Float32Array(one.length);
        withThreads(false, () => matmulOn(w, args(one)));
        jsKernels.matmul(args(js));
        for (let i = 0; i < one.length; i++) if (!(Math.abs(one[i] - js[i]) <= 1e-6 * (c.k + 4))) throw new Error('case ' + ci + ': ' + one[i] + ' vs js ' + js[i] + ' at ' + i);
        for (let rep = 0; rep < 20; rep++) {
          const two = new Float32Array(one.length).fill(NaN);
          withThreads(true, () => matmulOn(w, args(two)));
          for (let i = 0; i < one.length; i++) if (!Object.is(one[i], two[i])) throw new Error('case ' + ci + ' rep ' + rep + ' at ' + i + ': ' + two[i] + ' on two threads, ' + one[i] + ' on one');
        }
      });
      if (!(threadStats().workerPieces > before)) throw new Error('the worker ran no piece');
      console.log('pieces ok');
    `);
    expect(out).to.equal('pieces ok');
  });

  it('closes a job the worker has not come to, and stays correct job after job', () => {
    // tiny claimed jobs after a pause (the worker has gone to sleep): the main thread does both
    // pieces before the worker wakes, closes the job, and the next job must still come out right;
    // the job's prologue writes the input, and every piece is reported done exactly once
    const out = runChild(`
      import { layout, memoryF32, wasmModule } from './src/tensor/kernels/wasm/loader.ts';
      import { CALL_WORDS, SPLIT_PIECES, pieceBounds, threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { runClaimed } from './src/tensor/kernels/wasm/jobs.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const n = 1003;
      const { offsets: [x, y, table], end } = layout(w.heapBase, n, n, SPLIT_PIECES * CALL_WORDS);
      const mem = memoryF32(w, end);
      const NEG = 0; // assembly/maps.ts's code for neg
      const start = threadStats();
      for (let job = 0; job < 200; job++) {
        for (let i = 0; i < n; i++) mem[(y >> 2) + i] = NaN;
        const bounds = pieceBounds(n, SPLIT_PIECES, 4);
        const pieces = bounds.map(([p0, p1]) => ({ op: 'unaryMap', args: [NEG, x + 4 * p0, y + 4 * p0, p1 - p0] }));
        // the input is written by the prologue, after the job is posted: no piece may start before it
        const prologue = () => { for (let i = 0; i < n; i++) mem[(x >> 2) + i] = job + i; };
        // each piece is reported done once, by index, and its output is there by then
        const reported = [];
        const pieceDone = (p) => {
          reported.push(p);
          for (let i = bounds[p][0]; i < bounds[p][1]; i++) if (mem[(y >> 2) + i] !== -(job + i)) throw new Error('piece ' + p + ' reported before its output at ' + i);
        };
        runClaimed(w, pieces, table, 0, prologue, pieceDone);
        for (let i = 0; i < n; i++) if (mem[(y >> 2) + i] !== -(job + i)) throw new Error('job ' + job + ' at ' + i + ': ' + mem[(y >> 2) + i]);
        if (reported.slice().sort().join() !== bounds.map((_, p) => p).join()) throw new Error('pieces reported: ' + reported);
        if (job % 2 === 0) { const until = performance.now() + 1; while (performance.now() < until); } // let the worker fall asleep
      }
      const end2 = threadStats();
      if (end2.jobs - start.jobs !== 200) throw new Error((end2.jobs - start.jobs) + ' jobs posted, not 200');
      if (!(end2.closed > start.closed)) throw new Error('no job was closed before the worker came');
      console.log('close ok');
    `);
    expect(out).to.equal('close ok');
  });

  it('streams pieces through a few buffer sets: every output right, copied out in order, and Adam gives the same bits as on one thread', () => {
    const out = runChild(`
      import { layout, memoryF32, wasmModule, withThreads } from './src/tensor/kernels/wasm/loader.ts';
      import { CALL_WORDS, threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { runStreamed } from './src/tensor/kernels/wasm/jobs.ts';
      import { adamUpdateOn } from './src/tensor/kernels/wasm/optim.ts';
      import { randomArray } from './bench/harness.ts';
      const w = wasmModule();
      if (!w?.shared) throw new Error('the shared-memory build did not load');
      const before = threadStats().workerPieces;
      // 60 pieces of 5000 floats through 3 buffer sets: piece i overwrites set i mod 3
      const count = 60, len = 5000, slots = 3, NEG = 0;
      const { offsets, end } = layout(w.heapBase, count * CALL_WORDS, len, len, len);
      const mem = memoryF32(w, end);
      const x = randomArray(count * len, 9), y = new Float32Array(count * len).fill(NaN);
      const set = (i) => offsets[1 + (i % slots)];
      const pieces = Array.from({ length: count }, (_, i) => ({ op: 'unaryMap', args: [NEG, set(i), set(i), len] }));
      const order = [];
      runStreamed(w, pieces, offsets[0], slots,
        (i) => mem.set(x.subarray(i * len, (i + 1) * len), set(i) >> 2),
        (i) => { order.push(i); y.set(mem.subarray(set(i) >> 2, (set(i) >> 2) + len), i * len); });
      for (let i = 0; i < y.length; i++) if (y[i] !== -x[i]) throw new Error('at ' + i + ': ' + y[i] + ' for ' + x[i]);
      if (order.join() !== pieces.map((_, i) => i).join()) throw new Error('copied out in the order ' + order);
      // Adam over 5 chunks and a ragged end: the streamed update equals the one-thread update
      const n = 300001;
      const state = () => ({ theta: randomArray(n, 1), grad: randomArray(n, 2), m: randomArray(n, 3), v: randomArray(n, 4, 0, 1), stepSize: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc2Sqrt: 0.3, l2: 0.01, decay: 0.999 });
      const one = state(), two = state();
      for (let step = 0; step < 3; step++) {
        withThreads(false, () => adamUpdateOn(w, one));
        withThreads(true, () => adamUpdateOn(w, two));
      }
      for (const k of ['theta', 'm', 'v']) for (let i = 0; i < n; i++) if (!Object.is(one[k][i], two[k][i])) throw new Error(k + ' at ' + i + ': ' + two[k][i] + ' streamed, ' + one[k][i] + ' on one thread');
      if (!(threadStats().workerPieces > before)) throw new Error('the worker ran no piece');
      console.log('streamed ok');
    `);
    expect(out).to.equal('streamed ok');
  });

  it('cuts a range into aligned pieces that cover it once', async () => {
    const { pieceBounds } = await import('../../src/tensor/kernels/wasm/threads.js');
    for (const [length, pieces, multiple] of [[1003, 4, 4], [8, 4, 8], [1, 4, 1], [771, 8, 8], [48, 48, 1]]) {
      const bounds = pieceBounds(length, pieces, multiple);
      expect(bounds.length).to.be.at.most(pieces);
      expect(bounds[0][0]).to.equal(0);
      expect(bounds[bounds.length - 1][1]).to.equal(length);
      bounds.forEach(([p0, p1], i) => {
        expect(p0 % multiple).to.equal(0);
        expect(p1).to.be.greaterThan(p0);
        if (i > 0) expect(p0).to.equal(bounds[i - 1][1]);
      });
    }
  });
});

describe('training on one thread and two', function () {
  this.timeout(120_000);

  it('a GPT big enough for the worker trains to the same losses with TSGRAD_THREADS=1 and 2 (each step released, as the Trainer does)', () => {
    // width 128 over 4 × 64 tokens: its products (≥ 25 MFLOP) and GELU maps are split with the worker
    const code = (threads: string) => `
      import { threadStats } from './src/tensor/kernels/wasm/threads.ts';
      import { threadDecision } from './src/tensor/kernels/wasm/loader.ts';
      import { trainTinyGpt } from './test/helpers.ts';
      const losses = trainTinyGpt({ backend: 'wasm', seed: 3, batch: 4, steps: 3, releaseGraph: true,
        config: { vocabSize: 65, nPositions: 64, nEmbd: 128, nLayer: 2, nHead: 4, dropout: 0.1, tieWeights: false } });
      if (threadDecision().threads !== ${threads}) throw new Error('expected ${threads} threads: ' + threadDecision().reason);
      console.log(JSON.stringify({ losses, workerPieces: threadStats().workerPieces }));
    `;
    const run = (threads: '1' | '2') => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code(threads)], {
        env: { ...process.env, TSGRAD_THREADS: threads }, encoding: 'utf8', timeout: 100_000,
      });
      expect(child.stderr, `TSGRAD_THREADS=${threads}`).to.equal('');
      expect(child.status).to.equal(0);
      return JSON.parse(child.stdout.trim()) as { losses: number[]; workerPieces: number };
    };
    const one = run('1'), two = run('2');
    expect(two.workerPieces, 'pieces the worker ran').to.be.greaterThan(0);
    expect(one.losses[2]).to.be.below(one.losses[0]);
    two.losses.forEach((l, i) => expect(l, `step ${i}`).to.be.closeTo(one.losses[i], 1e-5 * Math.max(1, one.losses[i])));
  });
});
