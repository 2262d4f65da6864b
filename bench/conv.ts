// `npx tsx bench/conv.ts [kernel…]`: js vs wasm per call for the convolution and pooling layout
// kernels (src/tensor/kernels/wasm/conv.ts), copies in and out of wasm memory included, to decide
// from which size the wasm family takes them (`thresholds` in src/tensor/kernels/index.ts). The
// size is the dispatch's `work`: col floats for im2col / col2im, input floats for pooling. Sweeps
// 8×8 planes (3×3 pad 1 convolutions, 2×2 and 3×3 pools), then times the LeNet-5 (W4) shapes.
// Prints tables on stderr and, on stdout, one JSON line with the smallest size from which wasm is
// faster at every size swept (null: never).
import { jsKernels } from '../src/tensor/kernels/index.js';
import type { AvgPoolMode, WindowGeometry } from '../src/tensor/kernels/types.js';
import { wasmModule } from '../src/tensor/kernels/wasm/loader.js';
import { avgPool2dBackwardWasm, avgPool2dWasm, col2imWasm, im2colWasm, maxPool2dBackwardWasm, maxPool2dWasm } from '../src/tensor/kernels/wasm/conv.js';
import { randomArray } from './harness.js';
import { crossover, perCall } from './timing.js';

const perCallUs = (fn: () => void): number => perCall(fn) * 1e3;

/** A square geometry: kernel k, stride s, padding p, output size as conv2d computes it. */
function square(size: number, k: number, s: number, p: number): WindowGeometry {
  const out = Math.floor((size + 2 * p - k) / s) + 1;
  return { inH: size, inW: size, outH: out, outW: out, kernelH: k, kernelW: k, strideH: s, strideW: s, padH: p, padW: p, dilationH: 1, dilationW: 1 };
}

type Pair = { js: () => void; wasm: () => void };
/** A kernel on `planes` planes of geometry g; work per plane is col floats (im2col) or input floats (pools). */
type Case = { g: WindowGeometry; workPerPlane: (g: WindowGeometry) => number; make: (planes: number, g: WindowGeometry) => Pair };

const colFloats = (g: WindowGeometry) => g.kernelH * g.kernelW * g.outH * g.outW;
const inFloats = (g: WindowGeometry) => g.inH * g.inW;
const MODE: AvgPoolMode = { countIncludePad: true };

const im2colCase = (g: WindowGeometry): Case => ({ g, workPerPlane: colFloats, make: (planes, g) => {
  const x = randomArray(planes * inFloats(g), 1), col = new Float32Array(planes * colFloats(g));
  return { js: () => jsKernels.im2col(x, col, planes, g), wasm: () => im2colWasm(x, col, planes, g) };
} });
const col2imCase = (g: WindowGeometry): Case => ({ g, workPerPlane: colFloats, make: (planes, g) => {
  const col = randomArray(planes * colFloats(g), 1), dx = new Float32Array(planes * inFloats(g));
  return { js: () => jsKernels.col2im(col, dx, planes, g), wasm: () => col2imWasm(col, dx, planes, g) };
} });
const poolCase = (g: WindowGeometry, kind: 'max' | 'maxBackward' | 'avg' | 'avgBackward'): Case => ({ g, workPerPlane: inFloats, make: (planes, g) => {
  const x = randomArray(planes * inFloats(g), 1), out = new Float32Array(planes * g.outH * g.outW), argmax = new Int32Array(out.length), dx = new Float32Array(x.length);
  jsKernels.maxPool2d(x, out, argmax, planes, g);
  if (kind === 'max') return { js: () => jsKernels.maxPool2d(x, out, argmax, planes, g), wasm: () => maxPool2dWasm(x, out, argmax, planes, g) };
  if (kind === 'maxBackward') return { js: () => jsKernels.maxPool2dBackward(out, argmax, dx, planes, g), wasm: () => maxPool2dBackwardWasm(out, argmax, dx, planes, g) };
  if (kind === 'avg') return { js: () => jsKernels.avgPool2d(x, out, planes, g, MODE), wasm: () => avgPool2dWasm(x, out, planes, g, MODE) };
  return { js: () => jsKernels.avgPool2dBackward(out, dx, planes, g, MODE), wasm: () => avgPool2dBackwardWasm(out, dx, planes, g, MODE) };
} });

const conv3 = square(8, 3, 1, 1), pool2 = square(8, 2, 2, 0), pool3 = square(8, 3, 2, 1);
const cases: Record<string, Case> = {
  'im2col 3x3 pad 1': im2colCase(conv3),
  'col2im 3x3 pad 1': col2imCase(conv3),
  'maxPool2d 2x2': poolCase(pool2, 'max'),
  'maxPool2d 3x3 s2 p1': poolCase(pool3, 'max'),
  'maxPool2dBackward 2x2': poolCase(pool2, 'maxBackward'),
  'avgPool2d 2x2': poolCase(pool2, 'avg'),
  'avgPool2dBackward 2x2': poolCase(pool2, 'avgBackward'),
};
const SIZES = [64, 256, 1024, 4096, 16384, 65536, 262144];

/** LeNet-5 at batch 32 (W4): conv1 and conv2's im2col / col2im, then both pools. */
const lenet: [string, Case, number][] = [
  ['conv1 im2col 32×1×28×28 5×5 pad 2', im2colCase(square(28, 5, 1, 2)), 32],
  ['conv2 im2col 32×6×14×14 5×5', im2colCase(square(14, 5, 1, 0)), 192],
  ['conv2 col2im', col2imCase(square(14, 5, 1, 0)), 192],
  ['pool1 max 32×6×28×28', poolCase(square(28, 2, 2, 0), 'max'), 192],
  ['pool1 maxBackward', poolCase(square(28, 2, 2, 0), 'maxBackward'), 192],
  ['pool2 max 32×16×10×10', poolCase(square(10, 2, 2, 0), 'max'), 512],
  ['pool2 maxBackward', poolCase(square(10, 2, 2, 0), 'maxBackward'), 512],
];

if (wasmModule() === null) throw new Error('bench/conv: the wasm kernels are not built (npm run build)');
const only = process.argv.slice(2);
const chosen = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));
const result: Record<string, number | null> = {};
for (const [name, c] of Object.entries(cases)) {
  if (!chosen(name)) continue;
  process.stderr.write(`${name.padEnd(24)}${'size'.padStart(9)}${'js µs'.padStart(11)}${'wasm µs'.padStart(11)}${'js/wasm'.padStart(9)}\n`);
  const planeCounts = [...new Set(SIZES.map((n) => Math.max(1, Math.round(n / c.workPerPlane(c.g)))))];
  const rows = planeCounts.map((planes) => {
    const { js, wasm } = c.make(planes, c.g);
    const row = { size: planes * c.workPerPlane(c.g), js: perCallUs(js), wasm: perCallUs(wasm) };
    process.stderr.write(`${''.padEnd(24)}${String(row.size).padStart(9)}${row.js.toFixed(2).padStart(11)}${row.wasm.toFixed(2).padStart(11)}${(row.js / row.wasm).toFixed(2).padStart(9)}\n`);
    return row;
  });
  const from = crossover(rows);
  result[name] = Number.isFinite(from) ? from : null;
}
for (const [name, c, planes] of lenet) {
  if (!chosen(name)) continue;
  const { js, wasm } = c.make(planes, c.g);
  const a = perCallUs(js), b = perCallUs(wasm);
  process.stderr.write(`${name.padEnd(36)} js ${a.toFixed(0).padStart(6)} µs  wasm ${b.toFixed(0).padStart(6)} µs  ${(a / b).toFixed(2)}×\n`);
}
process.stdout.write(JSON.stringify(result) + '\n');
