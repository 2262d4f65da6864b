// Compiles assembly/ (AssemblyScript) into the wasm builds that src/tensor/kernels/wasm loads:
//   build/tsgrad-simd.wasm            128-bit SIMD (any engine with wasm SIMD: Node ≥ 16)
//   build/tsgrad-relaxed.wasm         + relaxed SIMD (fused multiply-add), used when the engine accepts it
//   build/tsgrad-{simd,relaxed}-shared.wasm   the same over a shared memory, for the optional
//                                     second thread (TSGRAD_THREADS=2 or auto)
// Shared memory is a separate build because JS copies into a SharedArrayBuffer run at about half
// the speed of copies into an ArrayBuffer (measured: 5.7 vs 2.9 µs per 64 KB).
// Run by `npm run build` (and so by `npm ci` through `prepare`). `--wat` also writes the text
// format next to each .wasm, to read what the compiler produced.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wat = process.argv.includes('--wat');

// --runtime stub: no GC, the kernels never allocate. --importMemory: JS owns the memory and grows
// it. --noAssert: no bounds asserts in the inner loops. A shared memory needs the threads feature
// and a declared maximum; 65536 pages = 4 GiB only reserves address space.
const common = ['assembly/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--enable', 'simd'];
const relaxed = ['--enable', 'relaxed-simd'];
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];
const builds = [
  { name: 'tsgrad-simd', flags: [] },
  { name: 'tsgrad-relaxed', flags: relaxed },
  { name: 'tsgrad-simd-shared', flags: shared },
  { name: 'tsgrad-relaxed-shared', flags: [...relaxed, ...shared] },
];

await mkdir(join(root, 'build'), { recursive: true });
for (const { name, flags } of builds) {
  const out = `build/${name}.wasm`;
  const args = [...common, ...flags, '--outFile', out, ...(wat ? ['--textFile', `build/${name}.wat`] : [])];
  const started = performance.now();
  // asc writes its diagnostics to the streams given here.
  const { error } = await asc.main(args, { stdout: process.stderr, stderr: process.stderr, baseDir: root });
  if (error) {
    console.error(`build-wasm: asc failed for ${out}: ${error.message}`);
    process.exit(1);
  }
  console.error(`build-wasm: ${out} (${Math.round(performance.now() - started)} ms)`);
}
