// One validation figure per language-model checkpoint. Training's evaluations, `tsgrad eval` and
// `tsgrad quantize --compare` score the same windows: the first N non-overlapping windows of T
// tokens of the validation split (window w reads tokens w·T … w·T+T−1 and predicts the next one
// of each), N = the run's --eval-batches × --batch-size unless --max-batches says otherwise. No
// randomness, so the three print one number for one checkpoint.
import { Tensor } from '../tensor/tensor.js';
import type { GPT } from '../models/gpt.js';
import { count, int } from './tasks/task.js';

export interface LMWindows {
  /** Batches of up to batchSize windows: inputs x and next-token targets y, both [n, T]. */
  batches: { x: Tensor; y: Tensor; n: number }[];
  windows: number;
  T: number;
  /** Tokens in the split the windows come from. */
  of: number;
}

/** The first min(⌊(len−1)/T⌋, maxBatches·batchSize) windows of tokens, in batches. */
export function lmWindows(tokens: Int32Array, T: number, batchSize: number, maxBatches: number): LMWindows {
  const windows = Math.max(0, Math.min(Math.floor((tokens.length - 1) / T), maxBatches * batchSize));
  const batches: LMWindows['batches'] = [];
  for (let w0 = 0; w0 < windows; w0 += batchSize) {
    const n = Math.min(batchSize, windows - w0);
    const x = new Int32Array(n * T), y = new Int32Array(n * T);
    for (let b = 0; b < n; b++) {
      x.set(tokens.subarray((w0 + b) * T, (w0 + b + 1) * T), b * T);
      y.set(tokens.subarray((w0 + b) * T + 1, (w0 + b + 1) * T + 1), b * T);
    }
    batches.push({ x: new Tensor(x, [n, T], 'int32'), y: new Tensor(y, [n, T], 'int32'), n });
  }
  return { batches, windows, T, of: tokens.length };
}

/** Mean next-token loss over the windows (each window weighs the same). */
export function windowsLoss(model: GPT, w: LMWindows): number {
  let sum = 0;
  for (const b of w.batches) sum += model.forward(b.x, b.y).loss.item() * b.n;
  return sum / Math.max(1, w.windows);
}

/** "120 windows of 64 tokens from the start of the validation split (7,680 of its 60,000 tokens)". */
export function describeWindows(w: LMWindows, split: string): string {
  return `${count(w.windows, 'window')} of ${w.T} tokens from the start of ${split} (${int(w.windows * w.T)} of its ${count(w.of, 'token')})`;
}
