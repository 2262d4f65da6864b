// Child process of config-validate.test.ts: loads each checkpoint folder given on the command line
// as `tsgrad generate` and `serve` do, and prints one JSON line per folder (its error, or 'loaded').
import { loadAnyCheckpoint } from '../../src/deploy/quantized.js';

for (const dir of process.argv.slice(2)) {
  const t0 = performance.now();
  const error = await loadAnyCheckpoint(dir).then(() => null, (e: Error) => e.message);
  process.stdout.write(`${JSON.stringify({ dir, error, ms: Math.round(performance.now() - t0) })}\n`);
}
