// Shared by the model workloads (W3–W7): one timed training step = zero grads, forward, backward,
// update, run through the same timing as the kernel workloads.
import * as tg from '../src/index.js';
import { line, timeIt, timeRuns, type BenchContext, type BenchLine, type StepSetup, type Timing } from './harness.js';

export type { StepSetup };
import { formatProfile, profileSteps } from './profile.js';


export function trainingStep({ forward, optimizer }: StepSetup): () => void {
  return () => {
    optimizer.zeroGrad();
    const loss = forward();
    loss.backward();
    tg.releaseGraph(loss); // as the Trainer does: the activations go back to the pool
    optimizer.step();
  };
}

/** Peak resident memory of this process so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Time a step (fewer repetitions for slow steps) and emit its line. */
export function emitStep(
  ctx: BenchContext, workload: string, kase: string, step: () => void,
  value: (t: Timing) => [number, string], { withRss = false, slow = false } = {}, setup?: StepSetup,
): void | Promise<void> {
  if (ctx.profile && setup) {
    return profileSteps(setup, slow ? 2 : 5).then((p) => {
      ctx.progress(formatProfile(`${workload} ${kase}`, p));
      ctx.emit({ workload, case: kase, impl: 'tsgrad', backend: tg.getBackend(), kind: 'profile', ms_per_step: round(p.msPerStep), rows: p.rows.map((r) => ({ ...r, msPerStep: round(r.msPerStep), share: round(r.share) })) } as unknown as BenchLine);
    });
  }
  const t = slow ? timeSlow(step, ctx.quick ? 1 : 3) : timeIt(step, ctx.quick);
  const [v, unit] = value(t);
  ctx.emit(line(workload, kase, tg.getBackend(), t, v, unit, withRss ? { peak_rss_mb: peakRssMb() } : {}));
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** For steps of seconds: one warm-up, then `runs` timed steps. */
function timeSlow(step: () => void, runs: number): Timing {
  step();
  return timeRuns(step, runs);
}
