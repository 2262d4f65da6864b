// `tsgrad train`: resolve the options (preset defaults, a resumed run's saved options), set up the
// task, build optimizer and schedule, and hand everything to tg.train.Trainer; then plot the
// loss, print a sample or a report, and say what to run next.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { manualSeed } from '../tensor/random.js';
import type { Module } from '../nn/module.js';
import { Adam, AdamW, SGD, type Optimizer } from '../optim/index.js';
import { buildScheduler, describeSchedule, resumedScheduler } from './schedule.js';
import { checkDataFile, describeShape, labelledShape } from './data-file.js';
import { nothingToResume, resumeMode, type ResumeMode } from './resume.js';
import { saveTokenizer } from '../data/tokenizers/index.js';
import { writeFileAtomic } from '../io/index.js';
import { Trainer } from '../train/trainer.js';
import { confinedData, dataFlag, recordData, recordedData, sameData } from '../train/run-data.js';
import { listCheckpoints, openResumePoint, removeCheckpoints, TASKS, type ResumePoint, type Task } from '../train/checkpoint.js';
import { progress, humanBytes, humanDuration } from '../train/progress.js';
import { LOG_FILE, lossSeries, readLog } from '../train/runlog.js';
import { asciiPlot, svgPlot } from '../train/plot.js';
import {
  checkTask, defaultData, defaultWeightDecay, describeWeightDecay, defaultOutDir, defaultTask, familyOf, nonNegative, nonNegativeInt, positiveInt, presetDefaults,
  TRAJECTORY_OPTIONS, type OptimizerName, type ScheduleName, type TrainOptions,
} from './options.js';
import type { TaskContext, TaskSetup } from './tasks/task.js';
import { count, int } from './tasks/task.js';
import { setupLm } from './tasks/lm.js';
import { setupLmShards } from './tasks/lm-shards.js';
import { isShardFolder } from '../data/shards.js';
import { checkRunMemory } from './memory.js';
import { setupMlm } from './tasks/mlm.js';
import { setupClassify } from './tasks/classify.js';
import { setupImage } from './tasks/image.js';

/** Commander's parsed flags (strings as typed) and which of them the user gave. */
export interface Flags {
  values: Record<string, any>;
  given: (name: string) => boolean;
}

const oneOf = <T extends string>(name: string, v: string, allowed: readonly T[]): T => {
  if (!allowed.includes(v as T)) throw new Error(`--${name} must be one of ${allowed.join(', ')} (got '${v}')`);
  return v as T;
};

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Flags + the preset's defaults → every option (steps and evalEvery may still be 0: set from the data). */
export function resolveOptions({ values: v }: Flags): TrainOptions & { resume: ResumeMode; overwrite: boolean } {
  const model = String(v.model ?? 'gpt-baby');
  familyOf(model);
  const init = v.init ? String(v.init) : null;
  if (v.data !== undefined) checkDataFile(String(v.data));
  const task: Task = v.task ? oneOf('task', String(v.task), TASKS) : defaultTask(model, v.data, init);
  const data = String(v.data ?? defaultData(task));
  checkTask(model, task, data);
  const d = presetDefaults(model, task);
  if (v.steps !== undefined && v.epochs !== undefined) throw new Error('give --steps or --epochs, not both');
  const epochs = v.epochs !== undefined ? positiveInt('epochs', v.epochs) : v.steps !== undefined ? null : d.epochs ?? null;
  const optimizer = v.optimizer !== undefined ? oneOf<OptimizerName>('optimizer', v.optimizer, ['adam', 'adamw', 'sgd']) : d.optimizer;
  const valFraction = v.valFraction !== undefined ? nonNegative('val-fraction', v.valFraction) : d.valFraction;
  if (valFraction >= 1) throw new Error(`--val-fraction must be below 1 (got ${valFraction})`);
  return {
    model, data, task,
    steps: v.steps !== undefined ? positiveInt('steps', v.steps) : epochs === null ? d.steps! : 0,
    epochs,
    batchSize: v.batchSize !== undefined ? positiveInt('batch-size', v.batchSize) : d.batchSize,
    gradAccum: v.gradAccum !== undefined ? positiveInt('grad-accum', v.gradAccum) : d.gradAccum,
    blockSize: v.blockSize !== undefined ? positiveInt('block-size', v.blockSize) : d.blockSize,
    lr: v.lr !== undefined ? nonNegative('lr', v.lr) : d.lr,
    optimizer,
    weightDecay: v.weightDecay !== undefined ? nonNegative('weight-decay', v.weightDecay) : defaultWeightDecay(optimizer, d),
    warmup: v.warmup !== undefined ? nonNegativeInt('warmup', v.warmup) : d.warmup,
    schedule: v.schedule !== undefined ? oneOf<ScheduleName>('schedule', v.schedule, ['cosine', 'step', 'none']) : d.schedule,
    clip: v.clip !== undefined ? nonNegative('clip', v.clip) : d.clip,
    seed: v.seed !== undefined ? nonNegativeInt('seed', v.seed) : d.seed,
    evalEvery: v.evalEvery !== undefined ? nonNegativeInt('eval-every', v.evalEvery) : d.evalEvery ?? 0,
    evalBatches: v.evalBatches !== undefined ? positiveInt('eval-batches', v.evalBatches) : d.evalBatches,
    saveEvery: v.saveEvery !== undefined ? nonNegativeInt('save-every', v.saveEvery) : d.saveEvery,
    keep: v.keep !== undefined ? nonNegativeInt('keep', v.keep) : d.keep,
    out: String(v.out ?? defaultOutDir(model, data)),
    init,
    tokenizer: String(v.tokenizer ?? d.tokenizer),
    vocabSize: v.vocabSize !== undefined ? positiveInt('vocab-size', v.vocabSize) : d.vocabSize,
    valFraction,
    augment: v.augment !== undefined ? nonNegativeInt('augment', v.augment) : d.augment,
    sampleTokens: v.sampleTokens !== undefined ? nonNegativeInt('sample-tokens', v.sampleTokens) : d.sampleTokens,
    logEvery: v.logEvery !== undefined ? nonNegativeInt('log-every', v.logEvery) : d.logEvery,
    resume: resumeMode(v.resume),
    overwrite: Boolean(v.overwrite),
  };
}

/** AdamW/SGD decay matrices only, not biases and LayerNorm gains (nanoGPT's two groups). */
function buildOptimizer(model: Module, o: TrainOptions): Optimizer<any> {
  const params = model.parameters().filter((p) => p.requiresGrad);
  const groups = o.weightDecay > 0
    ? [{ params: params.filter((p) => p.ndim >= 2), weightDecay: o.weightDecay }, { params: params.filter((p) => p.ndim < 2), weightDecay: 0 }].filter((g) => g.params.length > 0)
    : [{ params }];
  if (o.optimizer === 'sgd') return new SGD(groups, { lr: o.lr, momentum: 0.9 });
  return o.optimizer === 'adamw' ? new AdamW(groups, { lr: o.lr }) : new Adam(groups, { lr: o.lr });
}

const OVERRIDABLE: (keyof TrainOptions)[] = ['steps', 'epochs', 'evalEvery', 'evalBatches', 'saveEvery', 'keep', 'sampleTokens', 'logEvery'];

export async function trainCommand(flags: Flags): Promise<void> {
  const { resume, overwrite, ...resolved } = resolveOptions(flags);
  let opts: TrainOptions = resolved;
  const out = opts.out;
  let point: ResumePoint | null = null;
  if (resume) {
    point = await openResumePoint(out, { note: (l) => console.log(l) });
    if (point) {
      const saved = point.state.options as TrainOptions | undefined;
      if (!saved) throw new Error(`--resume: ${point.dir} was not written by tsgrad train (no options in its trainer state)`);
      const savedData = recordedData(saved.data, point.dir); // recorded relative to the run folder
      for (const key of TRAJECTORY_OPTIONS) {
        // data: the same file (recorded relative to the run), or the same words (checkpoints written before that)
        const same = JSON.stringify(opts[key]) === JSON.stringify(saved[key]) || (key === 'data' && savedData !== null && sameData(opts.data, savedData));
        if (flags.given(key) && !same) {
          throw new Error(`--resume: --${kebab(key)} ${opts[key]} differs from the run's ${saved[key]} (${path.join(out, 'config.json')}); leave it out to continue the run`);
        }
      }
      const overrides = Object.fromEntries(OVERRIDABLE.filter((k) => flags.given(k)).map((k) => [k, opts[k]]));
      if (flags.given('steps')) overrides.epochs = null;
      if (flags.given('epochs')) overrides.steps = 0;
      // the run's data: as the user gives it again, or as recorded if that stays inside the run folder
      const data = flags.given('data') ? opts.data : confinedData(saved.data, point.dir, '--data', '--resume');
      opts = { ...saved, ...overrides, data, out };
      console.log(`resuming ${out} from ${path.basename(point.dir)} (step ${point.state.step})`);
    } else if (resume === 'auto') {
      console.log(`--resume auto: no checkpoint in ${out}; starting a fresh run from step 0`);
    } else {
      throw nothingToResume(out);
    }
  } else if (listCheckpoints(out).length > 0 || fs.existsSync(path.join(out, LOG_FILE))) {
    if (!overwrite) throw new Error(`${out} already holds a run; --resume continues it, --overwrite starts it again, --out picks another folder`);
    removeCheckpoints(out);
    for (const name of [LOG_FILE, 'loss.svg', 'config.json']) fs.rmSync(path.join(out, name), { force: true });
  }

  console.log(`tsgrad train · ${opts.model} on ${opts.data} · task ${opts.task}`);
  const shape = !point && !flags.given('task') && opts.task === 'classify' && !/\.(tsv|csv)$/i.test(opts.data) ? labelledShape(opts.data) : null;
  if (shape) console.log(describeShape(opts.data, shape));
  opts.gradAccum ??= 1; // runs saved before --grad-accum existed
  checkRunMemory(opts, (l) => console.log(l)); // before any model or optimizer is built
  manualSeed(opts.seed);
  const run: Run = { opts, point, flags, started: performance.now() };
  const ctx: TaskContext = { resume: point, note: (l) => console.log(l) };
  // each task's setup is typed by its batch and model; trainTask is generic over both
  switch (opts.task) {
    case 'lm': return trainTask(await (isShardFolder(opts.data) ? setupLmShards : setupLm)(opts, ctx), run);
    case 'mlm': return trainTask(await setupMlm(opts, ctx), run);
    case 'classify': return trainTask(await setupClassify(opts, ctx, point?.state.labelNames), run);
    case 'image': return trainTask(await setupImage(opts, ctx), run);
  }
}

/** What trainTask needs from the command: the resolved options, the checkpoint resumed from, the flags. */
interface Run {
  opts: TrainOptions;
  point: ResumePoint | null;
  flags: Flags;
  started: number;
}

/** Optimizer, schedule and Trainer for a task's setup; fit, then report. */
async function trainTask<B, M extends Module>(setup: TaskSetup<B, M>, { opts, point, flags, started }: Run): Promise<void> {
  const out = opts.out;
  const family = familyOf(opts.model);
  const perEpoch = setup.batchesPerEpoch;
  const epochBased = opts.task !== 'lm' && perEpoch !== null;
  if (opts.steps === 0) opts.steps = Math.max(1, Math.ceil((opts.epochs ?? 1) * (perEpoch ?? 1)));
  if (opts.evalEvery === 0 && epochBased) opts.evalEvery = perEpoch!;
  if (!point && !flags.given('warmup')) opts.warmup = Math.min(opts.warmup, Math.floor(opts.steps / 10)); // a short run warms up for a tenth of it
  const { model } = setup;
  const optimizer = buildOptimizer(model, opts);
  // a resumed run given a new --steps re-plans the rest of its schedule from where it is (schedule.ts)
  const resumed = point ? resumedScheduler(optimizer, opts, point.state.scheduler, Number(point.state.options?.steps), point.state.step) : null;
  const scheduler = resumed ? resumed.scheduler : buildScheduler(optimizer, opts);

  const params = model.numParameters();
  for (const line of setup.summary) console.log(line);
  console.log(`model     ${setup.modelName}: ${int(params)} parameters (${humanBytes(params * 4)} in float32)`);
  const accum = opts.gradAccum > 1 ? ` × grad-accum ${opts.gradAccum} (${int(opts.gradAccum * opts.batchSize)} ${family === 'image' ? 'samples' : `× ${opts.blockSize} tokens`} per step)` : '';
  const shape = (family === 'image' ? `batch ${opts.batchSize}` : `batch ${opts.batchSize} × ${opts.blockSize} tokens`) + accum;
  const epochCount = perEpoch ? opts.steps / perEpoch : 0;
  const epochsNote = perEpoch ? ` (${epochCount.toFixed(opts.steps % perEpoch === 0 ? 0 : 2)} epoch${epochCount === 1 ? '' : 's'} of ${count(perEpoch, 'batch', 'batches')})` : '';
  console.log(`training  ${count(opts.steps, 'step')}${epochsNote} · ${shape} · ${optimizer.constructor.name} lr ${opts.lr.toExponential(2)} ${describeWeightDecay(opts, !point && !flags.given('weightDecay'))} · ${describeSchedule(opts)}${opts.clip ? ` · clip ${opts.clip}` : ''} · seed ${opts.seed}`);
  if (resumed?.note) console.log(resumed.note);
  console.log(`output    ${out}  (config.json, log.jsonl, loss.svg, checkpoint-<step>/ every ${opts.saveEvery || '∞'} steps, last ${opts.keep || 'all'} kept)`);
  console.log(`memory    ${humanBytes(process.memoryUsage().rss)} RSS after setup (${humanDuration((performance.now() - started) / 1000)})`);

  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(path.join(out, 'config.json'), `${JSON.stringify(opts, null, 2)}\n`);
  const totalEpochs = epochBased ? (opts.epochs ?? Math.ceil(opts.steps / perEpoch!)) : undefined;
  const bar = progress<B, M>({ style: opts.task === 'mlm' ? 'mlm' : 'default', epochs: opts.task === 'mlm' ? undefined : totalEpochs, every: opts.logEvery || undefined });
  const trainer = new Trainer({
    model, optimizer, scheduler,
    trainBatches: setup.trainBatches, lossFn: setup.lossFn, evaluate: setup.evaluate, throughput: setup.throughput,
    gradAccum: opts.gradAccum, clip: opts.clip, evalEvery: opts.evalEvery, saveEvery: opts.saveEvery, keep: opts.keep, outDir: out,
    callbacks: [bar],
    checkpointFiles: (dir) => {
      if (setup.tokenizer) saveTokenizer(setup.tokenizer, dir);
    },
    checkpointState: () => ({ task: opts.task, ...(setup.labelNames ? { labelNames: setup.labelNames } : {}), options: { ...opts, data: recordData(opts.data, out) } }),
  });
  if (point) await trainer.resume(point, { weights: false }); // the model is point.model
  if (trainer.step >= opts.steps) console.log(`the run is at step ${trainer.step}, --steps ${opts.steps}: nothing to train (give more --steps to go on)`);

  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    bar.log('interrupted: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)');
    trainer.stop();
  };
  process.on('SIGINT', onSigint);
  const fitStarted = performance.now();
  const firstStep = trainer.step;
  let result;
  try {
    result = await trainer.fit(opts.steps);
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (result.stopped) {
    trainer.save();
    console.log(`stopped at step ${trainer.step}`);
    console.log(`continue: npx tsgrad train --out ${out} --resume${dataFlag(opts.data, out)}`);
    return;
  }
  finish(opts, setup, trainer, (performance.now() - fitStarted) / 1000, trainer.step - firstStep);
}

function finish<B, M extends Module>(opts: TrainOptions, setup: TaskSetup<B, M>, trainer: Trainer<B, M>, seconds: number, stepsRun: number): void {
  const out = opts.out;
  const records = readLog(path.join(out, LOG_FILE));
  const series = lossSeries(records);
  fs.writeFileSync(path.join(out, 'loss.svg'), svgPlot(series, { title: `${opts.model} on ${opts.data}: loss` }));
  console.log('');
  console.log(asciiPlot(series));
  const last = records.at(-1);
  const val = [...records].reverse().find((r) => typeof r.val_loss === 'number');
  const parts = [`done: ${count(trainer.step, 'step')}`];
  if (stepsRun > 0) parts.push(`${int(stepsRun)} in this run, ${humanDuration(seconds)} (${(stepsRun / seconds).toFixed(2)} steps/s)`);
  if (last) parts.push(`train loss ${last.loss.toFixed(4)}`);
  if (val) parts.push(`val loss ${val.val_loss!.toFixed(4)}${trainer.bestValLoss !== null ? ` (best ${trainer.bestValLoss.toFixed(4)})` : ''}`);
  parts.push(`peak RSS ${humanBytes(process.resourceUsage().maxRSS * 1024)}`);
  console.log(parts.join(' · '));
  if (setup.report) for (const line of setup.report()) console.log(line);
  if (setup.sample) {
    console.log(`sample (${JSON.stringify(setup.prompt)} + ${opts.sampleTokens} tokens, temperature 0.8, top-k 200, seed ${opts.seed}):`);
    console.log(setup.sample(setup.model).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  const ckpt = listCheckpoints(out).at(-1);
  console.log(`wrote ${path.join(out, 'loss.svg')}, ${path.join(out, LOG_FILE)}${ckpt ? `, ${ckpt.dir}` : ''}`);
  console.log('next:');
  const q = (s: string) => (/^[\w./-]+$/.test(s) ? s : JSON.stringify(s));
  if (opts.task === 'lm') console.log(`  npx tsgrad generate --checkpoint ${q(out)} --prompt ${JSON.stringify(setup.prompt ?? 'The ')} --max-new-tokens 300`);
  console.log(`  npx tsgrad eval --checkpoint ${q(out)}${dataFlag(opts.data, out)}`);
  if (opts.task === 'mlm') console.log(`  npx tsgrad train --model ${opts.model} --data spam --init ${q(out)}   (fine-tune a classifier on it, D22)`);
  console.log(`  npx tsgrad train --out ${q(out)} --resume${dataFlag(opts.data, out)} --steps ${opts.steps * 2}   (train on to step ${opts.steps * 2})`);
}
