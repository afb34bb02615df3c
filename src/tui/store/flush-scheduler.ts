export interface FlushSchedulerOptions {
  /** Minimum time between flushes. */
  intervalMs: number;
  /** While anyone listens, mark dirty this often so rates and clocks move on a quiet stream. */
  heartbeatMs?: number;
  now: () => number;
  /** Builds what listeners read; runs before they are told. */
  onFlush: () => void;
}

/**
 * Throttles flushes: a change marks the state dirty, and the flush runs at most once per
 * interval; listeners are told after each flush.
 */
export class FlushScheduler {
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastFlush = -Infinity;

  constructor(private readonly opts: FlushSchedulerOptions) {}

  /** Schedules a flush (no sooner than intervalMs after the last one) unless one is pending. */
  readonly markDirty = (): void => {
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.opts.intervalMs - this.opts.now());
    this.timer = setTimeout(this.flush, wait);
  };

  /** Flushes now and tells the listeners. */
  readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlush = this.opts.now();
    this.opts.onFlush();
    for (const l of this.listeners) l();
  };

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.heartbeat ??= setInterval(this.markDirty, this.opts.heartbeatMs ?? 1000);
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && this.heartbeat) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = this.heartbeat = undefined;
    this.listeners.clear();
  }
}
