// Per-call timing for the threshold benches (bench/thresholds.ts, bench/rows.ts, bench/maps.ts, bench/conv.ts).

/** Median over 7 rounds of the mean time per call, with enough calls per round to last ~5 ms. */
export function perCall(fn: () => void): number {
  const warm = performance.now(); // warm-up, so both JITs have optimised the path: 50 calls and 50 ms
  for (let i = 0; i < 50 || performance.now() - warm < 50; i++) fn();
  let reps = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - start > 5) break;
    reps *= 2;
  }
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    rounds.push((performance.now() - start) / reps);
  }
  return rounds.sort((x, y) => x - y)[3];
}

/** Smallest size from which wasm wins at every larger size of the sweep (Infinity if it never does). */
export function crossover(rows: { size: number; js: number; wasm: number }[]): number {
  let from = Infinity;
  for (let i = rows.length - 1; i >= 0 && rows[i].wasm < rows[i].js; i--) from = rows[i].size;
  return from;
}
