// gpu.js runtime: loads the library on first use, owns the one GPU instance, and keeps compiled
// kernels in a bounded LRU cache keyed by shape signature. Facts behind the choices: GPUJS.md.
import { createRequire } from 'node:module';

/** The few parts of gpu.js this family uses (its own typings cover far more and fight Input). */
export interface GpuKernel {
  (...args: unknown[]): unknown;
  destroy(removeCanvasReferences?: boolean): void;
  /** The kernel that actually runs: replaced when gpu.js switches or falls back to cpu. */
  kernel: { constructor: { mode?: string } };
}
interface GpuInstance {
  mode?: string;
  Kernel: { mode?: string } | null;
  kernels: unknown[];
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  destroy(): Promise<void>;
}
interface GpuJsModule {
  GPU: new (settings?: Record<string, unknown>) => GpuInstance;
  input(value: ArrayLike<number>, size: number[]): unknown;
}

// Loaded lazily: gpu.js takes ~75 ms to require, which importing tsgrad should not pay.
let lib: GpuJsModule | null = null;
let gpu: GpuInstance | null = null;
let loadFailed = false;

/** The gpu.js module and GPU instance, created on first call; null when gpu.js cannot load. */
export function gpuRuntime(): { lib: GpuJsModule; gpu: GpuInstance } | null {
  if (lib && gpu) return { lib, gpu };
  if (loadFailed) return null;
  try {
    // gpu.js is CommonJS; createRequire keeps the load synchronous, as the kernels are.
    lib = createRequire(import.meta.url)('gpu.js') as GpuJsModule;
    // No mode: gpu.js takes the first supported of headless-gl, WebGL2, WebGL, then its
    // WebAssembly backend (never WebGPU, which is opt-in), so a machine with a GPU uses it.
    gpu = new lib.GPU();
    return { lib, gpu };
  } catch {
    loadFailed = true;
    lib = null;
    gpu = null;
    return null;
  }
}

/** Must succeed: callers reach this only after `available()`. */
export function requireRuntime(): { lib: GpuJsModule; gpu: GpuInstance } {
  const runtime = gpuRuntime();
  if (!runtime) throw new Error('gpujs: gpu.js could not be loaded on this machine');
  return runtime;
}

/** A flat row-major [rows, cols] array as a gpu.js 2-D argument, read as m[row][col]. */
export function matrix(values: ArrayLike<number>, rows: number, cols: number): unknown {
  // Without input() a flat array indexed m[y][x] is silently wrong (0 on webasm, NaN on cpu).
  return requireRuntime().lib.input(values, [cols, rows]);
}

// ---- kernel cache ----------------------------------------------------------------------------
// Every new shape needs its own kernel: loop bounds are baked in as constants and webasm fixes
// argument sizes at build. Uncached kernels live in gpu.kernels forever (+~1 MB each on webasm),
// so the cache is bounded and destroys what it evicts. One entry is the set of kernels one call
// needs (softmax: 4), so entries and calls correspond. 32 entries hold the ~20 signatures of a
// GPT training step (each matmul's forward and two backward variants, softmax both ways).
let capacity = 32;
const cache = new Map<string, GpuKernel[]>(); // Map order is recency order: oldest first
let lastKernel: GpuKernel | null = null;
let created = 0;
let destroyed = 0;

function destroyEntry(kernels: GpuKernel[]): void {
  for (const k of kernels) {
    k.destroy();
    destroyed++;
    if (lastKernel === k) lastKernel = null;
  }
}

function evictToCapacity(): void {
  while (cache.size > capacity) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, GpuKernel[]];
    cache.delete(oldestKey);
    destroyEntry(oldest);
  }
}

/**
 * The kernels cached under `key`, built by `build` on a miss. `build` receives createKernel and
 * returns the kernels in the order the caller will use them.
 */
export function cachedKernels(key: string, build: (create: GpuInstance['createKernel']) => GpuKernel[]): GpuKernel[] {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const { gpu: instance } = requireRuntime();
  const kernels = build((source, settings) => {
    const k = instance.createKernel(source, settings);
    created++;
    return k;
  });
  cache.set(key, kernels);
  evictToCapacity();
  return kernels;
}

/** Records the kernel that just ran, so `gpujsTarget()` reports what really ran (cpu fallback). */
export function ran(kernel: GpuKernel): void {
  lastKernel = kernel;
}

/** gpu.js's GL kernel classes all report mode 'gpu': they are named by class instead. */
function targetOf(kernelClass: { mode?: string } | null | undefined): string | undefined {
  const classes = lib as unknown as Record<string, unknown> | null;
  if (kernelClass && classes) {
    if (kernelClass === classes.WebGL2Kernel) return 'webgl2';
    if (kernelClass === classes.WebGLKernel) return 'webgl';
    if (kernelClass === classes.HeadlessGLKernel) return 'headlessgl';
  }
  return kernelClass?.mode;
}

/** 'webasm', 'headlessgl', 'webgl', 'webgl2', 'webgpu' or 'cpu'; 'unavailable' without gpu.js. */
export function gpujsTarget(): string {
  if (lastKernel) {
    const mode = targetOf(lastKernel.kernel.constructor);
    if (mode) return mode;
  }
  const runtime = gpuRuntime();
  if (!runtime) return 'unavailable';
  // Before any kernel ran: the backend class the GPU instance picked.
  return targetOf(runtime.gpu.Kernel) ?? runtime.gpu.mode ?? 'unknown';
}

export interface GpujsCacheStats {
  entries: number;
  capacity: number;
  kernels: number; // kernels held by the cache
  created: number;
  destroyed: number;
  /** Kernels gpu.js itself still tracks (webasm drops destroyed ones from this list). */
  live: number;
}

export function gpujsCacheStats(): GpujsCacheStats {
  let kernels = 0;
  for (const entry of cache.values()) kernels += entry.length;
  return { entries: cache.size, capacity, kernels, created, destroyed, live: gpu ? gpu.kernels.length : 0 };
}

/** Number of cached entries (shape signatures). */
export function gpujsCacheSize(): number {
  return cache.size;
}

/** Change the bound; evicts (and destroys) down to it at once. */
export function setGpujsCacheCapacity(entries: number): void {
  if (!Number.isInteger(entries) || entries < 1) {
    throw new Error(`setGpujsCacheCapacity: capacity must be a positive integer, got ${entries}`);
  }
  capacity = entries;
  evictToCapacity();
}

/**
 * Destroys every cached kernel and the GPU instance. The next gpujs call starts a fresh one.
 * Await it before exiting (tests' after hook): gpu.destroy() finishes on a timer.
 */
export async function disposeGpujs(): Promise<void> {
  for (const kernels of cache.values()) destroyEntry(kernels);
  cache.clear();
  lastKernel = null;
  const instance = gpu;
  gpu = null;
  if (instance) await instance.destroy();
}
