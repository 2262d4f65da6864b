// Loads the tsgrad wasm module synchronously and owns its memory.
//
// The .wasm files are built by scripts/build-wasm.mjs into <package root>/build/. The package root
// is found by walking up from this file, so the same code works from src/ (tsx) and from dist/.
// Two builds exist: relaxed SIMD (fused multiply-add) when the engine accepts it, plain SIMD
// otherwise; TSGRAD_WASM_SIMD=plain|relaxed forces one (plain gives the same bits on every CPU).
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
}

export type SimdFlavour = 'relaxed' | 'plain';

export interface WasmModule {
  flavour: SimdFlavour;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: WasmExports;
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
  return WebAssembly.validate(bytes);
}

function load(): WasmModule | null {
  const root = packageRoot();
  if (root === null) return null;
  const forced = process.env.TSGRAD_WASM_SIMD;
  const relaxed = forced === 'plain' ? null : readBuild(root, 'tsgrad-relaxed');
  const plain = forced === 'relaxed' ? null : readBuild(root, 'tsgrad-simd');
  const candidates: [SimdFlavour, Uint8Array | null][] = [['relaxed', relaxed], ['plain', plain]];
  for (const [flavour, bytes] of candidates) {
    if (bytes === null) continue;
    if (flavour === 'relaxed' ? !relaxedAccepted(bytes) : !WebAssembly.validate(bytes)) continue;
    try {
      const module = new WebAssembly.Module(bytes);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
      const instance = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error('tsgrad wasm: abort'); } } });
      return { flavour, module, memory, exports: instance.exports as unknown as WasmExports };
    } catch {
      // no SIMD or no shared memory in this engine: try the next build, else unavailable
    }
  }
  return null;
}

let loaded: WasmModule | null | undefined;

/** The module, loaded on first use; null when no build could be loaded here. */
export function wasmModule(): WasmModule | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

/**
 * The module's memory seen as float32, grown to at least `bytes`. Growing a shared memory leaves
 * old views at their old length, so callers must take the view returned here after every call.
 */
let view: Float32Array | null = null;
export function memoryF32(w: WasmModule, bytes: number): Float32Array | null {
  const have = w.memory.buffer.byteLength;
  if (bytes > have) {
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return null;
    w.memory.grow(pages);
    view = null;
  }
  if (view === null || view.buffer.byteLength !== w.memory.buffer.byteLength) view = new Float32Array(w.memory.buffer);
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

/** Start of the first region: the module has no static data, the first bytes are kept free anyway. */
export const HEAP_BASE = 1024;
