// W1: C = A · B for square float32 matrices, per kernel family. GFLOP/s = 2n³ / t.
// The result is a new Float32Array each call, as an op would materialise it.
import { kernelFamilies, line, randomArray, timeIt, type Workload } from '../harness.js';

const sizes = [128, 256, 512, 1024];

export const w1: Workload = {
  id: 'W1',
  title: 'square matmul',
  run(ctx) {
    for (const { family, extra } of kernelFamilies()) {
      for (const n of sizes) {
        ctx.progress(`W1 n=${n} ${family.name}`);
        const a = randomArray(n * n, 1);
        const b = randomArray(n * n, 2);
        const offsets = new Int32Array(1);
        const t = timeIt(() => {
          const out = new Float32Array(n * n);
          family.matmul({ a, b, out, batch: 1, m: n, n, k: n, transA: false, transB: false, aOffsets: offsets, bOffsets: offsets });
        }, ctx.quick);
        ctx.emit(line('W1', `n=${n}`, family.name, t, (2 * n ** 3) / (t.median_ms * 1e6), 'GFLOP/s', extra));
      }
    }
  },
};
