// Shared test helpers: shape generators and the one gradcheck property used by every op's row.
import fc from 'fast-check';
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';

/** A shape of ndim in [minDims, maxDims] with dims in [1, maxDim] (size-1 dims included). */
export const shape = (minDims = 0, maxDims = 3, maxDim = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minDims, maxLength: maxDims });

/** Two shapes that broadcast together: b drops some leading dims of a and sets some dims to 1. */
export const broadcastPair = (maxDims = 3, maxDim = 4): fc.Arbitrary<[number[], number[]]> =>
  shape(0, maxDims, maxDim).chain((a) =>
    fc.tuple(fc.integer({ min: 0, max: a.length }), fc.array(fc.boolean(), { minLength: a.length, maxLength: a.length }), fc.boolean()).map(([drop, ones, swap]) => {
      const b = a.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
      return (swap ? [b, a] : [a, b]) as [number[], number[]];
    }),
  );

export interface GradRow {
  /** Shapes of the inputs for one case. */
  shapes: fc.Arbitrary<number[][]>;
  /** The op under test, applied to float64 inputs that require grad. */
  fn: (...inputs: Tensor[]) => Tensor;
  /** How to draw the values: 'normal' (default), 'positive' (for log, sqrt, pow's base), or a custom function. */
  values?: 'normal' | 'positive' | ((shape: number[]) => Tensor);
  /** Inputs (by position) that are constants, not checked (e.g. integer targets made by the fn itself). */
  numRuns?: number;
  atol?: number;
  rtol?: number;
  /** Skip the second-derivative check (only for rows whose function is not twice differentiable where drawn). */
  firstOrderOnly?: boolean;
}

function draw(shapeOf: number[], values: GradRow['values']): Tensor {
  if (typeof values === 'function') return values(shapeOf).requiresGrad_();
  const t = tg.randn(shapeOf, { dtype: 'float64' });
  if (values === 'positive') return t.abs().add(0.5).detach().requiresGrad_();
  return t.requiresGrad_();
}

/**
 * fast-check property: for random shapes and values, gradcheck(fn) holds in float64, and so does
 * gradgradcheck(fn) (second derivatives through createGraph) on fewer draws.
 */
export function checkGradients(row: GradRow): void {
  const check = (runs: number, second: boolean) => fc.assert(
    fc.property(row.shapes, fc.integer({ min: 0, max: 1_000_000 }), (shapes, seed) => {
      tg.manualSeed(seed);
      const inputs = shapes.map((s) => draw(s, row.values));
      const opts = { atol: row.atol ?? 1e-5, rtol: row.rtol ?? 1e-3 };
      return second ? tg.gradgradcheck(row.fn, inputs, opts) : tg.gradcheck(row.fn, inputs, opts);
    }),
    { numRuns: runs },
  );
  const runs = Number(process.env.GRAD_RUNS ?? row.numRuns ?? 25);
  check(runs, false);
  if (!row.firstOrderOnly) check(Math.max(1, Math.ceil(runs / 3)), true);
}

/** Assert two arrays agree elementwise within atol + rtol·|expected|. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-6, what = 'value'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`${what}[${i}]: ${a} vs expected ${e}`);
  }
}

/** Bit-for-bit equal (−0 is not 0) up to the payload of NaN: wasm kernels whose arithmetic is js's, in its order. */
export function expectSame(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, js gives ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${what}: out[${i}] = ${actual[i]}, js gives ${expected[i]}`);
    }
  }
}

export interface BoundedRun {
  stdout: string;
  stderr: string;
  code: number | null;
  ms: number;
  /** Largest resident set seen, in MB (sampled every 50 ms from /proc). */
  peakMb: number;
  /** Why the child was killed ('over 20000 ms', 'over 1024 MB resident'), or null. */
  killed: string | null;
}

/** `node --import tsx ...args` in a child process, killed past timeoutMs or maxRssMb resident: hostile inputs cannot hang or swamp the test run. */
export async function runBounded(args: string[], { timeoutMs = 20_000, maxRssMb = 1024 } = {}): Promise<BoundedRun> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const child = spawn(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '', stderr = '', peakMb = 0, killed: string | null = null;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const t0 = performance.now();
  const watch = setInterval(() => {
    let rss = 0;
    try {
      rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return; // exited between two samples
    }
    peakMb = Math.max(peakMb, rss);
    killed = rss > maxRssMb ? `over ${maxRssMb} MB resident` : performance.now() - t0 > timeoutMs ? `over ${timeoutMs} ms` : null;
    if (killed) child.kill('SIGKILL');
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(watch);
  return { stdout, stderr, code, ms: Math.round(performance.now() - t0), peakMb: Math.round(peakMb), killed };
}

export interface TinyGptRun {
  backend: tg.BackendChoice;
  config: NonNullable<ConstructorParameters<typeof tg.models.GPT>[0]> & { vocabSize: number; nPositions: number };
  seed: number;
  /** Sequences per batch (each config.nPositions tokens long). */
  batch: number;
  optimizer?: (params: Tensor[]) => { zeroGrad(): void; step(): void };
  /** The loss of one step; the model's own next-token loss by default. */
  loss?: (model: InstanceType<typeof tg.models.GPT>, idx: Tensor, targets: Tensor) => Tensor;
  steps?: number;
  /** Hand each step's graph back with tg.releaseGraph after backward (as the Trainer does). */
  releaseGraph?: boolean;
}

/** Train a tiny GPT on one fixed batch with a kernel family forced, and return the losses (backend restored after). */
export function trainTinyGpt(run: TinyGptRun): number[] {
  tg.setBackend(run.backend);
  try {
    tg.manualSeed(run.seed);
    const model = new tg.models.GPT(run.config);
    const optimizer = run.optimizer ? run.optimizer(model.parameters()) : new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
    const { vocabSize, nPositions } = run.config;
    const idx = tg.randint(0, vocabSize, [run.batch, nPositions]), targets = tg.randint(0, vocabSize, [run.batch, nPositions]);
    const losses: number[] = [];
    for (let step = 0; step < (run.steps ?? 5); step++) {
      optimizer.zeroGrad();
      const loss = run.loss ? run.loss(model, idx, targets) : model.forward(idx, targets).loss;
      loss.backward();
      if (run.releaseGraph) tg.releaseGraph(loss);
      optimizer.step();
      losses.push(loss.item());
    }
    return losses;
  } finally {
    tg.setBackend('auto');
  }
}
