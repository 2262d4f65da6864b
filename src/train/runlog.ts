// DIR/log.jsonl: one JSON object per step (step, loss, lr, throughput, and eval metrics on eval
// steps). Appended line by line as training goes; on resume, the lines after the checkpoint's
// step (written by the interrupted process after its last save) are dropped, so the file ends up
// exactly as an uninterrupted run writes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/index.js';
import type { Series } from './plot.js';

export const LOG_FILE = 'log.jsonl';

/** One line of log.jsonl. Keys are snake_case, as Hugging Face's log_history. */
export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  /** Epochs done, fractional (epoch-based data only). */
  epoch?: number;
  tokens_per_s?: number;
  /** Micro-batches accumulated in this step (absent: 1). */
  grad_accum?: number;
  samples_per_s?: number;
  /** On evaluation steps: val_loss and any other metric, prefixed val_. */
  [metric: string]: number | undefined;
}

/** The records of a log.jsonl file; a torn last line (a crash mid-write) is skipped. */
export function readLog(file: string): StepRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: StepRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line);
      if (r && typeof r === 'object' && Number.isInteger(r.step)) out.push(r);
    } catch {
      // a line cut short by a kill: the resume rewrites the file without it
    }
  }
  return out;
}

export class RunLog {
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, LOG_FILE);
  }

  /** Start afresh (an empty file). */
  reset(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomic(this.file, '');
  }

  /** Keep only the records of steps ≤ step (resuming from a checkpoint at that step). */
  truncateAfter(step: number): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const kept = readLog(this.file).filter((r) => r.step <= step);
    writeFileAtomic(this.file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  append(record: StepRecord): void {
    fs.appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  read(): StepRecord[] {
    return readLog(this.file);
  }
}

/** Train and validation loss curves of a run's records, for asciiPlot and svgPlot. */
export function lossSeries(records: readonly StepRecord[]): Series[] {
  const train: [number, number][] = [], val: [number, number][] = [];
  for (const r of records) {
    if (Number.isFinite(r.loss)) train.push([r.step, r.loss]);
    if (typeof r.val_loss === 'number' && Number.isFinite(r.val_loss)) val.push([r.step, r.val_loss]);
  }
  return [{ name: 'train', points: train }, { name: 'validation', points: val }];
}
