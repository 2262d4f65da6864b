// Shared pieces of `npm run bench`: the workload interface, timing (warm-up, then the median of
// repetitions), the JSON line format (bench/README.md), and the kernel families to run.
import { gpujsKernels, jsKernels, wasmKernels, type KernelFamily as AnyFamily, type Kernels } from '../src/tensor/kernels/index.js';
import type { Tensor } from '../src/tensor/tensor.js';

/** The families the bench compares: each implements matmul and softmax. */
type KernelFamily = AnyFamily & Pick<Kernels, 'matmul' | 'softmax' | 'softmaxBackward'>;

/** One result line, exactly as bench/README.md specifies; extra fields (gpujs_target, peak_rss_mb) follow. */
export interface BenchLine {
  workload: string;
  case: string;
  impl: 'tsgrad';
  backend: string;
  median_ms: number;
  min_ms: number;
  runs: number;
  value: number;
  unit: string;
  [extra: string]: string | number;
}

export interface BenchContext {
  /** Fewer repetitions and a shorter warm-up (`--quick`). */
  quick: boolean;
  /** Print where each model step's time goes instead of timing it (`--profile`). */
  profile?: boolean;
  /** Kernel families to run (`--backend js,wasm`), or null for every available one. */
  backends: string[] | null;
  /** Prints a line on stdout. */
  emit(line: BenchLine): void;
  /** Prints progress on stderr. */
  progress(message: string): void;
}

/** A workload of bench/README.md: add a file under bench/workloads/ and list it in bench/workloads/index.ts. */
export interface Workload {
  id: string; // 'W1', 'W2', ...
  title: string;
  /** Too slow for `--quick` (W6); still runs when named in `--only`. */
  skipWhenQuick?: boolean;
  run(ctx: BenchContext): void | Promise<void>;
}

export interface Timing {
  median_ms: number;
  min_ms: number;
  runs: number;
}

/**
 * Times fn: warm-up calls until at least 3 calls and 0.3 s (1 call and 0.05 s when quick) or 2 s
 * in all, so V8 has optimised both the JS and the wasm code; then repetitions for about 2 s (0.3 s
 * when quick), at least 7 (3) and at most 50 (10). Each repetition times one call.
 */
export function timeIt(fn: () => void, quick: boolean): Timing {
  const warmMin = quick ? 1 : 3;
  const warmMs = quick ? 50 : 300;
  let calls = 0;
  const warmStart = performance.now();
  while (calls < warmMin || performance.now() - warmStart < warmMs) {
    fn();
    calls++;
    if (performance.now() - warmStart > 2000 && calls >= 1) break;
  }
  const perCall = (performance.now() - warmStart) / calls;
  const runs = Math.min(quick ? 10 : 50, Math.max(quick ? 3 : 7, Math.round((quick ? 300 : 2000) / perCall)));
  return timeRuns(fn, runs);
}

/** Time `runs` calls of fn, one each, and return their median and minimum. */
export function timeRuns(fn: () => void, runs: number): Timing {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { median_ms: median, min_ms: times[0], runs };
}

/** 4 significant digits: enough for timings that vary by a few percent run to run. */
export function round(x: number): number {
  return Number(x.toPrecision(4));
}

/** The kernel families that can run here (and were asked for), each with the extra fields its lines carry. */
export function kernelFamilies(ctx: BenchContext): { family: KernelFamily; extra: Record<string, string> }[] {
  const all = [jsKernels, wasmKernels, gpujsKernels];
  return all
    .filter((family) => family.available() && (ctx.backends === null || ctx.backends.includes(family.name)))
    .map((family) => {
      const extra: Record<string, string> = {};
      if (family.name === 'gpujs') extra.gpujs_target = family.target?.() ?? 'unknown';
      return { family, extra };
    });
}

/** A result line from a timing: `value` is computed from the median. */
export function line(
  workload: string, kase: string, backend: string, t: Timing, value: number, unit: string, extra: Record<string, string | number> = {},
): BenchLine {
  return {
    workload, case: kase, impl: 'tsgrad', backend, ...extra,
    median_ms: round(t.median_ms), min_ms: round(t.min_ms), runs: t.runs, value: round(value), unit,
  };
}

/** Uniform values in [lo, hi) from a fixed seed (xorshift32), so every run times the same data. */
export function randomArray(length: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/** A model workload's step, for timing and for --profile. */
export interface StepSetup {
  /** Returns the loss of one forward pass on the fixed batch. */
  forward(): Tensor;
  optimizer: { zeroGrad(): void; step(): void };
}
