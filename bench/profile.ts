// `npm run bench -- --profile W5`: where a training step's time goes. Every kernel call is timed
// through the one dispatch point (kernelFor), typed-array allocations through arrayFor, garbage
// collection from V8's own gc entries; what remains of each phase (forward, backward, update) is
// the op glue and the engine. Figures are per step, averaged over the profiled steps.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { profileKernels } from '../src/tensor/kernels/index.js';
import { countAllocations } from '../src/tensor/dtype.js';
import { releaseGraph } from '../src/autograd/release.js';
import type { StepSetup } from './harness.js';

export interface ProfileRow { what: string; calls: number; msPerStep: number; share: number }

/** Seconds of warm-up, and of profiled steps at least: a 3 ms step needs hundreds of runs before V8's optimizing tier has compiled the glue. */
const WARM_UP_S = 1;
const PROFILE_S = 2;

/** Run `run` until `seconds` have passed and at least `minRuns` times; returns the count. */
function repeatFor(run: () => void, minRuns: number, seconds: number): number {
  const started = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - started < seconds * 1000) run(), runs++;
  return runs;
}

/** Profile at least `minSteps` training steps (after a warm-up) and return the rows, largest first. */
export async function profileSteps({ forward, optimizer }: StepSetup, minSteps: number): Promise<{ msPerStep: number; rows: ProfileRow[] }> {
  const phases = { forward: 0, backward: 0, update: 0 };
  const run = () => {
    let t = performance.now();
    optimizer.zeroGrad();
    const loss = forward();
    phases.forward += performance.now() - t;
    t = performance.now();
    loss.backward();
    releaseGraph(loss);
    phases.backward += performance.now() - t;
    t = performance.now();
    optimizer.step();
    phases.update += performance.now() - t;
  };
  repeatFor(run, 1, WARM_UP_S); // compile, grow wasm memory
  phases.forward = phases.backward = phases.update = 0;
  const gc: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gc.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const kernels = profileKernels(true)!;
  const allocations = countAllocations(true)!;
  const steps = repeatFor(run, minSteps, PROFILE_S);
  profileKernels(false);
  countAllocations(false);
  await new Promise((resolve) => setTimeout(resolve, 50)); // V8's gc entries are delivered asynchronously
  gc.push(...observer.takeRecords());
  observer.disconnect();

  const total = phases.forward + phases.backward + phases.update;
  const rows: ProfileRow[] = [...kernels].map(([what, k]) => ({ what: `kernel ${what}`, calls: k.calls / steps, msPerStep: k.ms / steps, share: k.ms / total }));
  const gcMs = gc.reduce((s, e) => s + e.duration, 0);
  rows.push({ what: 'garbage collection', calls: gc.length / steps, msPerStep: gcMs / steps, share: gcMs / total });
  rows.push({ what: `allocation (arrayFor, ${(allocations.bytes / steps / 2 ** 20).toFixed(1)} MiB/step new, ${(allocations.reusedBytes / steps / 2 ** 20).toFixed(1)} reused)`, calls: allocations.calls / steps, msPerStep: allocations.ms / steps, share: allocations.ms / total });
  const accounted = rows.reduce((s, r) => s + r.msPerStep * steps, 0);
  // the rest of each phase, in proportion to its length: op glue (forward), engine (backward), optimizer glue
  const rest = Math.max(0, total - accounted);
  for (const [phase, label] of [['forward', 'op glue in forward'], ['backward', 'engine and rule glue in backward'], ['update', 'optimizer glue']] as const) {
    const ms = (rest * phases[phase]) / total;
    rows.push({ what: `${label} (the rest)`, calls: 0, msPerStep: ms / steps, share: ms / total });
  }
  rows.sort((a, b) => b.msPerStep - a.msPerStep);
  return { msPerStep: total / steps, rows };
}

/** The rows as a table for stderr. */
export function formatProfile(workload: string, p: { msPerStep: number; rows: ProfileRow[] }): string {
  const lines = [`[profile] ${workload}: ${p.msPerStep.toFixed(1)} ms/step (GC may overlap a kernel's time)`];
  for (const r of p.rows) lines.push(`[profile]   ${(100 * r.share).toFixed(1).padStart(5)} %  ${r.msPerStep.toFixed(2).padStart(8)} ms  ${r.calls ? r.calls.toFixed(0).padStart(5) + ' calls' : '           '}  ${r.what}`);
  return lines.join('\n');
}
