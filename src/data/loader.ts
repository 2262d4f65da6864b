// Splits, batches and the shapes models want. Every random draw (split, shuffle, LM windows,
// MLM masks) comes from tsgrad's one seeded stream, so tg.manualSeed(s) fixes them all and a
// checkpoint's saved random state continues them.
import { Tensor } from '../tensor/tensor.js';
import { randomInt, random } from '../tensor/random.js';

/** A random permutation of 0…n-1 (Fisher–Yates). */
export function permutation(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** How many go to validation: round(n · f), but at least 1 and at most n - 1 when f > 0 and n ≥ 2. */
export function validationCount(op: string, n: number, valFraction: number): number {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`${op}: valFraction must be in [0, 1) (got ${valFraction})`);
  if (valFraction === 0 || n < 2) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * valFraction)));
}

/**
 * A random train/validation split. Given a count n, returns index arrays; given items, the items.
 * Deterministic under tg.manualSeed (one permutation is drawn).
 */
export function trainValSplit(n: number, valFraction: number): { train: Int32Array; val: Int32Array };
export function trainValSplit<T>(items: readonly T[], valFraction: number): { train: T[]; val: T[] };
export function trainValSplit<T>(data: number | readonly T[], valFraction: number): { train: Int32Array | T[]; val: Int32Array | T[] } {
  const n = typeof data === 'number' ? data : data.length;
  if (!Number.isInteger(n) || n < 0) throw new Error(`trainValSplit: n must be a non-negative integer (got ${n})`);
  const nVal = validationCount('trainValSplit', n, valFraction);
  const order = permutation(n);
  const val = order.subarray(0, nVal);
  const train = order.subarray(nVal);
  if (typeof data === 'number') return { train: train.slice(), val: val.slice() };
  return { train: Array.from(train, (i) => data[i]), val: Array.from(val, (i) => data[i]) };
}

/** A token stream split as nanoGPT does: the first part trains, the last valFraction validates (no shuffling: text is a sequence). */
export function splitTokens(ids: Int32Array, valFraction: number): { train: Int32Array; val: Int32Array } {
  const nVal = validationCount('splitTokens', ids.length, valFraction);
  return { train: ids.subarray(0, ids.length - nVal), val: ids.subarray(ids.length - nVal) };
}

/** Anything a DataLoader can batch: a size and a way to build the batch of some indices. */
export interface Dataset<B> {
  readonly length: number;
  batch(indices: ArrayLike<number>): B;
}

/** Rows of tensors that share their first dimension (inputs, labels, …), batched together. */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: readonly Tensor[];
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error('TensorDataset: needs at least one tensor');
    const n = tensors[0].shape[0];
    for (const t of tensors) {
      if (t.ndim === 0 || t.shape[0] !== n) throw new Error(`TensorDataset: every tensor needs the same first dimension; got shapes ${tensors.map((x) => `[${x.shape.join(', ')}]`).join(', ')}`);
    }
    this.tensors = tensors;
  }
  get length(): number {
    return this.tensors[0].shape[0];
  }
  batch(indices: ArrayLike<number>): Tensor[] {
    return this.tensors.map((t) => gatherRows(t, indices));
  }
}

/** Rows `indices` of t, in that order (a copy). */
export function gatherRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const n = t.shape[0];
  const row = n === 0 ? 0 : t.size / n;
  const out = new (t.data.constructor as Int32ArrayConstructor)(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new Error(`gatherRows: index ${r} is out of range for ${n} rows`);
    out.set(t.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return new Tensor(out, [indices.length, ...t.shape.slice(1)], t.dtype);
}

export interface LoaderOptions {
  batchSize: number;
  /** A new random order each epoch (default true). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * Batches of a dataset, one epoch per iteration (`for (const [x, y] of loader)`). With shuffling,
 * each epoch draws its order from the seeded stream when the iteration starts. To resume in the
 * middle of an epoch, keep the order and call batches(order, from).
 */
export class DataLoader<B> implements Iterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;

  constructor(readonly dataset: Dataset<B>, opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`DataLoader: batchSize must be a positive integer (got ${opts.batchSize})`);
    this.batchSize = opts.batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? false;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** This epoch's order of examples: a permutation when shuffling, else 0…n-1. */
  order(): Int32Array {
    if (this.shuffle) return permutation(this.dataset.length);
    return Int32Array.from({ length: this.dataset.length }, (_, i) => i);
  }

  /** The batches of one epoch in the given order, starting at batch `from`. */
  *batches(order: Int32Array, from = 0): Generator<B> {
    for (let b = from; b < this.length; b++) yield this.dataset.batch(order.subarray(b * this.batchSize, (b + 1) * this.batchSize));
  }

  [Symbol.iterator](): Iterator<B> {
    return this.batches(this.order());
  }
}

/** x and y of a language-model batch: int32 [B, T], y the next token of each x position. */
export interface LMBatch {
  x: Tensor;
  y: Tensor;
}

/** nanoGPT's get_batch: B random windows, x = ids[i..i+T), y = ids[i+1..i+T+1). */
export function lmBatch(ids: Int32Array, blockSize: number, batchSize: number): LMBatch {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`lmBatch: blockSize must be a positive integer (got ${blockSize})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`lmBatch: batchSize must be a positive integer (got ${batchSize})`);
  if (ids.length < blockSize + 1) throw new Error(`lmBatch: ${ids.length} tokens are too few for a block of ${blockSize} (need ${blockSize + 1})`);
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const i = randomInt(0, ids.length - blockSize);
    x.set(ids.subarray(i, i + blockSize), b * blockSize);
    y.set(ids.subarray(i + 1, i + blockSize + 1), b * blockSize);
  }
  return { x: new Tensor(x, [batchSize, blockSize], 'int32'), y: new Tensor(y, [batchSize, blockSize], 'int32') };
}

/** lmBatch again and again: `steps` batches, or without end. */
export function* lmBatches(ids: Int32Array, blockSize: number, batchSize: number, steps = Infinity): Generator<LMBatch> {
  for (let s = 0; s < steps; s++) yield lmBatch(ids, blockSize, batchSize);
}

/** Token ids and which of them are real (1) or padding (0), both int32 [B, T]. */
export interface PaddedBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
}

/**
 * Pad (at the end) or cut (the end) each sequence to T tokens: T = maxLen, or with
 * padToLongest the longest sequence of the batch when that is shorter (less work per batch).
 */
export function padBatch(seqs: readonly ArrayLike<number>[], maxLen: number, padId: number, opts: { padToLongest?: boolean } = {}): PaddedBatch {
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new Error(`padBatch: maxLen must be a positive integer (got ${maxLen})`);
  const T = opts.padToLongest ? Math.min(maxLen, Math.max(1, ...seqs.map((s) => s.length))) : maxLen;
  const ids = new Int32Array(seqs.length * T).fill(padId);
  const mask = new Int32Array(seqs.length * T);
  seqs.forEach((s, b) => {
    const n = Math.min(T, s.length);
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = s[t];
      mask[b * T + t] = 1;
    }
  });
  return { inputIds: new Tensor(ids, [seqs.length, T], 'int32'), attentionMask: new Tensor(mask, [seqs.length, T], 'int32') };
}

/** Token sequences with class labels, for classification: batches of padBatch + labels int32 [B]. */
export class SequenceDataset implements Dataset<PaddedBatch & { labels: Tensor }> {
  constructor(
    readonly seqs: readonly ArrayLike<number>[],
    readonly labels: ArrayLike<number>,
    readonly opts: { maxLen: number; padId: number; padToLongest?: boolean },
  ) {
    if (seqs.length !== labels.length) throw new Error(`SequenceDataset: ${seqs.length} sequences but ${labels.length} labels`);
  }
  get length(): number {
    return this.seqs.length;
  }
  batch(indices: ArrayLike<number>): PaddedBatch & { labels: Tensor } {
    const rows = Array.from(indices, (i) => this.seqs[i]);
    const labels = Int32Array.from(indices, (i) => this.labels[i]);
    return { ...padBatch(rows, this.opts.maxLen, this.opts.padId, this.opts), labels: new Tensor(labels, [labels.length], 'int32') };
  }
}


