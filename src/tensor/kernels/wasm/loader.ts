// Loads the tsgrad wasm module synchronously and owns its memory.
//
// The .wasm files are built by scripts/build-wasm.mjs into <package root>/build/. The package root
// is found by walking up from this file, so the same code works from src/ (tsx) and from dist/.
// Two builds exist: relaxed SIMD (fused multiply-add) when the engine accepts it, plain SIMD
// otherwise; TSGRAD_WASM_SIMD=plain|relaxed forces one (plain gives the same bits on every CPU).
// Each also exists over a shared memory, for the optional worker thread (./threads.ts).
// When no build can be loaded, `wasmModule()` returns null and the family reports unavailable.
import { existsSync, readFileSync } from 'node:fs';
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
  gemvRows(mat: number, ld: number, x: number, y: number, rows: number, len: number): void;
  gemvCols(mat: number, ld: number, x: number, y: number, cols: number, len: number): void;
  softmaxRows(x: number, out: number, rows: number, cols: number): void;
  softmaxBackwardRows(y: number, dy: number, dx: number, rows: number, cols: number): void;
  expArray(x: number, out: number, len: number): void;
  unaryMap(op: number, x: number, out: number, n: number): void;
  unaryGradMap(op: number, x: number, g: number, dx: number, n: number): void;
  binarySame(op: number, a: number, b: number, out: number, n: number): void;
  binaryScalar(op: number, a: number, s: number, swap: number, out: number, n: number): void;
  binaryRows(op: number, a: number, b: number, out: number, rows: number, cols: number): void;
  binaryCols(op: number, a: number, b: number, out: number, rows: number, cols: number): void;
  reduceSum(x: number, acc: number, outer: number, len: number, inner: number, accumulate: number): void;
  heapBase(): number;
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
  /** First byte after the module's static data (a constants table): buffers are placed from here. */
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

/** Whether TSGRAD_WASM_THREADS asks for a second thread (then the shared-memory build is loaded). */
export function threadsRequested(): boolean {
  return Number(process.env.TSGRAD_WASM_THREADS ?? '1') >= 2;
}

let loaded: WasmModule | null | undefined;

/** The module every kernel call uses, loaded on first use; null when no build could be loaded. */
export function wasmModule(): WasmModule | null {
  if (loaded === undefined) {
    try {
      // the shared-memory build when a second thread is asked for, else (or failing that) the private one
      loaded = (threadsRequested() ? loadWasm(undefined, true) : null) ?? loadWasm();
    } catch {
      loaded = null; // no WebAssembly at all (e.g. node --jitless)
    }
  }
  return loaded;
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
