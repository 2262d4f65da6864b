// A FIFO of synchronous jobs with a bounded wait list. Model work blocks the event loop, so it
// runs one job at a time; between jobs the loop turns once (setImmediate), so that new requests
// are read, answered 503 when the list is full, or queued behind the others: first come, first
// served, nobody starves. A job whose client has gone is dropped before it runs.

export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`the server is busy: ${limit} requests are already waiting; retry later`);
  }
}

interface Job<T> {
  run: () => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  cancelled: () => boolean;
}

export interface JobTiming {
  /** Milliseconds spent waiting in the queue, then running. */
  queueMs: number;
  runMs: number;
}

export class WorkQueue {
  readonly #waiting: Job<any>[] = [];
  #running = false;
  #scheduled = false;
  #idle: (() => void)[] = [];

  /** maxWaiting: jobs that may wait behind the running one before push() refuses. */
  constructor(readonly maxWaiting: number) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new Error(`WorkQueue: maxWaiting must be a non-negative integer (got ${maxWaiting})`);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get busy(): boolean {
    return this.#running;
  }

  /**
   * Run `job` after those already queued; resolves to its result and timing. Throws
   * QueueFullError at once when maxWaiting jobs are waiting. `cancelled()` is asked just before
   * the job would run: true drops it (its promise then rejects).
   */
  push<T>(run: () => T, cancelled: () => boolean = () => false): Promise<{ value: T; timing: JobTiming }> {
    if (this.#waiting.length >= this.maxWaiting) return Promise.reject(new QueueFullError(this.maxWaiting));
    return new Promise((resolve, reject) => {
      const enqueuedAt = performance.now();
      this.#waiting.push({
        run: () => {
          const start = performance.now();
          const value = run();
          return { value, timing: { queueMs: start - enqueuedAt, runMs: performance.now() - start } };
        },
        resolve, reject, cancelled,
      });
      this.#schedule();
    });
  }

  /** Refuse every job still waiting (the running one finishes): a shutdown's drain deadline has passed. */
  rejectWaiting(error: unknown): number {
    const dropped = this.#waiting.splice(0);
    for (const job of dropped) job.reject(error);
    return dropped.length;
  }

  /** Resolves once nothing is running or waiting. */
  drained(): Promise<void> {
    if (!this.#running && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => this.#next());
  }

  #next(): void {
    this.#scheduled = false;
    const job = this.#waiting.shift();
    if (!job) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#running = true;
    try {
      if (job.cancelled()) job.reject(new Error('cancelled: the client went away'));
      else job.resolve(job.run());
    } catch (e) {
      job.reject(e);
    } finally {
      this.#running = false;
    }
    // always come back once more, so the idle waiters are told when the list runs empty
    this.#scheduled = true;
    setImmediate(() => this.#next());
  }
}
