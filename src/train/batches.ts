// Where a Trainer's batches come from, written so that a resumed run gets the very batches an
// uninterrupted run would have got. Two kinds cover every task:
//  - randomBatches(draw): each batch is drawn from tsgrad's seeded stream (nanoGPT's random
//    windows, lmBatch). It holds no state: restoring the random state restores the next batch.
//  - epochBatches(loader): a DataLoader's epochs. The position (epoch, batch index) and the
//    epoch's order are state, saved in the checkpoint; a new epoch's order is drawn from the
//    stream when its first batch is asked for, i.e. inside a step, never between steps.
import type { DataLoader } from '../data/loader.js';

/** A source of training batches. */
export interface BatchSource<B> {
  /** The next batch. May draw from tsgrad's random stream, and from nothing else. */
  next(): B;
  /** The position to store in a checkpoint (plain JSON). */
  state?(): unknown;
  /** Go back to a position that state() returned. */
  loadState?(state: unknown): void;
  /** Batches per epoch, for sources that go through a dataset in epochs. */
  readonly batchesPerEpoch?: number;
  /** Epochs done so far, fractional (1.5 = half-way through the second epoch). */
  epochsDone?(): number;
}

/** Batches drawn afresh each step by `draw`, e.g. `() => tg.data.lmBatch(ids, 64, 12)`. */
export function randomBatches<B>(draw: () => B): BatchSource<B> {
  return { next: draw };
}

export interface EpochBatchesOptions<B> {
  /** Applied to each batch when it is served (augmentation, MLM masking); may draw random numbers. */
  transform?: (batch: B) => B;
}

export interface EpochPosition {
  /** Epochs finished before the current one. */
  epoch: number;
  /** Batches of the current epoch already served. */
  index: number;
  /** The current epoch's order of examples (null before the first batch). */
  order: number[] | null;
}

/** A DataLoader's batches, epoch after epoch, with a position that a checkpoint can hold. */
export class EpochBatches<B> implements BatchSource<B> {
  private epoch = 0;
  private index = 0;
  private order: Int32Array | null = null;

  constructor(readonly loader: DataLoader<B>, private readonly opts: EpochBatchesOptions<B> = {}) {
    if (loader.length === 0) throw new Error(`epochBatches: the loader has no batches (${loader.dataset.length} examples, batch size ${loader.batchSize}${loader.dropLast ? ', dropLast' : ''})`);
  }

  get batchesPerEpoch(): number {
    return this.loader.length;
  }

  next(): B {
    if (this.order === null || this.index >= this.loader.length) {
      if (this.order !== null) this.epoch++;
      this.order = this.loader.order(); // a permutation drawn from the stream when shuffling
      this.index = 0;
    }
    const size = this.loader.batchSize;
    const batch = this.loader.dataset.batch(this.order.subarray(this.index * size, (this.index + 1) * size));
    this.index++;
    return this.opts.transform ? this.opts.transform(batch) : batch;
  }

  epochsDone(): number {
    return this.order === null ? 0 : this.epoch + this.index / this.loader.length;
  }

  state(): EpochPosition {
    return { epoch: this.epoch, index: this.index, order: this.order ? Array.from(this.order) : null };
  }

  loadState(state: unknown): void {
    const s = state as EpochPosition;
    const n = this.loader.dataset.length;
    const bad = (why: string) => new Error(`epochBatches.loadState: ${why}`);
    if (!s || typeof s !== 'object') throw bad('expected { epoch, index, order }');
    if (!Number.isInteger(s.epoch) || s.epoch < 0) throw bad(`epoch must be a non-negative integer (got ${JSON.stringify(s.epoch)})`);
    if (!Number.isInteger(s.index) || s.index < 0 || s.index > this.loader.length) throw bad(`index must be in [0, ${this.loader.length}] (got ${JSON.stringify(s.index)})`);
    if (s.order !== null) {
      if (!Array.isArray(s.order) || s.order.length !== n) throw bad(`the saved order has ${Array.isArray(s.order) ? s.order.length : 'no'} entries, the dataset ${n} examples (is it the same data?)`);
      if (!s.order.every((i) => Number.isInteger(i) && i >= 0 && i < n)) throw bad(`the saved order holds an index outside [0, ${n})`);
    }
    this.epoch = s.epoch;
    this.index = s.index;
    this.order = s.order === null ? null : Int32Array.from(s.order);
  }
}

/** epochBatches(loader): the loader's epochs as a resumable BatchSource. */
export function epochBatches<B>(loader: DataLoader<B>, opts: EpochBatchesOptions<B> = {}): EpochBatches<B> {
  return new EpochBatches(loader, opts);
}
