// Compiles assembly/ (AssemblyScript) into the two wasm builds that src/tensor/kernels/wasm loads:
//   build/tsgrad-simd.wasm     128-bit SIMD (runs on any engine with wasm SIMD: Node ≥ 16)
//   build/tsgrad-relaxed.wasm  + relaxed SIMD (fused multiply-add), picked when the engine accepts it
// Run by `npm run build` (and so by `npm ci` through `prepare`). Text formats (.wat) are written
// next to them with --wat for reading what the compiler produced.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wat = process.argv.includes('--wat');

// --runtime stub: no GC, the kernels never allocate. --importMemory: JS owns the memory and grows
// it. --noAssert: no bounds asserts in the inner loops. Shared memory (for a worker thread) needs
// the threads feature and a declared maximum; 65536 pages = 4 GiB only reserves address space.
const common = [
  'assembly/index.ts',
  '-O3', '--noAssert', '--runtime', 'stub', '--importMemory',
  '--enable', 'simd', '--enable', 'threads', '--sharedMemory',
  '--initialMemory', '1', '--maximumMemory', '65536',
];
const builds = [
  { name: 'tsgrad-simd', flags: [] },
  { name: 'tsgrad-relaxed', flags: ['--enable', 'relaxed-simd'] },
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
