// W1: C = A · B for square float32 matrices, per kernel family. GFLOP/s = 2n³ / t.
// Kernel level: the result is in a JS Float32Array when the call returns (read back from the GPU
// for gpujs); that array is allocated once, outside the timing, as the kernel interface has the
// caller allocate it (allocating 64 KB–4 MB per call mostly times the garbage collector).
import { kernelFamilies, line, randomArray, timeIt, type Workload } from '../harness.js';

const sizes = [128, 256, 512, 1024];

export const w1: Workload = {
  id: 'W1',
  title: 'square matmul',
  run(ctx) {
    for (const { family, extra } of kernelFamilies(ctx)) {
      for (const n of sizes) {
        ctx.progress(`W1 n=${n} ${family.name}`);
        const a = randomArray(n * n, 1);
        const b = randomArray(n * n, 2);
        const out = new Float32Array(n * n);
        const args = { a, b, out, batch: 1, m: n, n, k: n, transA: false, transB: false, aOffsets: new Int32Array(1), bOffsets: new Int32Array(1) };
        const t = timeIt(() => family.matmul(args), ctx.quick);
        ctx.emit(line('W1', `n=${n}`, family.name, t, (2 * n ** 3) / (t.median_ms * 1e6), 'GFLOP/s', extra));
      }
    }
  },
};
