// W2: softmax over the last dim of x [4096, 1024], per kernel family, in ms. `fwd+bwd` is the
// forward then the backward of sum(softmax(x) · R), whose upstream gradient dL/dy is R.
// Kernel level: outputs are allocated once, outside the timing (an op-level line comes later).
// Each family runs on ordinary arrays; the wasm family runs once more on arrays that live in wasm
// memory (storage "resident"), as a training step's activations and gradients do when the
// program releases its graphs (kernels/wasm/resident.ts): then nothing is copied in or out.
import { residentFloat32 } from '../../src/tensor/kernels/wasm/resident.js';
import { kernelFamilies, line, randomArray, timeIt, type Workload } from '../harness.js';

const rows = 4096;
const cols = 1024;

export const w2: Workload = {
  id: 'W2',
  title: 'softmax forward and backward',
  run(ctx) {
    const plain: Record<'x' | 'r' | 'y' | 'dx', Float32Array> = { x: randomArray(rows * cols, 3, -5, 5), r: randomArray(rows * cols, 4), y: new Float32Array(rows * cols), dx: new Float32Array(rows * cols) };
    const runs = kernelFamilies(ctx).map(({ family, extra }) => ({ family, extra: extra as Record<string, string>, arrays: plain }));
    const wasm = runs.find((r) => r.family.name === 'wasm');
    const resident = (values: Float32Array) => {
      const a = residentFloat32(values.length, false);
      a?.set(values);
      return a;
    };
    const [x, r, y, dx] = wasm ? [plain.x, plain.r, plain.y, plain.dx].map(resident) : [];
    if (wasm && x && r && y && dx) runs.push({ ...wasm, extra: { ...wasm.extra, storage: 'resident' }, arrays: { x, r, y, dx } });
    for (const { family, extra, arrays } of runs) {
      const label = `${family.name}${extra.storage ? ` ${extra.storage}` : ''}`;
      ctx.progress(`W2 fwd ${label}`);
      const fwd = timeIt(() => family.softmax(arrays.x, arrays.y, rows, cols), ctx.quick);
      ctx.emit(line('W2', `fwd ${rows}x${cols}`, family.name, fwd, fwd.median_ms, 'ms', extra));
      ctx.progress(`W2 fwd+bwd ${label}`);
      const both = timeIt(() => {
        family.softmax(arrays.x, arrays.y, rows, cols);
        family.softmaxBackward(arrays.y, arrays.r, arrays.dx, rows, cols);
      }, ctx.quick);
      ctx.emit(line('W2', `fwd+bwd ${rows}x${cols}`, family.name, both, both.median_ms, 'ms', extra));
    }
  },
};
