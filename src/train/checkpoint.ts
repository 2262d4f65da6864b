// Checkpoints of a run folder, complete or absent:
//   DIR/checkpoint-<step>/  config.json + model.safetensors (the model, Hugging Face layout),
//                           tokenizer.json, optimizer.safetensors, trainer_state.json,
//                           manifest.json (size and SHA-256 of each, written last)
// A checkpoint is written into DIR/.tmp-checkpoint-<step>/, every file fsynced, then the folder
// is renamed to its final name (and DIR fsynced): a crash at any moment leaves either the whole
// checkpoint or none of it, and --resume takes the newest complete one. Only the last `keep` are
// kept (Hugging Face's save_total_limit, D24).
//
// This file is the one place that knows the layout. Tools built on trained runs (`tsgrad generate`,
// `eval`, `serve`, `quantize`) call verifyCheckpoint(dir) and loadCheckpoint(dir); a resumed run
// calls openResumePoint(runDir), which reads the newest checkpoint that verifies once and hands
// it to Trainer.resume.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RngState } from '../tensor/random.js';
import type { SchedulerStateDict } from '../optim/schedulers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import * as io from '../io/index.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification } from '../models/index.js';
import { MLP } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { hasTokenizer, loadTokenizer, TOKENIZER_FILE, type Tokenizer } from '../data/tokenizers/index.js';
import { loadModel, readWeights, MODEL_CONFIG_FILE, MODEL_FILE, OPTIMIZER_FILE, type SplitOptimizerState } from './model-files.js';
import { verifyManifest, writeManifest } from './manifest.js';
import { checkTokenizerFits } from '../models/config-validate.js';

export const CHECKPOINT_PREFIX = 'checkpoint-';
export const TRAINER_STATE_FILE = 'trainer_state.json';
const TEMP_PREFIX = '.tmp-checkpoint-';
const OLD_PREFIX = '.old-checkpoint-';

export type Task = 'lm' | 'mlm' | 'classify' | 'image';
export const TASKS: readonly Task[] = ['lm', 'mlm', 'classify', 'image'];

/** trainer_state.json: everything besides the tensors that a resumed run needs. */
export interface TrainerState {
  format: 'tsgrad-trainer-state';
  version: 1;
  /** Optimizer steps taken. */
  step: number;
  /** Epochs done (fractional), for epoch-based data; else null. */
  epoch: number | null;
  /** tsgrad's random stream at the step boundary (getRngState). */
  rng: RngState;
  optimizer: SplitOptimizerState['json'] & { type: string };
  scheduler: SchedulerStateDict | null;
  /** The batch source's position (epochBatches: epoch, index, order). */
  data: unknown;
  /** The running sum of the current epoch's losses, for its mean. */
  epochLoss: { sum: number; count: number };
  bestValLoss: number | null;
  /** What the CLI adds: task, label names, the run's resolved options. */
  task?: Task;
  labelNames?: string[];
  options?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface CheckpointInfo {
  step: number;
  dir: string;
}

/** The complete checkpoints of a run folder, oldest first. */
export function listCheckpoints(runDir: string): CheckpointInfo[] {
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) return [];
  const out: CheckpointInfo[] = [];
  for (const name of fs.readdirSync(runDir)) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    const dir = path.join(runDir, name);
    if (m && fs.existsSync(path.join(dir, TRAINER_STATE_FILE))) out.push({ step: Number(m[1]), dir });
  }
  return out.sort((a, b) => a.step - b.step);
}

const isModelDir = (dir: string) => fs.existsSync(path.join(dir, MODEL_CONFIG_FILE)) && fs.existsSync(path.join(dir, MODEL_FILE));

/**
 * A run folder → its newest complete checkpoint; a checkpoint folder (or any folder with
 * config.json + model.safetensors) → itself. Anything else is an error that says what was expected.
 */
export function resolveCheckpointDir(dir: string): string {
  if (!fs.existsSync(dir)) throw new Error(`checkpoint: no such folder: ${dir}`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`checkpoint: ${dir} is a file; expected a run folder or a checkpoint folder`);
  if (isModelDir(dir)) return dir;
  const newest = listCheckpoints(dir).at(-1);
  if (newest) return newest.dir;
  throw new Error(`checkpoint: ${dir} holds no checkpoint (expected config.json + model.safetensors, or checkpoint-<step>/ folders of a run)`);
}

/** Read and check DIR/trainer_state.json. */
export function readTrainerState(dir: string): TrainerState {
  const file = path.join(dir, TRAINER_STATE_FILE);
  let s: TrainerState;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(e as Error).message})`;
    throw new Error(`checkpoint: ${file} ${why}`);
  }
  const bad = (why: string) => new Error(`checkpoint: ${file}: ${why}`);
  if (!s || typeof s !== 'object' || s.format !== 'tsgrad-trainer-state') throw bad('not a tsgrad trainer state (format field)');
  if (s.version !== 1) throw bad(`version ${JSON.stringify(s.version)} is not supported (1)`);
  if (!Number.isInteger(s.step) || s.step < 0) throw bad(`step must be a non-negative integer (got ${JSON.stringify(s.step)})`);
  if (!s.rng || !['c', 's0', 's1', 's2'].every((k) => typeof (s.rng as unknown as Record<string, unknown>)[k] === 'number')) throw bad('rng must hold the random state {c, s0, s1, s2}');
  if (!s.optimizer || !Array.isArray(s.optimizer.paramGroups)) throw bad('optimizer.paramGroups is missing');
  if (s.task !== undefined && !TASKS.includes(s.task)) throw bad(`unknown task ${JSON.stringify(s.task)} (${TASKS.join(', ')})`);
  if (s.labelNames !== undefined && !(Array.isArray(s.labelNames) && s.labelNames.every((l) => typeof l === 'string'))) throw bad('labelNames must be a list of strings');
  return s;
}

// ---------------------------------------------------------------- writing

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // folder fsync is unsupported on some file systems; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Remove half-written checkpoints left by a crash (.tmp-checkpoint-*, .old-checkpoint-*). */
export function removeStaleTemps(runDir: string): void {
  if (!fs.existsSync(runDir)) return;
  for (const name of fs.readdirSync(runDir)) {
    if (name.startsWith(TEMP_PREFIX) || name.startsWith(OLD_PREFIX)) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
  }
}

/** Delete every checkpoint of a run folder, complete or half-written (a run started again). */
export function removeCheckpoints(runDir: string): void {
  removeStaleTemps(runDir);
  if (!fs.existsSync(runDir)) return;
  for (const name of fs.readdirSync(runDir)) {
    if (/^checkpoint-\d+$/.test(name)) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
  }
}

/** Delete all but the newest `keep` complete checkpoints (keep ≤ 0: delete none). */
export function pruneCheckpoints(runDir: string, keep: number): string[] {
  if (!(keep > 0)) return [];
  const all = listCheckpoints(runDir);
  const gone = all.slice(0, Math.max(0, all.length - keep));
  for (const c of gone) fs.rmSync(c.dir, { recursive: true, force: true });
  return gone.map((c) => c.dir);
}

/**
 * Write DIR/checkpoint-<step>/ atomically: `write(tmpDir)` fills a temporary folder (each file
 * written with fsync, trainer_state.json last), which is then renamed into place. Returns the
 * final folder.
 */
export function writeCheckpoint(runDir: string, step: number, write: (tmpDir: string) => void, { keep = 0 }: { keep?: number } = {}): string {
  fs.mkdirSync(runDir, { recursive: true });
  const tmp = path.join(runDir, `${TEMP_PREFIX}${step}`);
  const final = path.join(runDir, `${CHECKPOINT_PREFIX}${step}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  write(tmp);
  writeManifest(tmp); // last: a folder with a manifest is complete
  fsyncDir(tmp);
  if (fs.existsSync(final)) {
    // the same step saved again (a resumed run's last step): swap, then drop the old one
    const old = path.join(runDir, `${OLD_PREFIX}${step}`);
    fs.rmSync(old, { recursive: true, force: true });
    fs.renameSync(final, old);
    fs.renameSync(tmp, final);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, final);
  }
  fsyncDir(runDir);
  pruneCheckpoints(runDir, keep);
  return final;
}

/**
 * For tests of crash safety: with TSGRAD_PAUSE_IN_SAVE=<ms> (every save) or <ms>@<step> (the save
 * of that step) in the environment, a checkpoint save stops half-way (model and optimizer written,
 * trainer_state.json not yet) for that long, after a line on stderr, so a test can kill it there.
 */
export function pauseInsideSave(step: number): void {
  const m = /^(\d+)(?:@(\d+))?$/.exec(process.env.TSGRAD_PAUSE_IN_SAVE ?? '');
  if (!m || (m[2] !== undefined && Number(m[2]) !== step)) return;
  const ms = Number(m[1]);
  process.stderr.write(`tsgrad: pausing ${ms} ms inside the save of checkpoint-${step} (TSGRAD_PAUSE_IN_SAVE)\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------- verifying and loading

const toStderr = (line: string) => { process.stderr.write(`${line}\n`); };
const noted = new Set<string>();

/**
 * Resolve dir (resolveCheckpointDir) and check its files against manifest.json; an error names the
 * file that is missing, truncated or modified. A folder without a manifest passes, with a note for
 * a checkpoint (once per folder and process). Returns the checkpoint folder.
 */
export function verifyCheckpoint(dir: string, note: (line: string) => void = toStderr): string {
  const ckpt = resolveCheckpointDir(dir);
  verifyFolder(ckpt, note);
  return ckpt;
}

function verifyFolder(ckpt: string, note: (line: string) => void): void {
  let result;
  try {
    result = verifyManifest(ckpt);
  } catch (e) {
    throw new Error(`checkpoint: ${(e as Error).message}`, { cause: e });
  }
  // a bare model folder (savePretrained, a hub download) never had a manifest: only checkpoints get the note
  if (result.note && fs.existsSync(path.join(ckpt, TRAINER_STATE_FILE)) && !noted.has(path.resolve(ckpt))) {
    noted.add(path.resolve(ckpt));
    note(result.note);
  }
}

/** Everything a resumed run needs from one checkpoint, read once. */
export interface ResumePoint {
  dir: string;
  state: TrainerState;
  /** The model rebuilt from config.json (eval mode), or null for a module tsgrad cannot rebuild. */
  model: Module | null;
  /** Its state dict (the weights of model, or of a module the caller builds). */
  weights: Record<string, Tensor>;
  /** The optimizer's buffers (optimizer.safetensors); its numbers are in state.optimizer. */
  optimizerTensors: Record<string, Tensor>;
  tokenizer: Tokenizer | null;
}

async function readResumePoint(dir: string, note: (line: string) => void): Promise<ResumePoint> {
  verifyFolder(dir, note);
  const state = readTrainerState(dir);
  const fail = (e: unknown): never => { throw new Error(`checkpoint: ${dir}: ${(e as Error).message}`, { cause: e }); };
  const { model, weights } = await readWeights(dir).catch(fail);
  let optimizerTensors: Record<string, Tensor> = {};
  try {
    optimizerTensors = io.load(path.join(dir, OPTIMIZER_FILE));
  } catch (e) {
    fail(e);
  }
  const tokenizer = hasTokenizer(dir) ? loadTokenizer(dir) : null;
  if (model) checkTokenizerFits(model, tokenizer, dir);
  return { dir, state, model, weights, optimizerTensors, tokenizer };
}

/**
 * The checkpoint a run continues from. A checkpoint folder: that one (an error if it does not
 * verify). A run folder: its newest checkpoint that verifies and loads; each newer one that does
 * not is skipped, with a note saying which and why. null when a run folder has no checkpoint.
 */
export async function openResumePoint(where: string, { note = toStderr }: { note?: (line: string) => void } = {}): Promise<ResumePoint | null> {
  if (isModelDir(where)) return readResumePoint(where, note);
  removeStaleTemps(where);
  const newestFirst = listCheckpoints(where).reverse();
  if (newestFirst.length === 0) return null;
  const skipped: string[] = [];
  for (const c of newestFirst) {
    try {
      return await readResumePoint(c.dir, note);
    } catch (e) {
      const why = (e as Error).message.replace(/^checkpoint: /, '');
      skipped.push(`${path.basename(c.dir)} (${why})`);
      note(`resume: skipping ${path.basename(c.dir)}: ${why}`);
    }
  }
  throw new Error(`resume: no checkpoint of ${where} verifies: ${skipped.join('; ')}`);
}

export interface LoadedCheckpoint {
  /** The model, built from config.json and loaded, in eval mode. */
  model: Module;
  /** dir/tokenizer.json (or tsgrad_tokenizer.json), or null where there is none (image models). */
  tokenizer: Tokenizer | null;
  task: Task;
  /** Class id → label, for classifiers. */
  labelNames?: string[];
  /** The checkpoint folder that was read (after resolveCheckpointDir). */
  dir: string;
  /** trainer_state.json, or null for a bare model folder (config.json + model.safetensors). */
  state: TrainerState | null;
}

function taskOf(model: Module): Task {
  if (model instanceof GPT) return 'lm';
  if (model instanceof BertForMaskedLM) return 'mlm';
  if (model instanceof BertForSequenceClassification) return 'classify';
  if (model instanceof MLP || model instanceof LeNet5) return 'image';
  if (model instanceof BertModel) throw new Error('checkpoint: a BertModel has no task head (save a BertForMaskedLM or BertForSequenceClassification)');
  throw new Error(`checkpoint: no task for a ${model.constructor.name}`);
}

/**
 * Everything `generate`, `eval`, `serve` and `quantize` need from a run folder or a checkpoint
 * folder: the model (eval mode), its tokenizer, its task and label names, and the trainer state.
 * Errors are one line naming the file at fault.
 */
export async function loadCheckpoint(dir: string, { note = toStderr }: { note?: (line: string) => void } = {}): Promise<LoadedCheckpoint> {
  const ckpt = verifyCheckpoint(dir, note);
  const state = fs.existsSync(path.join(ckpt, TRAINER_STATE_FILE)) ? readTrainerState(ckpt) : null;
  let model: Module;
  try {
    model = await loadModel(ckpt);
  } catch (e) {
    throw new Error(`checkpoint: ${ckpt}: ${(e as Error).message}`, { cause: e });
  }
  const task = state?.task ?? taskOf(model);
  const tokenizer = hasTokenizer(ckpt) ? loadTokenizer(ckpt) : null;
  if (!tokenizer && task !== 'image') throw new Error(`checkpoint: ${ckpt} has no ${TOKENIZER_FILE}, which a ${task} model needs`);
  checkTokenizerFits(model, tokenizer, ckpt);
  let labelNames = state?.labelNames;
  if (task === 'classify' && !labelNames && model instanceof BertForSequenceClassification) labelNames = Array.from({ length: model.numLabels }, (_, i) => String(i));
  return { model, tokenizer, task, ...(labelNames ? { labelNames } : {}), dir: ckpt, state };
}
