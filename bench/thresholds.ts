// `npx tsx bench/thresholds.ts`: measures where the wasm kernels start to beat the js ones, to set
// `thresholds` in src/tensor/kernels/index.ts. Prints a table on stderr and the suggested values
// as one JSON line on stdout: the smallest size from which wasm is faster at every size swept.
import { jsKernels, wasmKernels, type KernelFamily as AnyFamily, type Kernels } from '../src/tensor/kernels/index.js';
/** The families the bench compares: each implements matmul and softmax. */
type KernelFamily = AnyFamily & Pick<Kernels, 'matmul' | 'softmax' | 'softmaxBackward'>;
import { randomArray } from './harness.js';
import { crossover, perCall } from './timing.js';

function matmulTime(family: KernelFamily, m: number, n: number, k: number): number {
  const a = randomArray(m * k, 1);
  const b = randomArray(k * n, 2);
  const out = new Float32Array(m * n);
  const args = { a, b, out, batch: 1, m, n, k, transA: false, transB: false, aOffsets: new Int32Array(1), bOffsets: new Int32Array(1) };
  return perCall(() => family.matmul(args));
}

function softmaxTime(family: KernelFamily, rows: number, cols: number): number {
  const x = randomArray(rows * cols, 3, -5, 5);
  const y = new Float32Array(rows * cols);
  return perCall(() => family.softmax(x, y, rows, cols));
}

if (!wasmKernels.available()) throw new Error('thresholds: the wasm kernels are not built (npm run build)');
const log = (s: string): boolean => process.stderr.write(s + '\n');

// Matmul: square products, and the matrix-vector shape of a batch-1 linear layer.
const matmul: { size: number; js: number; wasm: number }[] = [];
log('matmul       flops      js µs    wasm µs');
const shapes: [number, number, number][] = [];
for (const s of [2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64]) shapes.push([s, s, s]);
for (const s of [8, 16, 32, 64, 128]) shapes.push([1, s, s]);
shapes.sort((p, q) => p[0] * p[1] * p[2] - q[0] * q[1] * q[2]);
for (const [m, n, k] of shapes) {
  const row = { size: 2 * m * n * k, js: matmulTime(jsKernels, m, n, k) * 1e3, wasm: matmulTime(wasmKernels, m, n, k) * 1e3 };
  matmul.push(row);
  log(`${`${m}x${k}·${k}x${n}`.padEnd(13)}${String(row.size).padStart(7)} ${row.js.toFixed(2).padStart(10)} ${row.wasm.toFixed(2).padStart(10)}`);
}

// Softmax: short rows (attention over few positions) and long ones.
const softmax: { size: number; js: number; wasm: number }[] = [];
log('softmax   elements      js µs    wasm µs');
const sm: [number, number][] = [];
for (const cols of [4, 16, 64, 256]) for (const rows of [1, 4, 16, 64]) sm.push([rows, cols]);
sm.sort((p, q) => p[0] * p[1] - q[0] * q[1]);
for (const [rows, cols] of sm) {
  const row = { size: rows * cols, js: softmaxTime(jsKernels, rows, cols) * 1e3, wasm: softmaxTime(wasmKernels, rows, cols) * 1e3 };
  softmax.push(row);
  log(`${`${rows}x${cols}`.padEnd(10)}${String(row.size).padStart(9)} ${row.js.toFixed(2).padStart(10)} ${row.wasm.toFixed(2).padStart(10)}`);
}

process.stdout.write(JSON.stringify({ wasmMatmulFlops: crossover(matmul), wasmSoftmaxElements: crossover(softmax) }) + '\n');
