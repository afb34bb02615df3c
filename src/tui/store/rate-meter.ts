export const RATE_BUCKET_MS = 250;
export const RATE_BUCKETS = 20; // 5 s window

/**
 * Events per second over a sliding window of fixed buckets (a ring indexed by time), so counting
 * is O(1) per batch and the rate decays to zero when the stream goes quiet.
 */
export class RateMeter {
  private readonly bucketIdx = new Array<number>(RATE_BUCKETS).fill(-1);
  private readonly bucketCount = new Array<number>(RATE_BUCKETS).fill(0);

  /** startedAt: before a full window has passed, the rate is over the time since then. */
  constructor(private readonly startedAt: number) {}

  /** Counts n events at time t (ms). */
  count(n: number, t: number): void {
    const idx = Math.floor(t / RATE_BUCKET_MS);
    const slot = idx % RATE_BUCKETS;
    if (this.bucketIdx[slot] !== idx) [this.bucketIdx[slot], this.bucketCount[slot]] = [idx, 0];
    this.bucketCount[slot] += n;
  }

  /** Events per second over the window ending at time t (ms). */
  rate(t: number): number {
    const idx = Math.floor(t / RATE_BUCKET_MS);
    let sum = 0;
    for (let i = 0; i < RATE_BUCKETS; i++) if (this.bucketIdx[i] > idx - RATE_BUCKETS && this.bucketIdx[i] <= idx) sum += this.bucketCount[i];
    const windowMs = Math.min(RATE_BUCKETS * RATE_BUCKET_MS, Math.max(RATE_BUCKET_MS, t - this.startedAt));
    return (sum * 1000) / windowMs;
  }
}
