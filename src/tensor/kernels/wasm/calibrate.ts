// The once-per-machine measurement behind TSGRAD_THREADS=auto: a matmul large enough for the
// second thread (above THREAD_MIN_FLOPS) on one thread and on two. The gain is bimodal on cloud
// machines (≈1.9× when two vCPUs are two cores, ≤1× when they share one, WASM.md), so it is
// measured, not assumed. Either way results are the same: the work is split by fixed rows.
import type { MatmulArgs } from '../types.js';
import { withThreads, type ThreadCalibrator, type WasmModule } from './loader.js';
import { matmulOn } from './matmul.js';

const SIZE = 320; // 65 MFLOP: ~1.3 ms on one thread at 50 GFLOP/s
/** Use the second thread only when it is clearly faster, copies included. */
const MIN_SPEEDUP = 1.2;

function fastest(w: WasmModule, threads: boolean, args: MatmulArgs): number {
  return withThreads(threads, () => {
    for (let i = 0; i < 3; i++) matmulOn(w, args); // warm-up: compile, start the worker, grow memory
    let best = Infinity;
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      matmulOn(w, args);
      best = Math.min(best, performance.now() - started);
    }
    return best;
  });
}

export const calibrateThreads: ThreadCalibrator = (single, shared) => {
  const n = SIZE * SIZE;
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const args: MatmulArgs = { a, b, out: new Float32Array(n), batch: 1, m: SIZE, n: SIZE, k: SIZE, transA: false, transB: false, aOffsets: new Int32Array(1), bOffsets: new Int32Array(1) };
  const one = fastest(single, false, args), two = fastest(shared, true, args);
  const speedup = Math.round((one / two) * 100) / 100;
  return { threads: speedup >= MIN_SPEEDUP ? 2 : 1, speedup, what: `a ${SIZE}³ matmul took ${one.toFixed(2)} ms on 1 thread, ${two.toFixed(2)} ms on 2` };
};
