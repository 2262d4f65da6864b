// W2: softmax over the last dim of x [4096, 1024], per kernel family, in ms. `fwd+bwd` is the
// forward then the backward of sum(softmax(x) · R), whose upstream gradient dL/dy is R.
// Kernel level: outputs are allocated once, outside the timing (an op-level line comes later).
import { kernelFamilies, line, randomArray, timeIt, type Workload } from '../harness.js';

const rows = 4096;
const cols = 1024;

export const w2: Workload = {
  id: 'W2',
  title: 'softmax forward and backward',
  run(ctx) {
    const x = randomArray(rows * cols, 3, -5, 5);
    const r = randomArray(rows * cols, 4);
    const y = new Float32Array(rows * cols);
    const dx = new Float32Array(rows * cols);
    for (const { family, extra } of kernelFamilies(ctx)) {
      ctx.progress(`W2 fwd ${family.name}`);
      const fwd = timeIt(() => family.softmax(x, y, rows, cols), ctx.quick);
      ctx.emit(line('W2', `fwd ${rows}x${cols}`, family.name, fwd, fwd.median_ms, 'ms', extra));
      ctx.progress(`W2 fwd+bwd ${family.name}`);
      const both = timeIt(() => {
        family.softmax(x, y, rows, cols);
        family.softmaxBackward(y, r, dx, rows, cols);
      }, ctx.quick);
      ctx.emit(line('W2', `fwd+bwd ${rows}x${cols}`, family.name, both, both.median_ms, 'ms', extra));
    }
  },
};
