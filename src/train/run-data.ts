// The data a run was trained on, as its checkpoints record it (options.data in trainer_state.json)
// and as tools read it again (`tsgrad eval`, `quantize --compare`, `train --resume`). A checkpoint
// is a file from anywhere: the path it names is resolved relative to the run folder and must stay
// inside it. A path that leaves it (`../`, `/etc/passwd`, a symbolic link out) is read only when the
// user names it again on the command line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLASSIFICATION_DATASETS, IMAGE_DATASETS, TEXT_DATASETS } from '../data/datasets.js';
import { CHECKPOINT_PREFIX, TRAINER_STATE_FILE } from './checkpoint.js';

const DATASETS: readonly string[] = [...TEXT_DATASETS, ...CLASSIFICATION_DATASETS, ...IMAGE_DATASETS];

/** The run folder of a checkpoint folder: its parent for DIR/checkpoint-<step>, else the folder itself. */
export function runFolderOf(ckptDir: string): string {
  return path.basename(ckptDir).startsWith(CHECKPOINT_PREFIX) ? path.dirname(ckptDir) : ckptDir;
}

/** What train records: a dataset name as is, a path relative to the run folder (posix separators). */
export function recordData(data: string, runDir: string): string {
  if (DATASETS.includes(data)) return data;
  return path.relative(path.resolve(runDir), path.resolve(data)).split(path.sep).join('/');
}

/** The flag a later command needs to read this run's data again: '' when it lies inside the run folder (or is a dataset name). */
export function dataFlag(data: string, runDir: string): string {
  const r = recordedData(recordData(data, runDir), path.join(runDir, `${CHECKPOINT_PREFIX}0`));
  return r?.confined ? '' : ` --data ${/^[\w./-]+$/.test(data) ? data : JSON.stringify(data)}`;
}

/** The real path of p, or of its nearest existing ancestor joined with the rest (a file may not exist yet). */
function realish(p: string): string {
  const abs = path.resolve(p);
  if (fs.existsSync(abs)) return fs.realpathSync(abs);
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
}

const inside = (file: string, dir: string) => {
  const rel = path.relative(realish(dir), realish(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

export interface RecordedData {
  /** A dataset name, or the absolute path the record points to. */
  data: string;
  /** False for a path outside the run folder: it must not be read unless the user gives it again. */
  confined: boolean;
}

/** Resolve a recorded options.data against the run folder of ckptDir (null when nothing usable is recorded). */
export function recordedData(recorded: unknown, ckptDir: string): RecordedData | null {
  if (typeof recorded !== 'string' || recorded === '' || recorded.includes('\0')) return null;
  if (DATASETS.includes(recorded)) return { data: recorded, confined: true };
  const run = runFolderOf(ckptDir);
  const file = path.resolve(run, recorded);
  return { data: file, confined: inside(file, run) };
}

/** The same data: equal names, or paths to the same file. */
export function sameData(given: string, recorded: RecordedData): boolean {
  if (DATASETS.includes(given) || DATASETS.includes(recorded.data)) return given === recorded.data;
  return realish(given) === realish(recorded.data);
}

/**
 * The data a checkpoint was trained on, to read again; `flag` is the option that overrides it.
 * Throws when nothing is recorded or when the recorded path leaves the run folder (the error names
 * the flag, the file and the run folder, and reads nothing).
 */
export function confinedData(recorded: unknown, ckptDir: string, flag: string, op: string): string {
  const r = recordedData(recorded, ckptDir);
  const state = path.join(ckptDir, TRAINER_STATE_FILE);
  if (!r) throw new Error(`${op}: ${ckptDir} does not say what data it was trained on; pass ${flag}`);
  if (!r.confined) {
    throw new Error(`${op}: ${state} names data ${JSON.stringify(recorded).slice(0, 200)}, outside the run folder ${runFolderOf(ckptDir)}; a checkpoint may only point inside its run, so pass ${flag} to read it`);
  }
  return r.data;
}
