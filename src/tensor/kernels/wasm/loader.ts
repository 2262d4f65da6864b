// Loads the tsgrad wasm module synchronously and owns its memory.
//
// The .wasm files are built by scripts/build-wasm.mjs into <package root>/build/. The package root
// is found by walking up from this file, so the same code works from src/ (tsx) and from dist/.
// Two builds exist: relaxed SIMD (fused multiply-add) when the engine accepts it, plain SIMD
// otherwise; TSGRAD_WASM_SIMD=plain|relaxed forces one (plain gives the same bits on every CPU).
// Each also exists over a shared memory, for the optional worker thread (./threads.ts).
// When no build can be loaded, `wasmModule()` returns null and the family reports unavailable.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

/** The functions exported by assembly/index.ts; pointers are byte offsets into the memory. */
export interface WasmExports {
  gemm(
    a: number, transA: number, lda: number, b: number, transB: number, ldb: number,
    c: number, ldc: number, m: number, n: number, k: number, packA: number, packB: number, edge: number,
  ): void;
  packAFloats(): number;
  packBFloats(): number;
  edgeFloats(): number;
  packedAFloats(m: number, k: number): number;
  packedBFloats(k: number, n: number): number;
  packAAll(a: number, transA: number, lda: number, m: number, k: number, dst: number): void;
  packBAll(b: number, transB: number, ldb: number, k: number, n: number, dst: number): void;
  gemmPackedA(packed: number, m: number, b: number, transB: number, ldb: number, c: number, ldc: number, n: number, k: number, pb: number, edge: number): void;
  gemmPackedB(a: number, transA: number, lda: number, packed: number, c: number, ldc: number, m: number, n: number, k: number, pa: number, edge: number): void;
  gemvRows(mat: number, ld: number, x: number, y: number, rows: number, len: number): void;
  gemvCols(mat: number, ld: number, x: number, y: number, cols: number, len: number): void;
  softmaxRows(x: number, out: number, rows: number, cols: number): void;
  // assembly/attention.ts: one head (its k and v blocks follow q's in qkv); scaleAt points at the scale (a float in memory), keep at its dropout factors or 0
  attentionHead(q: number, ld: number, probs: number, out: number, T: number, d: number, scaleAt: number, causal: number, keep: number, pd: number, pa: number, pb: number, edge: number): void;
  attentionHeadBackward(q: number, ld: number, probs: number, dOut: number, dq: number, T: number, d: number, scaleAt: number, keep: number, dS: number, pa: number, pb: number, edge: number): void;
  softmaxBackwardRows(y: number, dy: number, dx: number, rows: number, cols: number): void;
  expArray(x: number, out: number, len: number): void;
  addRowBias(c: number, bias: number, rows: number, cols: number): void;
  layerNormRows(x: number, y: number, w: number, b: number, mean: number, rstd: number, rows: number, D: number, eps: number): void;
  layerNormBackwardRows(x: number, g: number, w: number, mean: number, rstd: number, dx: number, dw: number, db: number, rows: number, D: number, wantDx: number): void;
  crossEntropyRows(z: number, w: number, lse: number, smooth: number, scratch: number, rows: number, C: number, wantSmooth: number, weightSum: number): void;
  crossEntropyBackwardRows(z: number, dz: number, w: number, coef: number, rows: number, C: number): void;
  sgdStep(theta: number, grad: number, n: number, lr: number, weightDecay: number): void;
  sgdMomentumStep(theta: number, grad: number, buf: number, n: number, first: number, lr: number, momentum: number, oneMinusDampening: number, nesterov: number, weightDecay: number): void;
  /** adamStep reading its float numbers from `params` in memory (the worker's call table holds integers). */
  adamStepAt(theta: number, grad: number, m: number, v: number, n: number, params: number): void;
  adamStep(theta: number, grad: number, m: number, v: number, n: number, stepSize: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, invBc2Sqrt: number, l2: number, decay: number): void;
  unaryMap(op: number, x: number, out: number, n: number): void;
  unaryGradMap(op: number, x: number, g: number, dx: number, n: number): void;
  binarySame(op: number, a: number, b: number, out: number, n: number): void;
  binaryScalar(op: number, a: number, s: number, swap: number, out: number, n: number): void;
  binaryRows(op: number, a: number, b: number, out: number, rows: number, cols: number): void;
  binaryCols(op: number, a: number, b: number, out: number, rows: number, cols: number): void;
  reduceSum(x: number, acc: number, outer: number, len: number, inner: number, accumulate: number): void;
  // assembly/conv.ts, maxpool.ts, avgpool.ts; `geometry` is WindowGeometry's 12 fields in order (wasm/conv.ts)
  im2col(x: number, col: number, planes: number, k0: number, k1: number, ...geometry: number[]): void;
  col2im(col: number, dx: number, planes: number, k0: number, k1: number, ...geometry: number[]): void;
  maxPool2d(x: number, out: number, argmax: number, planes: number, ...geometry: number[]): void;
  maxPool2dBackward(dy: number, argmax: number, dx: number, planes: number, L: number, P: number): void;
  /** geometry without dilation: 10 fields, then countIncludePad, hasOverride (0/1) and the override. */
  avgPool2d(x: number, out: number, planes: number, ...geometryAndMode: number[]): void;
  avgPool2dBackward(dy: number, dx: number, planes: number, ...geometryAndMode: number[]): void;
  // assembly/layout.ts; dims: rank i32 sizes, rank i32 strides, rank i32 of scratch
  stridedCopy(src: number, out: number, dims: number, rank: number): void;
  stridedScatter(src: number, out: number, dims: number, rank: number): void;
  gatherRows(src: number, outer: number, len: number, inner: number, index: number, count: number, base: number, out: number): void;
  scatterAddRows(src: number, outer: number, len: number, inner: number, index: number, count: number, base: number, skip: number, out: number): void;
  heapBase(): number;
  zeroBytes(ptr: number, n: number): void;
}

export type SimdFlavour = 'relaxed' | 'plain';

// The WebAssembly global is typed by TypeScript's DOM lib only, which this project does not load:
// the few members used here, typed by hand.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export type WasmCompiled = object;
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmCompiled;
  Instance: new (module: WasmCompiled, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export interface WasmModule {
  flavour: SimdFlavour;
  /** Whether the memory is a SharedArrayBuffer (the build a worker thread can share). */
  shared: boolean;
  module: WasmCompiled;
  memory: WasmMemory;
  exports: WasmExports;
  /**
   * Where a kernel call lays out its working buffers: first the byte after the module's static
   * data (a constants table), then above the resident tensors' blocks, which move it up (resident.ts).
   */
  heapBase: number;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB: 65536 pages. A shared memory must declare its maximum. */
export const MAX_PAGES = 65536;

function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'tsgrad') return dir;
      } catch {
        // an unreadable package.json is not ours: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function readBuild(root: string, name: string): Uint8Array | null {
  const file = join(root, 'build', `${name}.wasm`);
  return existsSync(file) ? readFileSync(file) : null;
}

/** Relaxed SIMD is behind a V8 flag on Node 20 (on by default later); the flag must be set before compiling. */
function relaxedAccepted(bytes: Uint8Array): boolean {
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not V8, or flags locked: validate() below answers anyway
  }
  return wasmApi.validate(bytes);
}

/** Compiles and instantiates one build with a fresh memory; null if the engine refuses it. */
function instantiate(flavour: SimdFlavour, shared: boolean, bytes: Uint8Array): WasmModule | null {
  if (flavour === 'relaxed' ? !relaxedAccepted(bytes) : !wasmApi.validate(bytes)) return null;
  const module = new wasmApi.Module(bytes);
  const memory = new wasmApi.Memory(shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 });
  const abort = (): never => {
    throw new Error('tsgrad wasm: abort');
  };
  const exports = new wasmApi.Instance(module, { env: { memory, abort } }).exports as WasmExports;
  return { flavour, shared, module, memory, exports, heapBase: Math.ceil(exports.heapBase() / 64) * 64 };
}

/**
 * Loads one build, or with no flavour the best this engine accepts (relaxed, then plain;
 * TSGRAD_WASM_SIMD=plain|relaxed narrows the choice), over a private or a shared memory (the
 * shared builds serve the worker thread). Null when none loads: no build/ directory, no
 * WebAssembly SIMD, or no shared memory.
 */
export function loadWasm(only?: SimdFlavour, shared = false): WasmModule | null {
  const root = packageRoot();
  if (root === null) return null;
  const forced = only ?? process.env.TSGRAD_WASM_SIMD;
  const order: [SimdFlavour, string][] = [['relaxed', 'tsgrad-relaxed'], ['plain', 'tsgrad-simd']];
  for (const [flavour, file] of order) {
    if ((forced === 'plain' || forced === 'relaxed') && forced !== flavour) continue;
    const bytes = readBuild(root, shared ? `${file}-shared` : file);
    if (bytes === null) continue;
    try {
      const loaded = instantiate(flavour, shared, bytes);
      if (loaded !== null) return loaded;
    } catch {
      // this engine cannot compile or instantiate it: try the next build
    }
  }
  return null;
}

/** How many threads the wasm kernels use, and why (tg.backendInfo() reports it). */
export interface ThreadDecision {
  threads: 1 | 2;
  reason: string;
}

/** Times the two candidates once per machine: the private build on one thread, the shared build on two. */
export type ThreadCalibrator = (single: WasmModule, shared: WasmModule) => { threads: 1 | 2; speedup: number; what: string };

let calibrator: ThreadCalibrator | null = null;
let decision: ThreadDecision | undefined;
let override: boolean | null = null;
let loaded: WasmModule | null | undefined;

/** Set by the wasm family (index.ts), so that this file needs no kernel of its own. */
export function setThreadCalibrator(fn: ThreadCalibrator): void {
  calibrator = fn;
}

/** Whether the kernels split large calls with the worker thread (decided on first use). */
export function threadsRequested(): boolean {
  if (override !== null) return override;
  if (decision === undefined) wasmModule();
  return decision?.threads === 2;
}

/** Run fn with the second thread forced on or off (calibration and tests). */
export function withThreads<T>(on: boolean, fn: () => T): T {
  const previous = override;
  override = on;
  try {
    return fn();
  } finally {
    override = previous;
  }
}

export function threadDecision(): ThreadDecision {
  if (decision === undefined) wasmModule();
  return decision ?? { threads: 1, reason: 'no wasm build loaded' };
}

/** TSGRAD_THREADS=1|2|auto (TSGRAD_WASM_THREADS=2, the older name, still means 2). */
function threadsWish(): 1 | 2 | 'auto' {
  const value = process.env.TSGRAD_THREADS ?? (process.env.TSGRAD_WASM_THREADS === '2' ? '2' : 'auto');
  if (value === '1' || value === '2') return Number(value) as 1 | 2;
  if (value === 'auto' || value === '') return 'auto';
  throw new Error(`TSGRAD_THREADS: expected 1, 2 or auto (got '${value}')`);
}

/** The module every kernel call uses, loaded on first use; null when no build could be loaded. */
export function wasmModule(): WasmModule | null {
  if (loaded === undefined) {
    try {
      loaded = chooseModule();
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('TSGRAD_THREADS')) throw e;
      loaded = null; // no WebAssembly at all (e.g. node --jitless)
    }
  }
  return loaded;
}

function chooseModule(): WasmModule | null {
  const wish = threadsWish();
  if (wish === 1) {
    decision = { threads: 1, reason: 'TSGRAD_THREADS=1' };
    return loadWasm();
  }
  const shared = loadWasm(undefined, true);
  if (wish === 2) {
    decision = shared ? { threads: 2, reason: 'TSGRAD_THREADS=2' } : { threads: 1, reason: 'TSGRAD_THREADS=2, but the shared-memory build does not load here' };
    return shared ?? loadWasm();
  }
  const single = loadWasm();
  if (availableParallelism() < 2) decision = { threads: 1, reason: 'auto: this machine has one CPU' };
  else if (!shared || !single) decision = { threads: 1, reason: 'auto: the shared-memory build does not load here' };
  else decision = cachedOrCalibrated(single, shared);
  return decision.threads === 2 ? shared : single;
}

/** The calibration's answer for this machine, measured once and kept in the user's cache directory. */
function cachedOrCalibrated(single: WasmModule, shared: WasmModule): ThreadDecision {
  const dir = process.env.TSGRAD_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tsgrad');
  const file = join(dir, 'threads.json');
  const key = `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()} · node ${process.version} · ${single.flavour}`;
  let cache: Record<string, { threads: 1 | 2; speedup: number; what: string }> = {};
  try {
    cache = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // no cache yet, or unreadable: measure
  }
  const hit = cache[key];
  if (hit && (hit.threads === 1 || hit.threads === 2)) return { threads: hit.threads, reason: `auto: ${hit.what}: ${hit.speedup}× with 2 threads (cached in ${file})` };
  if (!calibrator) return { threads: 1, reason: 'auto: not calibrated' };
  const measured = calibrator(single, shared);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...cache, [key]: measured }, null, 2));
    renameSync(tmp, file); // atomic: a concurrent process reads the old file or the new one
  } catch {
    // a read-only home: decide again next time
  }
  return { threads: measured.threads, reason: `auto: ${measured.what}: ${measured.speedup}× with 2 threads (measured now, cached in ${file})` };
}

const views = new WeakMap<WasmModule, Float32Array>();

/**
 * The module's memory seen as float32, grown first to at least `bytes`; null if that exceeds
 * wasm32's 4 GiB or the system refuses. Growing detaches the old views of a private memory and
 * leaves those of a shared one at their old length: callers take the view returned here after
 * every call that may grow.
 */
export function memoryF32(w: WasmModule, bytes: number): Float32Array | null {
  const have = w.memory.buffer.byteLength;
  if (bytes > have) {
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return null;
    try {
      w.memory.grow(pages);
    } catch {
      return null;
    }
  }
  let view = views.get(w);
  if (view === undefined || view.buffer.byteLength !== w.memory.buffer.byteLength) {
    view = new Float32Array(w.memory.buffer);
    views.set(w, view);
  }
  return view;
}

type ViewOf = typeof Float64Array | typeof Int32Array;
const otherViews = new Map<ViewOf, WeakMap<WasmModule, Float64Array | Int32Array>>();

/** The module's memory seen through another typed array (kept until the memory grows); call after memoryF32, which grows it. */
function memoryAs<T extends Float64Array | Int32Array>(w: WasmModule, View: ViewOf): T {
  const cache = otherViews.get(View) ?? new WeakMap();
  otherViews.set(View, cache);
  let view = cache.get(w);
  if (view === undefined || view.buffer.byteLength !== w.memory.buffer.byteLength) {
    view = new View(w.memory.buffer as ArrayBuffer); // a SharedArrayBuffer for the shared builds
    cache.set(w, view);
  }
  return view as T;
}

/** The module's memory seen as float64 (per-row statistics). */
export const memoryF64 = (w: WasmModule): Float64Array => memoryAs(w, Float64Array);

/** The module's memory seen as int32 (argmax indices). */
export const memoryI32 = (w: WasmModule): Int32Array => memoryAs(w, Int32Array);

/** Byte offsets for consecutive regions of the given float counts, each 64-byte aligned (a cache line). */
export function layout(base: number, ...floats: number[]): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let at = base;
  for (const count of floats) {
    offsets.push(at);
    at += Math.ceil((count * 4) / 64) * 64;
  }
  return { offsets, end: at };
}
