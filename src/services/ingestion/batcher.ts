/** When the micro-batcher flushes and when it reports itself full. */
export interface BatcherOptions {
  /** Flush when this many items are queued. */
  maxBatch: number;
  /** Flush at the latest this long after the first queued item. */
  flushIntervalMs: number;
  /** Report full once this many items are buffered (waiting or being written); report free again at half. */
  highWater: number;
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { maxBatch: 2000, flushIntervalMs: 5, highWater: 10_000 };

/**
 * Queues items and hands them to `write` in batches of at most maxBatch, one write at a time
 * (sequential writes keep per-car order on the bus and in fleet state). `onFullChange(true)` fires
 * when the buffer — items waiting plus the batch being written, i.e. everything not yet written —
 * reaches highWater and `onFullChange(false)` once it is back to half, so the caller can pause its
 * producers in between. While the sink is down the batch being written is retried and counts, so
 * the bound holds however long the outage lasts.
 */
export class MicroBatcher<T> {
  private queue: T[] = [];
  /** Items of the batch being written. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private isFull = false;

  constructor(
    private readonly opts: BatcherOptions,
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly onFullChange: (full: boolean) => void = () => {},
  ) {}

  /** Items waiting for a write (not counting a batch being written). */
  get size(): number {
    return this.queue.length;
  }

  /** Items not yet written: waiting plus the batch being written. */
  get buffered(): number {
    return this.queue.length + this.inFlight;
  }

  /** Whether the buffer is past highWater (and not yet back to half). */
  get full(): boolean {
    return this.isFull;
  }

  push(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.opts.maxBatch) void this.flush();
    else if (!this.timer && !this.flushing) this.timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs);
    if (!this.isFull && this.buffered >= this.opts.highWater) this.setFull(true);
  }

  /** Writes what is queued now; resolves when the running write loop ends. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.flushing) {
      this.flushing = this.writeAll().finally(() => {
        this.flushing = undefined;
        this.releaseIfDrained();
        if (this.queue.length && !this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs);
      });
    }
    return this.flushing;
  }

  /** Flushes until nothing is queued or being written. */
  async drain(): Promise<void> {
    while (this.queue.length || this.flushing) await this.flush();
  }

  private async writeAll(): Promise<void> {
    const { maxBatch } = this.opts;
    while (this.queue.length) {
      const batch = this.queue.length <= maxBatch ? this.queue : this.queue.slice(0, maxBatch);
      this.queue = this.queue.length <= maxBatch ? [] : this.queue.slice(maxBatch);
      this.inFlight = batch.length;
      try {
        await this.write(batch);
      } finally {
        this.inFlight = 0;
      }
      this.releaseIfDrained();
    }
  }

  private releaseIfDrained(): void {
    if (this.isFull && this.buffered <= this.opts.highWater / 2) this.setFull(false);
  }

  private setFull(full: boolean): void {
    this.isFull = full;
    this.onFullChange(full);
  }
}
