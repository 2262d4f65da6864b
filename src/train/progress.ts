// Progress of a training run, as Trainer callbacks: a cli-progress bar (step, loss, lr,
// throughput, ETA) when the terminal is a TTY, plain periodic lines otherwise (logs, CI, tests).
// Lines in the documents' formats where the task matches: `Step s/S - loss: … - learning_rate: …`
// for MLM (D24), `Epoch [e/E], Loss: x` at the end of each epoch (D23).
import cliProgress from 'cli-progress';
import type { Module } from '../nn/module.js';
import type { TrainerCallbacks } from './trainer.js';
import type { StepRecord } from './runlog.js';

export interface ProgressOptions {
  /** Draw a bar (default: when stderr is a TTY); else print a line every `every` steps. */
  tty?: boolean;
  /** Steps between plain lines (default: about 20 lines per run). */
  every?: number;
  /** 'mlm' prints D24's `Step s/S - loss: … - learning_rate: …` lines. */
  style?: 'default' | 'mlm';
  /** Total epochs, for D23's `Epoch [e/E], Loss: x` lines (absent: no epoch lines). */
  epochs?: number;
  /** Where plain lines go (default console.log). */
  print?: (line: string) => void;
}

/** 1234567 → '1.23M', 14200 → '14.2k'. */
export function humanCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Seconds → '42s', '3m05s', '1h02m'. */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Bytes → '181 MiB'. */
export function humanBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MiB`;
  return `${Math.round(bytes / 2 ** 10)} KiB`;
}

const lrText = (lr: number) => lr.toExponential(2);
const rateOf = (r: StepRecord) =>
  r.tokens_per_s !== undefined ? `${humanCount(r.tokens_per_s)} tokens/s` : r.samples_per_s !== undefined ? `${humanCount(r.samples_per_s)} samples/s` : '';

/** `val_loss 2.5123, val_accuracy 0.9100` */
export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics).map(([k, v]) => `${k} ${Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(4)}`).join(', ');
}

export interface Progress<B = unknown, M extends Module = Module> extends TrainerCallbacks<B, M> {
  /** Print a line (above the bar when there is one). */
  log(line: string): void;
}

export function progress<B = unknown, M extends Module = Module>(opts: ProgressOptions = {}): Progress<B, M> {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  const print = opts.print ?? ((line: string) => console.log(line));
  let multi: cliProgress.MultiBar | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let every = opts.every ?? 0;
  let started = 0, firstStep = 0, total = 0;

  const log = (line: string) => {
    if (multi) multi.log(`${line}\n`);
    else print(line);
  };
  const mlmLine = (r: StepRecord) => `Step ${r.step}/${total} - loss: ${r.loss.toFixed(4)} - learning_rate: ${lrText(r.lr)}`;
  const plainLine = (r: StepRecord) => {
    const done = r.step - firstStep;
    const eta = done > 0 ? ((performance.now() - started) / 1000 / done) * (total - r.step) : NaN;
    return [`step ${r.step}/${total}`, `loss ${r.loss.toFixed(4)}`, `lr ${lrText(r.lr)}`, r.grad_accum ? `accum ×${r.grad_accum}` : '', rateOf(r), `ETA ${humanDuration(eta)}`].filter(Boolean).join(' | ');
  };

  return {
    log,
    onTrainBegin(trainer) {
      started = performance.now();
      firstStep = trainer.step;
      total = trainer.totalSteps;
      if (!every) every = Math.max(1, Math.round(total / 20));
      if (tty && total > trainer.step) {
        multi = new cliProgress.MultiBar({
          format: ' {bar} {value}/{total} | loss {loss} | lr {lr} | {rate} | ETA {eta_formatted}',
          hideCursor: true, clearOnComplete: false, stopOnComplete: false, etaBuffer: 20, fps: 5,
        }, cliProgress.Presets.shades_classic);
        bar = multi.create(total, trainer.step, { loss: '-', lr: lrText(trainer.lr), rate: '' });
      }
    },
    onStepEnd(r) {
      if (bar) bar.update(r.step, { loss: r.loss.toFixed(4), lr: lrText(r.lr), rate: rateOf(r) });
      const periodic = r.step % every === 0 || r.step === total;
      if (opts.style === 'mlm' && periodic) log(mlmLine(r));
      else if (!bar && periodic) log(plainLine(r));
      const metrics = Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith('val_'))) as Record<string, number>;
      if (Object.keys(metrics).length) log(`  eval @ step ${r.step}: ${formatMetrics(metrics)}`);
    },
    onEpochEnd(epoch, meanLoss) {
      if (opts.epochs) log(`Epoch [${epoch}/${opts.epochs}], Loss: ${meanLoss.toFixed(4)}`);
    },
    onSave(dir) {
      log(`  saved ${dir}`);
    },
    onTrainEnd() {
      if (multi) multi.stop();
      multi = null;
      bar = null;
    },
  };
}
