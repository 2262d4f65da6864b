// The learning-rate schedule of a `tsgrad train` run, and what happens to it when a resumed run is
// given a new --steps. The plan: warmup from lr/(W+1) to lr over W steps (nanoGPT's linear ramp),
// then cosine down to lr/10, or ×0.1 every third of the run, or constant.
//
// Extending (or shortening) a run re-plans the rest of the schedule from the step it resumes at
// (the join, N) and the lr it had reached there, so step N+1 never jumps: cosine anneals from that
// lr to lr/10 over the steps that remain (a finished cosine run holds at lr/10); step and none
// hold the lr reached. A join inside the warmup keeps the warmup and plans the rest over the new
// total, as a fresh run of that length would.
import { CosineAnnealingLR, LinearWarmup, LRScheduler, StepLR, type SchedulerStateDict } from '../optim/schedulers.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { TrainOptions } from './options.js';

/** Where a re-planned schedule starts: the step, each group's lr there, and the new total. */
export interface Join {
  step: number;
  lrs: number[];
  total: number;
  /** lr/10 for cosine (the floor it anneals to), null for a held lr. */
  etaMin: number | null;
}

/**
 * The rest of a run after a join: lr(t) = η_min + (lr_N − η_min)·(1 + cos(π·(t−N)/(total−N)))/2
 * for cosine (η_min ≥ lr_N: held), else lr_N; defined from t = N on (a resumed run never goes back).
 */
export class ReplannedLR extends LRScheduler {
  readonly join: Join;

  constructor(optimizer: Optimizer<any>, join: Join) {
    super(optimizer);
    this.join = join;
    this.setStep(join.step);
  }

  lrAt(t: number): number[] {
    const { step, lrs, total, etaMin } = this.join;
    const span = Math.max(1, total - step);
    const u = Math.min(1, Math.max(0, (t - step) / span));
    return lrs.map((lr) => (etaMin === null || etaMin >= lr ? lr : etaMin + ((lr - etaMin) * (1 + Math.cos(Math.PI * u))) / 2));
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), join: { ...this.join, lrs: [...this.join.lrs] } };
  }
}

/** The schedule a run of o.steps steps plans from step 0. */
export function buildScheduler(opt: Optimizer<any>, o: TrainOptions): LRScheduler | null {
  const rest = Math.max(1, o.steps - o.warmup);
  const main = o.schedule === 'cosine' ? new CosineAnnealingLR(opt, { tMax: rest, etaMin: o.lr / 10 })
    : o.schedule === 'step' ? new StepLR(opt, { stepSize: Math.max(1, Math.round(rest / 3)), gamma: 0.1 }) : null;
  if (o.warmup > 0) return new LinearWarmup(opt, { warmupSteps: o.warmup, startFactor: 1 / (o.warmup + 1), after: main ?? undefined });
  return main;
}

export function describeSchedule(o: TrainOptions): string {
  const main = o.schedule === 'cosine' ? `cosine to ${(o.lr / 10).toExponential(2)}` : o.schedule === 'step' ? 'step ×0.1 every third' : 'constant';
  return o.warmup > 0 ? `warmup ${o.warmup} then ${main}` : main;
}

/** The total a checkpoint's schedule was planned for: its join's, else the run's --steps then. */
const plannedTotal = (saved: SchedulerStateDict | null, savedSteps: number): number =>
  (saved?.join as Join | undefined)?.total ?? savedSteps;

/**
 * The scheduler of a resumed run, ready for Trainer.resume to load `saved` into, and a line saying
 * what it will do. `savedSteps`: the run's --steps when the checkpoint was written.
 */
export function resumedScheduler(opt: Optimizer<any>, o: TrainOptions, saved: SchedulerStateDict | null, savedSteps: number, step: number): { scheduler: LRScheduler | null; note: string | null } {
  const planned = plannedTotal(saved, savedSteps);
  const previousJoin = saved?.join as Join | undefined;
  const lrNow = saved?.lastLr?.length ? [...saved.lastLr] : opt.paramGroups.map((g) => g.lr);
  const fmt = (x: number) => x.toExponential(2);
  if (o.steps === planned) {
    // the same plan as before: the checkpoint's schedule, continued exactly
    const scheduler = previousJoin ? new ReplannedLR(opt, previousJoin) : buildScheduler(opt, { ...o, steps: planned });
    return { scheduler, note: null };
  }
  if (step < o.warmup || (o.schedule === 'none' && o.warmup === 0)) {
    const scheduler = buildScheduler(opt, o);
    const why = step < o.warmup ? `the warmup ends at step ${o.warmup} as planned, then ${describeSchedule(o)} over steps ${o.warmup}–${o.steps}` : `constant ${fmt(o.lr)}`;
    return { scheduler, note: `schedule  --steps ${planned} → ${o.steps}: ${why}` };
  }
  const etaMin = o.schedule === 'cosine' ? o.lr / 10 : null;
  const join: Join = { step, lrs: lrNow, total: o.steps, etaMin };
  const scheduler = new ReplannedLR(opt, join);
  const end = scheduler.lrAt(o.steps)[0];
  const what = etaMin === null || etaMin >= lrNow[0]
    ? `lr held at ${fmt(lrNow[0])} (the value reached at step ${step})`
    : `cosine re-planned from ${fmt(lrNow[0])} at step ${step} to ${fmt(end)} at step ${o.steps}`;
  return { scheduler, note: `schedule  --steps ${planned} → ${o.steps}: ${what}; no jump at the join` };
}
