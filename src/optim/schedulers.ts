// Learning-rate schedulers (D19), tg.optim.lrScheduler. Each sets every group's lr from a CLOSED
// FORM of the step count t (PyTorch's last_epoch): constructing one applies t = 0, each step()
// advances t by one. Base lrs are the groups' initialLr, recorded by the first scheduler attached,
// so schedulers compose (LinearWarmup hands over to another scheduler).
import type { Optimizer } from './optimizer.js';

export interface SchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  [key: string]: unknown;
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer<any>;
  /** Each group's starting lr. */
  baseLrs: number[];
  /** Steps taken (0 right after construction). */
  lastEpoch = -1;
  protected lastLr: number[] = [];

  constructor(optimizer: Optimizer<any>) {
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The lr of each group after t steps. */
  abstract lrAt(t: number): number[];

  /** Advance one step and set the groups' lr. */
  step(): void {
    this.setStep(this.lastEpoch + 1);
  }

  /** Jump to step t (used by a scheduler that hands over to this one). */
  setStep(t: number): void {
    this.lastEpoch = t;
    this.lastLr = this.lrAt(t);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lastLr[i]));
  }

  /** The lr of each group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /** Restore the step count and base lrs (the optimizer's lrs come back with its own state dict). */
  loadStateDict(state: SchedulerStateDict): void {
    if (typeof state?.lastEpoch !== 'number' || !Array.isArray(state.baseLrs)) throw new Error(`${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs, lastLr }`);
    if (state.baseLrs.length !== this.baseLrs.length) throw new Error(`${this.constructor.name}.loadStateDict: the state has ${state.baseLrs.length} groups, the optimizer ${this.baseLrs.length}`);
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.lastLr = [...(state.lastLr ?? this.lrAt(state.lastEpoch))];
  }
}

/** lr = base·γ^⌊t/stepSize⌋ */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<any>, { stepSize, gamma = 0.1 }: { stepSize: number; gamma?: number }) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: stepSize must be a positive integer (got ${stepSize})`);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.step();
  }

  lrAt(t: number): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(t / this.stepSize));
  }
}

/** lr = η_min + (base − η_min)·(1 + cos(π·t/tMax))/2 (continuing periodically past tMax, as PyTorch's closed form). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<any>, { tMax, etaMin = 0 }: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive (got ${tMax})`);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.step();
  }

  lrAt(t: number): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2);
  }
}

export interface LinearWarmupOptions {
  warmupSteps: number;
  /** The factor at t = 0 (default 0, as Hugging Face's warmup schedules). */
  startFactor?: number;
  /** The scheduler that takes over at t = warmupSteps, run from its own t = 0 (else lr stays at base). */
  after?: LRScheduler;
}

/**
 * Linear warmup: lr = base·(s + (1 − s)·t/W) for t < W, then `after` at step t − W (PyTorch's
 * LinearLR followed by SequentialLR). Warmup then cosine:
 * `new LinearWarmup(opt, { warmupSteps: 100, after: new CosineAnnealingLR(opt, { tMax: 900 }) })`.
 */
export class LinearWarmup extends LRScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  readonly after: LRScheduler | null;

  constructor(optimizer: Optimizer<any>, { warmupSteps, startFactor = 0, after }: LinearWarmupOptions) {
    super(optimizer);
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`LinearWarmup: warmupSteps must be a non-negative integer (got ${warmupSteps})`);
    if (!(startFactor >= 0 && startFactor <= 1)) throw new Error(`LinearWarmup: startFactor must be in [0, 1] (got ${startFactor})`);
    if (after && after.optimizer !== optimizer) throw new Error('LinearWarmup: the `after` scheduler must drive the same optimizer');
    this.warmupSteps = warmupSteps;
    this.startFactor = startFactor;
    this.after = after ?? null;
    this.step();
  }

  lrAt(t: number): number[] {
    if (t >= this.warmupSteps) return this.after ? this.after.lrAt(t - this.warmupSteps) : [...this.baseLrs];
    const factor = this.startFactor + ((1 - this.startFactor) * t) / this.warmupSteps;
    return this.baseLrs.map((base) => base * factor);
  }

  override setStep(t: number): void {
    if (this.after && t >= this.warmupSteps) this.after.setStep(t - this.warmupSteps);
    super.setStep(t);
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), after: this.after?.stateDict() ?? null };
  }

  override loadStateDict(state: SchedulerStateDict): void {
    super.loadStateDict(state);
    if (this.after && state.after) this.after.loadStateDict(state.after as SchedulerStateDict);
  }
}
