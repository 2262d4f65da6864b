// The one dispatch point: every op reaches its kernels through kernelFor(name, dtype, work). float64
// (and int, bool) always runs on `js`; float32 goes to the fastest family that implements the
// kernel and pays off at the size of the call (thresholds measured by `npm run bench`), falling
// back to `js` per kernel.
import type { DType } from '../dtype.js';
import type { BackendName, KernelFamily, KernelName, Kernels } from './types.js';
import { jsKernels } from './js/index.js';
import { wasmKernels, wasmThreads } from './wasm/index.js';
import type { ThreadDecision } from './wasm/loader.js';
import { allowResident, residentStats } from './wasm/resident.js';
import { gpujsKernels } from './gpujs/index.js';

export type BackendChoice = BackendName | 'auto';

const families: Record<BackendName, KernelFamily> = { js: jsKernels, wasm: wasmKernels, gpujs: gpujsKernels };

/**
 * Measured thresholds (`npx tsx bench/thresholds.ts`, see bench/README.md): below these sizes the
 * fixed cost of a call into wasm (~0.3–0.5 µs: copies in and out, the call) outweighs its faster
 * loop, so `auto` stays on `js`. Measured on the 2-vCPU dev host: matmul js/wasm cross near
 * 1000–3500 flops (squares of 8 to 12; a 1×32·32×32 vector product already wins), softmax near
 * 16–64 elements (js pays ~14 ns per Math.exp). `npx tsx bench/rows.ts`: LayerNorm (forward and
 * backward) and cross-entropy win from ~64 elements, the optimizer steps from ~256 (SGD is a
 * tie at 256 and 5–8× faster from 4096 on).
 */
export const thresholds = {
  wasmMatmulFlops: 2048,
  wasmSoftmaxElements: 64,
  wasmLayerNormElements: 64,
  wasmCrossEntropyElements: 64,
  wasmOptimizerElements: 256,
  /** Elementwise maps and their derivatives (`npx tsx bench/maps.ts`): gelu, exp, tanh win from 64; relu, neg, abs near 256. */
  wasmUnaryElements: 256,
  /** add/sub/mul/div in the patterns wasm covers: same shape and scalar cross near 1024, rows near 256. */
  wasmBinaryElements: 1024,
  /** Sums along a dim: inner = 1 crosses near 256, outer = 1 near 1024. */
  wasmReduceElements: 1024,
  /** im2col / col2im, in col floats (`npx tsx bench/conv.ts`): im2col wins from ~288, col2im from ~576 (one 8×8 plane, 3×3 pad 1: 1.6×). */
  wasmIm2colElements: 512,
  /** conv2d and its gradient, in flops: im2col and gemm inside the module, so the matmul's crossover. */
  wasmConvFlops: 2048,
  /** Pooling, in input floats: max 2×2 wins from 256 (1.75×), 3×3 stride 2 pad 1 near 256; average near 1024. */
  wasmMaxPoolElements: 256,
  wasmAvgPoolElements: 1024,
  /** The max-pool gradient is a scatter that js already does at memory speed: the copies make wasm a tie (1.0–1.15×) from 16384. */
  wasmMaxPoolBackwardElements: 16384,
  /** stridedCopy / stridedScatter, in floats moved (`npx tsx bench/layout.ts`): a head split (runs of 32) wins from ~2048 (1.3×, 2.5× from 32K); wasm/layout.ts then estimates per call whether its copies pay. */
  wasmLayoutElements: 2048,
  /** gatherRows / scatterAddRows, in floats gathered or added (`npx tsx bench/gather.ts`): a gather of rows of 16 wins from ~1024 (2.4–3× at 2048), a scatter-add from 2048 (rows of 16: 1.35×) to 4096 (rows of 128: 1.2–1.5×; 0.7× at 2048); wasm/gather.ts then estimates per call whether its copies pay (a gather of rows over ~128 floats stays on js). */
  wasmGatherElements: 2048,
};

/** Which `thresholds` entry gates each wasm kernel (the softmax's when none is listed). */
const wasmThresholdOf: Partial<Record<KernelName, keyof typeof thresholds>> = {
  packedAttention: 'wasmMatmulFlops', packedAttentionBackward: 'wasmMatmulFlops',
  layerNorm: 'wasmLayerNormElements', layerNormBackward: 'wasmLayerNormElements',
  crossEntropy: 'wasmCrossEntropyElements', crossEntropyBackward: 'wasmCrossEntropyElements',
  sgdUpdate: 'wasmOptimizerElements', sgdMomentumUpdate: 'wasmOptimizerElements', adamUpdate: 'wasmOptimizerElements',
  unary: 'wasmUnaryElements',
  unaryGrad: 'wasmUnaryElements',
  binary: 'wasmBinaryElements',
  reduce: 'wasmReduceElements',
  im2col: 'wasmIm2colElements', col2im: 'wasmIm2colElements', conv2d: 'wasmConvFlops', conv2dBackward: 'wasmConvFlops',
  maxPool2d: 'wasmMaxPoolElements', maxPool2dBackward: 'wasmMaxPoolBackwardElements',
  avgPool2d: 'wasmAvgPoolElements', avgPool2dBackward: 'wasmAvgPoolElements',
  stridedCopy: 'wasmLayoutElements', stridedScatter: 'wasmLayoutElements',
  gatherRows: 'wasmGatherElements', scatterAddRows: 'wasmGatherElements',
};

function parseChoice(value: string | undefined, source: string): BackendChoice {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'js' || value === 'wasm' || value === 'gpujs') return value;
  throw new Error(`${source}: unknown backend '${value}' (expected js, wasm, gpujs or auto)`);
}

let choice: BackendChoice = parseChoice(process.env.TSGRAD_BACKEND, 'TSGRAD_BACKEND');
// large float32 arrays live in wasm memory only while the wasm kernels may run on them
allowResident(choice === 'wasm' || choice === 'auto');

/** Force a kernel family for float32 work, or 'auto' to choose per call. */
export function setBackend(name: BackendChoice): void {
  const parsed = parseChoice(name, 'setBackend');
  if (parsed !== 'auto' && !families[parsed].available()) {
    throw new Error(`setBackend: backend '${parsed}' is not available on this machine`);
  }
  choice = parsed;
  allowResident(choice === 'wasm' || choice === 'auto');
}

export function getBackend(): BackendChoice {
  return choice;
}

let gpuFound: boolean | undefined;

/** Whether a GPU-backed gpu.js target (not its wasm/cpu fallback) is present; asked once per process. */
function gpuPresent(): boolean {
  if (gpuFound === undefined) {
    const target = gpujsKernels.available() ? gpujsKernels.target?.() : undefined;
    gpuFound = target === 'headlessgl' || target === 'webgl' || target === 'webgl2' || target === 'webgpu';
  }
  return gpuFound;
}

/**
 * The implementation of kernel `name` for a call on `dtype` data of size `work` (flops for matmul,
 * elements otherwise): the forced family's if it has one, else the fastest that pays off here.
 */
export function kernelFor<K extends KernelName>(name: K, dtype: DType, work: number): Kernels[K] {
  const chosen = dtype !== 'float32' ? jsKernels : choice === 'auto' ? autoFamily(name, work) : families[choice];
  const own = chosen[name] as Kernels[K] | undefined;
  const impl = own ?? jsKernels[name];
  return profile ? timed(profile, `${name} (${own ? chosen.name : 'js'})`, impl) : impl;
}

/** Calls and milliseconds per kernel and family, while profiling is on. */
export type KernelProfile = Map<string, { calls: number; ms: number }>;
let profile: KernelProfile | null = null;

/** Start timing every kernel call (a fresh table), or stop (null); returns the table being filled. */
export function profileKernels(on: boolean): KernelProfile | null {
  profile = on ? new Map() : null;
  return profile;
}

function timed<F>(table: KernelProfile, key: string, impl: F): F {
  return ((...args: unknown[]) => {
    const started = performance.now();
    try {
      return (impl as (...a: unknown[]) => unknown)(...args);
    } finally {
      const kind = typeof args[0] === 'string' ? ` ${args[0]}` : ''; // binary add, unary gelu, reduce sum, …
      const entry = table.get(key + kind) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += performance.now() - started;
      table.set(key + kind, entry);
    }
  }) as F;
}

function autoFamily(name: KernelName, work: number): KernelFamily {
  if (name === 'matmul' || name === 'linearBackward') {
    if (gpuPresent() && work >= 2 * 256 ** 3) return gpujsKernels;
    if (wasmKernels.available() && work >= thresholds.wasmMatmulFlops) return wasmKernels;
    return jsKernels;
  }
  if (name in wasmKernels && wasmKernels.available() && work >= thresholds[wasmThresholdOf[name] ?? 'wasmSoftmaxElements']) return wasmKernels;
  return jsKernels;
}

/** For each kernel of the table, the families that implement it (js implements all). */
export function kernelTable(): Record<KernelName, BackendName[]> {
  const table = {} as Record<KernelName, BackendName[]>;
  for (const name of Object.keys(jsKernels).filter((k) => k !== 'name' && k !== 'available') as KernelName[]) {
    table[name] = (Object.keys(families) as BackendName[]).filter((f) => typeof families[f][name] === 'function');
  }
  return table;
}

export interface BackendInfo {
  chosen: BackendChoice;
  available: BackendName[];
  gpujsTarget: string | null;
  thresholds: typeof thresholds;
  /** Which families implement each kernel; the rest fall back to js. */
  kernels: Record<KernelName, BackendName[]>;
  /** Threads of the wasm kernels and why (TSGRAD_THREADS=1|2|auto). */
  threads: ThreadDecision;
  /** Float32 storage in wasm memory (kernels/wasm/resident.ts): its bound, what it holds now and has done. */
  resident: ReturnType<typeof residentStats>;
  /** What a reader should know about the families here, e.g. that gpu.js without a GPU is a CPU fallback. */
  notes: string[];
}

/** What is available here and what `auto` will choose from. */
export function backendInfo(): BackendInfo {
  const available = (Object.keys(families) as BackendName[]).filter((n) => families[n].available());
  return {
    chosen: choice,
    available,
    gpujsTarget: gpujsKernels.available() ? (gpujsKernels.target?.() ?? null) : null,
    thresholds,
    kernels: kernelTable(),
    threads: wasmThreads(),
    resident: residentStats(),
    notes: available.includes('gpujs') && !gpuPresent()
      ? [`gpujs: no GPU here, so gpu.js runs its CPU fallback (target '${gpujsKernels.target?.() ?? 'cpu'}'); auto never picks it, setBackend('gpujs') forces it`]
      : [],
  };
}

export { jsKernels, wasmKernels, gpujsKernels };
export type { KernelFamily, Kernels, KernelName, BackendName, MatmulArgs, FloatArray } from './types.js';
