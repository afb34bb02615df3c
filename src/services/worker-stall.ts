/**
 * Tells when a partition of the worker is stuck: it has records it cannot persist (its batch keeps
 * failing, or a write hangs) for longer than `stallAfterMs`, while its lag does not shrink. The
 * worker's /ready turns false with the reason, so an orchestrator or an operator sees it.
 */

export interface StallDetectorOptions {
  /** No progress for this long (ms) while lag is not shrinking = stalled. */
  stallAfterMs: number;
  now?: () => number;
}

export interface PartitionStall {
  partition: number;
  /** Since when (ms) the partition has had work it could not finish. */
  since: number;
  /** Lag when the stall began and now (per partition when the bus knows it, else the whole topic). */
  lagAtStart?: number;
  lag?: number;
  lastError?: string;
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

interface PartitionState {
  pendingSince?: number;
  lagAtStart?: number;
  lastError?: string;
}

export interface StallDetector {
  /** A batch of this partition was handed to the worker. */
  begin(partition: number): void;
  /** The batch was persisted: the partition progressed. */
  done(partition: number): void;
  /** The batch failed and will be delivered again. */
  failed(partition: number, err: unknown): void;
  /**
   * The partitions stalled now. `lag` is per partition (a Map) or for the whole topic (a number);
   * undefined when unknown, in which case time alone decides.
   */
  check(lag?: Map<number, number> | number): PartitionStall[];
}

export function createStallDetector(opts: StallDetectorOptions): StallDetector {
  const now = opts.now ?? Date.now;
  const parts = new Map<number, PartitionState>();
  const state = (p: number) => parts.get(p) ?? parts.set(p, {}).get(p)!;
  const lagOf = (lag: Map<number, number> | number | undefined, p: number) => (typeof lag === 'number' ? lag : lag?.get(p));

  return {
    begin(p) {
      const s = state(p);
      s.pendingSince ??= now();
    },
    done(p) {
      parts.set(p, {});
    },
    failed(p, err) {
      const s = state(p);
      s.pendingSince ??= now();
      s.lastError = err instanceof Error ? err.message : String(err);
    },
    check(lag) {
      const t = now();
      const stalls: PartitionStall[] = [];
      for (const [partition, s] of parts) {
        if (s.pendingSince === undefined) continue;
        const current = lagOf(lag, partition);
        // The first lag seen while pending is the baseline the partition must work below.
        if (s.lagAtStart === undefined && current !== undefined) s.lagAtStart = current;
        if (t - s.pendingSince < opts.stallAfterMs) continue;
        // Lag shrinking (or gone) means it is slow, not stuck.
        if (current !== undefined && (current === 0 || (s.lagAtStart !== undefined && current < s.lagAtStart))) continue;
        stalls.push({ partition, since: s.pendingSince, lagAtStart: s.lagAtStart, lag: current, lastError: s.lastError });
      }
      return stalls;
    },
  };
}

/** The /ready answer for a list of stalls: one sentence per stalled partition. */
export function readinessOf(stalls: PartitionStall[], now: number): Readiness {
  if (stalls.length === 0) return { ready: true };
  const parts = stalls.map((s) => {
    const lag = s.lag === undefined ? '' : `, lag ${s.lagAtStart ?? '?'} → ${s.lag}`;
    const err = s.lastError ? `, last error: ${s.lastError}` : '';
    return `partition ${s.partition} has made no progress for ${Math.round((now - s.since) / 1000)} s${lag}${err}`;
  });
  return { ready: false, reason: `stalled: ${parts.join('; ')}` };
}
