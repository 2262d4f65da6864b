// `npx tsx bench/maps.ts [kernel…]`: js vs wasm per call for the elementwise maps, binary ops and
// sums (src/tensor/kernels/wasm/maps.ts), copies in and out of wasm memory included, to decide
// which of them the wasm family registers and from which size (`thresholds` in
// src/tensor/kernels/index.ts). Prints one table per kernel on stderr and, on stdout, one JSON line
// with the smallest size from which wasm is faster at every size swept (null: never).
import type { TypedArray } from '../src/tensor/dtype.js';
import { jsKernels } from '../src/tensor/kernels/index.js';
import { wasmModule } from '../src/tensor/kernels/wasm/loader.js';
import { binaryWasm, reduceWasm, unaryGradWasm, unaryWasm } from '../src/tensor/kernels/wasm/maps.js';
import { randomArray } from './harness.js';
import { crossover, perCall } from './timing.js';

const perCallUs = (fn: () => void): number => perCall(fn) * 1e3;

type Case = (n: number) => { js: () => void; wasm: () => void };
const SIZES = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];
const COLS = 64; // rows and columns patterns, the bias gradient: [n / 64, 64]

const unaryCase = (op: Parameters<typeof unaryWasm>[0], lo = -4, hi = 4): Case => (n) => {
  const x = randomArray(n, 1, lo, hi), out = new Float32Array(n);
  return { js: () => jsKernels.unary(op, x, out), wasm: () => unaryWasm(op, x, out) };
};
const gradCase = (op: Parameters<typeof unaryGradWasm>[0]): Case => (n) => {
  const x = randomArray(n, 1, -4, 4), g = randomArray(n, 2), dx = new Float32Array(n);
  return { js: () => jsKernels.unaryGrad(op, x, g, dx), wasm: () => unaryGradWasm(op, x, g, dx) };
};
const binaryCase = (op: Parameters<typeof binaryWasm>[0], bShape: (n: number) => number[]): Case => (n) => {
  const shape = [n / COLS, COLS], bs = bShape(n);
  const a = randomArray(n, 1), b = randomArray(bs.reduce((p, d) => p * d, 1), 2, 0.5, 1.5), out = new Float32Array(n);
  return { js: () => jsKernels.binary(op, a, shape, b, bs, out, shape), wasm: () => binaryWasm(op, a, shape, b, bs, out, shape) };
};
const reduceCase = (outerOf: (n: number) => number, innerOf: (n: number) => number): Case => (n) => {
  const outer = outerOf(n), inner = innerOf(n), len = n / outer / inner;
  const x = randomArray(n, 1), out: TypedArray = new Float64Array(outer * inner);
  return { js: () => jsKernels.reduce('sum', x, outer, len, inner, out), wasm: () => reduceWasm('sum', x, outer, len, inner, out) };
};

const cases: Record<string, Case> = {
  'unary gelu': unaryCase('gelu'),
  'unary geluTanh': unaryCase('geluTanh'),
  'unary exp': unaryCase('exp'),
  'unary tanh': unaryCase('tanh'),
  'unary sigmoid': unaryCase('sigmoid'),
  'unary relu': unaryCase('relu'),
  'unary neg': unaryCase('neg'),
  'unary abs': unaryCase('abs'),
  'unary sqrt': unaryCase('sqrt', 0, 100),
  'unary log': unaryCase('log', 1e-3, 100),
  'unaryGrad gelu': gradCase('gelu'),
  'unaryGrad geluTanh': gradCase('geluTanh'),
  'unaryGrad relu': gradCase('relu'),
  'binary add same': binaryCase('add', (n) => [n / COLS, COLS]),
  'binary mul scalar': binaryCase('mul', () => []),
  'binary add rows': binaryCase('add', () => [COLS]),
  'binary mul cols': binaryCase('mul', (n) => [n / COLS, 1]),
  'binary div same': binaryCase('div', (n) => [n / COLS, COLS]),
  'reduce sum inner=1': reduceCase((n) => n / COLS, () => 1),
  'reduce sum outer=1': reduceCase(() => 1, () => COLS),
};

if (wasmModule() === null) throw new Error('bench/maps: the wasm kernels are not built (npm run build)');
const only = process.argv.slice(2);
const result: Record<string, number | null> = {};
for (const [name, make] of Object.entries(cases)) {
  if (only.length > 0 && !only.some((o) => name.startsWith(o))) continue;
  process.stderr.write(`${name.padEnd(20)}${'size'.padStart(9)}${'js µs'.padStart(11)}${'wasm µs'.padStart(11)}${'js/wasm'.padStart(9)}\n`);
  const rows = SIZES.map((n) => {
    const { js, wasm } = make(n);
    const row = { size: n, js: perCallUs(js), wasm: perCallUs(wasm) };
    process.stderr.write(`${''.padEnd(20)}${String(n).padStart(9)}${row.js.toFixed(2).padStart(11)}${row.wasm.toFixed(2).padStart(11)}${(row.js / row.wasm).toFixed(2).padStart(9)}\n`);
    return row;
  });
  const from = crossover(rows);
  result[name] = Number.isFinite(from) ? from : null;
}
process.stdout.write(JSON.stringify(result) + '\n');
