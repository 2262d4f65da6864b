// The training loop a script drives, nanoGPT's train.py and Hugging Face's Trainer in one class:
// batches → loss → backward → clipping → optimizer and schedule, evaluation every K steps, one
// JSON line per step, atomic checkpoints every K steps, and a resume that continues exactly.
//
// Exactness rests on one rule: between two steps nothing draws from tsgrad's random stream but
// the next batch and the step itself (dropout). Evaluation runs on its own seed and puts the
// stream back, and a checkpoint stores the stream, so a resumed run draws what an uninterrupted
// one would have drawn and logs bit-identical losses.
//
//   const trainer = new tg.train.Trainer({ model, optimizer, trainBatches: () => tg.data.lmBatch(ids, 64, 12) });
//   await trainer.fit(500);
import * as path from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { getRngState, setRngState, withSeed } from '../tensor/random.js';
export { withSeed }; // defined with the random stream; re-exported for callers of train/trainer
import { noGrad } from '../autograd/engine.js';
import { releaseGraph } from '../autograd/release.js';
import type { Module } from '../nn/module.js';
import { clipGradNorm } from '../nn/utils.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import { DataLoader } from '../data/loader.js';
import * as io from '../io/index.js';
import { type BatchSource, epochBatches, randomBatches } from './batches.js';
import { RunLog, type StepRecord } from './runlog.js';
import { openResumePoint, pauseInsideSave, writeCheckpoint, TRAINER_STATE_FILE, type ResumePoint, type TrainerState } from './checkpoint.js';
import { joinOptimizerState, saveModel, splitOptimizerState, OPTIMIZER_FILE } from './model-files.js';

export interface TrainerCallbacks<B = unknown, M extends Module = Module> {
  onTrainBegin?(trainer: Trainer<B, M>): void;
  /** After each step, with its log record (eval metrics included on eval steps). */
  onStepEnd?(record: StepRecord, trainer: Trainer<B, M>): void;
  onEvaluate?(metrics: Record<string, number>, trainer: Trainer<B, M>): void;
  /** When an epoch of epoch-based data ends: its number (1-based) and mean training loss. */
  onEpochEnd?(epoch: number, meanLoss: number, trainer: Trainer<B, M>): void;
  onSave?(dir: string, trainer: Trainer<B, M>): void;
  onTrainEnd?(trainer: Trainer<B, M>): void;
}

export interface TrainerOptions<B, M extends Module = Module> {
  model: M;
  optimizer: Optimizer<any>;
  /** Stepped once after each optimizer step. */
  scheduler?: LRScheduler | null;
  /**
   * Training batches: a function drawing a batch from tsgrad's random stream (e.g. lmBatch), a
   * DataLoader (its epochs, shuffled with the stream), or any BatchSource. These resume exactly.
   */
  trainBatches: BatchSource<B> | DataLoader<B> | (() => B);
  /** Validation batches for val_loss (a fresh iterable per evaluation, drawn on the eval seed). */
  evalBatches?: Iterable<B> | (() => Iterable<B>);
  /** More metrics (accuracy, …) computed at each evaluation, under noGrad in eval mode. */
  evaluate?: (model: M) => Record<string, number>;
  /** The loss of a batch; default: model.forward(...batch).loss for an array, forward(x, y) for {x, y}. */
  lossFn?: (model: M, batch: B) => Tensor;
  /**
   * Micro-batches per optimizer step (default 1): gradients of N batches are summed, each loss
   * scaled by 1/N, so the update equals that of one batch N times as large (mean losses).
   */
  gradAccum?: number;
  /** Clip the gradients' global L2 norm to this (0 or absent: no clipping). */
  clip?: number;
  /**
   * After each backward, hand the step's activations back for reuse (tg.releaseGraph; default
   * true): fewer allocations and garbage collections. A lossFn whose intermediate tensors are read
   * after the step (by a callback, say) sets this to false.
   */
  releaseGraph?: boolean;
  /** Evaluate every K steps and after the last (0 or absent: never, unless evalBatches/evaluate is given: then only after the last). */
  evalEvery?: number;
  /** With outDir, save a checkpoint every K steps (and after the last step). */
  saveEvery?: number;
  /** Keep the newest `keep` checkpoints (0: all). */
  keep?: number;
  /** The run folder: log.jsonl and checkpoint-<step>/ go here. */
  outDir?: string;
  callbacks?: TrainerCallbacks<B, M> | TrainerCallbacks<B, M>[];
  /** What one batch counts for the throughput column; default samples = the first dimension. */
  throughput?: { unit: 'tokens' | 'samples'; count: (batch: B) => number };
  /** The seed evaluation runs on (default 1234): every evaluation sees the same random draws. */
  evalSeed?: number;
  /** Extra files for each checkpoint folder (the CLI writes tokenizer.json). */
  checkpointFiles?: (dir: string) => void;
  /** Extra fields for trainer_state.json (the CLI adds task, labelNames, options). */
  checkpointState?: () => Record<string, unknown>;
}

export interface FitResult {
  step: number;
  /** This process's records (a resumed run's earlier ones are in log.jsonl). */
  history: StepRecord[];
  bestValLoss: number | null;
  /** True when stop() ended the run early. */
  stopped: boolean;
}

/** The first dimension of the first tensor in a batch. */
function countSamples(batch: unknown): number {
  if (batch instanceof Tensor) return batch.shape[0] ?? 1;
  const values = Array.isArray(batch) ? batch : batch && typeof batch === 'object' ? Object.values(batch) : [];
  for (const v of values) if (v instanceof Tensor) return v.shape[0] ?? 1;
  return 0;
}

function defaultLoss(model: Module, batch: unknown): Tensor {
  let out: unknown;
  if (Array.isArray(batch)) out = model.forward(...batch);
  else if (batch && typeof batch === 'object' && 'x' in batch && 'y' in batch) out = model.forward((batch as { x: Tensor }).x, (batch as { y: Tensor }).y);
  else throw new Error('Trainer: cannot tell how to get a loss from this batch (not an array or {x, y}); pass lossFn(model, batch)');
  const loss = out instanceof Tensor ? out : (out as { loss?: unknown })?.loss;
  if (!(loss instanceof Tensor)) throw new Error(`Trainer: ${model.constructor.name}.forward returned no loss; pass lossFn(model, batch)`);
  return loss;
}

/** JSON indented by 2, with arrays of numbers and strings on one line (an epoch's order stays one line). */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner: string) => `[${inner.replace(/,\s+/g, ', ')}]`);
}

const isPositive = (n: number | undefined): n is number => typeof n === 'number' && n > 0;

export class Trainer<B = unknown, M extends Module = Module> {
  readonly model: M;
  readonly optimizer: Optimizer<any>;
  readonly scheduler: LRScheduler | null;
  readonly source: BatchSource<B>;
  readonly outDir: string | null;
  /** Optimizer steps taken. */
  step = 0;
  /** fit's target step (the denominator of progress). */
  totalSteps = 0;
  bestValLoss: number | null = null;
  /** This process's records. */
  readonly history: StepRecord[] = [];
  private readonly opts: TrainerOptions<B, M>;
  private readonly callbacks: TrainerCallbacks<B, M>[];
  private readonly log: RunLog | null;
  private logReady = false;
  private epochLoss = { sum: 0, count: 0 };
  private stopRequested = false;
  private epochEnded: { epoch: number; meanLoss: number } | null = null;

  constructor(opts: TrainerOptions<B, M>) {
    if (!opts?.model || !opts.optimizer || !opts.trainBatches) throw new Error('Trainer: needs { model, optimizer, trainBatches }');
    this.opts = opts;
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.scheduler = opts.scheduler ?? null;
    const tb = opts.trainBatches;
    this.source = typeof tb === 'function' ? randomBatches(tb) : tb instanceof DataLoader ? epochBatches(tb) : tb;
    this.outDir = opts.outDir ?? null;
    this.log = this.outDir ? new RunLog(this.outDir) : null;
    this.callbacks = opts.callbacks ? (Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks]) : [];
    if (opts.gradAccum !== undefined && !(Number.isInteger(opts.gradAccum) && opts.gradAccum >= 1)) throw new Error(`Trainer: gradAccum must be a positive integer (got ${opts.gradAccum})`);
    for (const [name, v] of [['clip', opts.clip], ['evalEvery', opts.evalEvery], ['saveEvery', opts.saveEvery], ['keep', opts.keep]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`Trainer: ${name} must be a non-negative number (got ${v})`);
    }
  }

  /** The lr of the first parameter group. */
  get lr(): number {
    return this.optimizer.paramGroups[0].lr;
  }

  /** Epochs done (fractional) for epoch-based data, else null. */
  get epoch(): number | null {
    return this.source.epochsDone ? this.source.epochsDone() : null;
  }

  /** Ask fit to return after the current step (e.g. on Ctrl-C). */
  stop(): void {
    this.stopRequested = true;
  }

  private emit<K extends keyof TrainerCallbacks<B, M>>(name: K, ...args: Parameters<NonNullable<TrainerCallbacks<B, M>[K]>>): void {
    for (const cb of this.callbacks) (cb[name] as ((...a: unknown[]) => void) | undefined)?.call(cb, ...args);
  }

  /** Train until `steps` optimizer steps are done in total (a resumed trainer continues from its step). */
  async fit(steps: number): Promise<FitResult> {
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`Trainer.fit: steps must be a non-negative integer (got ${steps})`);
    this.totalSteps = steps;
    this.stopRequested = false;
    if (this.log && !this.logReady) {
      if (this.step === 0) this.log.reset();
      this.logReady = true;
    }
    this.emit('onTrainBegin', this);
    const { evalEvery, saveEvery } = this.opts;
    const canEval = this.opts.evalBatches !== undefined || this.opts.evaluate !== undefined;
    while (this.step < steps && !this.stopRequested) {
      const record = this.trainStep();
      const last = this.step === steps;
      if (canEval && ((isPositive(evalEvery) && this.step % evalEvery === 0) || last)) {
        const metrics = this.evaluate();
        for (const [k, v] of Object.entries(metrics)) record[k] = v;
      }
      this.log?.append(record);
      this.history.push(record);
      this.emit('onStepEnd', record, this);
      if (this.epochEnded) this.emit('onEpochEnd', this.epochEnded.epoch, this.epochEnded.meanLoss, this);
      this.epochEnded = null;
      if (this.outDir && ((isPositive(saveEvery) && this.step % saveEvery === 0) || last)) this.save();
      await new Promise((resolve) => setImmediate(resolve)); // let timers (the progress bar) and signals run
    }
    this.emit('onTrainEnd', this);
    return { step: this.step, history: this.history, bestValLoss: this.bestValLoss, stopped: this.step < steps };
  }

  /** One optimizer step on the next batch (gradAccum batches); returns its record (fit logs it and calls the callbacks). */
  trainStep(): StepRecord {
    const started = performance.now();
    const lr = this.lr;
    const accum = this.opts.gradAccum ?? 1;
    const count = (b: B) => (this.opts.throughput ? this.opts.throughput.count(b) : countSamples(b));
    this.model.train();
    this.optimizer.zeroGrad();
    let value = 0, counted = 0;
    for (let micro = 0; micro < accum; micro++) {
      const batch = this.source.next();
      const loss = (this.opts.lossFn ?? defaultLoss)(this.model, batch);
      if (loss.size !== 1) throw new Error(`Trainer: the loss must be a scalar (got shape [${loss.shape.join(', ')}])`);
      const v = loss.item();
      if (!Number.isFinite(v)) throw new Error(`Trainer: the loss is ${v} at step ${this.step + 1}${accum > 1 ? `, micro-batch ${micro + 1}/${accum}` : ''}; lower the learning rate or clip the gradients`);
      // d(mean of N means)/dθ = Σ (1/N)·d(loss_i)/dθ: backward accumulates into .grad
      const root = accum === 1 ? loss : loss.mul(1 / accum);
      root.backward();
      if (this.opts.releaseGraph ?? true) releaseGraph(root);
      value += v / accum;
      counted += count(batch);
    }
    if (isPositive(this.opts.clip)) clipGradNorm(this.optimizer.paramGroups.flatMap((g) => g.params), this.opts.clip);
    this.optimizer.step();
    this.scheduler?.step();
    this.step++;
    const seconds = (performance.now() - started) / 1000;
    const unit = this.opts.throughput?.unit ?? 'samples';
    const record: StepRecord = { step: this.step, loss: value, lr };
    if (accum > 1) record.grad_accum = accum;
    const epoch = this.epoch;
    if (epoch !== null) record.epoch = Math.round(epoch * 1e4) / 1e4;
    record[`${unit}_per_s`] = Math.round(counted / Math.max(seconds, 1e-9)); // over the whole step, every micro-batch
    this.epochLoss.sum += value;
    this.epochLoss.count++;
    const per = this.source.batchesPerEpoch;
    if (per && epoch !== null && Math.abs(epoch - Math.round(epoch)) < 1e-9 && epoch > 0) {
      this.epochEnded = { epoch: Math.round(epoch), meanLoss: this.epochLoss.sum / this.epochLoss.count };
      this.epochLoss = { sum: 0, count: 0 };
    }
    return record;
  }

  /**
   * Validation: mean loss over evalBatches (val_loss) and the `evaluate` metrics, in eval mode,
   * without gradients, on the eval seed; the training random stream is left as it was.
   */
  evaluate(): Record<string, number> {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      const metrics = withSeed(this.opts.evalSeed ?? 1234, () => noGrad(() => {
        const out: Record<string, number> = {};
        const { evalBatches, evaluate } = this.opts;
        if (evalBatches !== undefined) {
          let sum = 0, n = 0;
          for (const batch of typeof evalBatches === 'function' ? evalBatches() : evalBatches) {
            sum += (this.opts.lossFn ?? defaultLoss)(this.model, batch).item();
            n++;
          }
          if (n > 0) out.val_loss = sum / n;
        }
        if (evaluate) Object.assign(out, evaluate(this.model));
        return out;
      }));
      if (typeof metrics.val_loss === 'number' && (this.bestValLoss === null || metrics.val_loss < this.bestValLoss)) this.bestValLoss = metrics.val_loss;
      this.emit('onEvaluate', metrics, this);
      return metrics;
    } finally {
      this.model.train(wasTraining);
    }
  }

  /** The state that trainer_state.json holds (without the CLI's extras). */
  state(): TrainerState {
    const { json } = splitOptimizerState(this.optimizer.stateDict());
    return {
      format: 'tsgrad-trainer-state', version: 1,
      step: this.step, epoch: this.epoch,
      rng: getRngState(),
      optimizer: { type: this.optimizer.constructor.name, ...json },
      scheduler: this.scheduler?.stateDict() ?? null,
      data: this.source.state ? this.source.state() : null,
      epochLoss: { ...this.epochLoss },
      bestValLoss: this.bestValLoss,
    };
  }

  /** Write outDir/checkpoint-<step>/ (atomically) and prune to `keep`; returns its folder. */
  save(): string {
    if (!this.outDir) throw new Error('Trainer.save: no outDir was given');
    const dir = writeCheckpoint(this.outDir, this.step, (tmp) => {
      saveModel(this.model, tmp);
      this.opts.checkpointFiles?.(tmp);
      io.save(path.join(tmp, OPTIMIZER_FILE), splitOptimizerState(this.optimizer.stateDict()).tensors);
      pauseInsideSave(this.step);
      const state = { ...this.state(), ...(this.opts.checkpointState?.() ?? {}) };
      io.writeFileAtomic(path.join(tmp, TRAINER_STATE_FILE), `${prettyJson(state)}\n`);
    }, { keep: this.opts.keep ?? 0 });
    this.emit('onSave', dir, this);
    return dir;
  }

  /**
   * Continue from a checkpoint: model weights (unless weights: false), optimizer, scheduler, data
   * position, random state, best val loss; log.jsonl is cut back to the checkpoint's step.
   * `from` is what openResumePoint read (the CLI reads it once, before building the task), a
   * checkpoint folder, or a run folder (default outDir): its newest checkpoint that verifies, newer
   * broken ones skipped with a note. Resolves to the step resumed from, or null when a run folder
   * has no checkpoint.
   */
  async resume(from?: string | ResumePoint, { weights = true, note }: { weights?: boolean; note?: (line: string) => void } = {}): Promise<number | null> {
    const where = from ?? this.outDir;
    if (!where) throw new Error('Trainer.resume: give a checkpoint folder or an outDir');
    const point = typeof where === 'string' ? await openResumePoint(where, { note }) : where;
    if (!point && from) throw new Error(`Trainer.resume: ${from as string} holds no checkpoint (checkpoint-<step>/ folders, or config.json + model.safetensors)`);
    if (!point) return null;
    const { dir, state } = point;
    if (weights && point.model !== this.model) this.model.loadStateDict(point.weights);
    const tensors = point.optimizerTensors;
    this.optimizer.loadStateDict(joinOptimizerState(state.optimizer, tensors, path.join(dir, TRAINER_STATE_FILE)));
    if (this.scheduler) {
      if (!state.scheduler) throw new Error(`Trainer.resume: ${dir} was saved without a scheduler`);
      this.scheduler.loadStateDict(state.scheduler);
    }
    if (this.source.loadState) this.source.loadState(state.data);
    this.step = state.step;
    this.bestValLoss = state.bestValLoss ?? null;
    this.epochLoss = state.epochLoss ? { ...state.epochLoss } : { sum: 0, count: 0 };
    if (this.log) {
      this.log.truncateAfter(this.step);
      this.logReady = true;
    }
    setRngState(state.rng); // last: loading the model may draw (fresh modules are initialised)
    return state.step;
  }
}
