import type { SourceStatus } from './types.js';

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: the share of each delay that is randomised, so many tails don't reconnect in lockstep. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2 };

export function backoffDelay(attempt: number, b: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - b.jitter + b.jitter * random()));
}

/** One live connection: `closed` settles when it is lost (with the reason) or closed by us. */
export interface Connection {
  closed: Promise<Error | undefined>;
  close(): Promise<void>;
}

export interface ReconnectLoop {
  /** Resolves once the loop runs (not once connected: the first attempt may fail and retry). */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Keeps a connection up: connect, wait until it is lost, back off, connect again, reporting
 * each state. Never throws: failures become `reconnecting` with the error and the next delay.
 */
export function createReconnectLoop(opts: {
  connect: () => Promise<Connection>;
  onStatus: (s: SourceStatus) => void;
  backoff?: Backoff;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A connection that lived this long resets the backoff; shorter ones keep escalating it. */
  stableMs?: number;
  /** How long stop() waits for a connect attempt in flight. */
  stopTimeoutMs?: number;
  /** Errors asking again cannot fix (a wrong token): the loop stops with a fatal `stopped`. */
  isFatal?: (err: Error) => boolean;
}): ReconnectLoop {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const sleep = opts.sleep ?? abortableSleep;
  const ac = new AbortController();
  let current: Connection | undefined;
  let running: Promise<void> | undefined;

  async function loop() {
    let attempt = 0;
    opts.onStatus({ state: 'connecting' });
    while (!ac.signal.aborted) {
      let reason: Error | undefined;
      try {
        current = await opts.connect();
        if (ac.signal.aborted) break;
        opts.onStatus({ state: 'connected' });
        const connectedAt = Date.now();
        reason = await current.closed;
        if (Date.now() - connectedAt >= (opts.stableMs ?? 5_000)) attempt = 0;
      } catch (err) {
        reason = err as Error;
      }
      if (ac.signal.aborted) break;
      if (reason && opts.isFatal?.(reason)) {
        if (current) await current.close().catch(() => {});
        opts.onStatus({ state: 'stopped', error: reason.message, fatal: true });
        return;
      }
      attempt++;
      const retryInMs = backoffDelay(attempt, backoff);
      // Say so at once; tearing down a dead connection can take a while.
      opts.onStatus({ state: 'reconnecting', attempt, retryInMs, error: reason?.message ?? 'connection closed' });
      const started = Date.now();
      if (current) await current.close().catch(() => {});
      current = undefined;
      await sleep(Math.max(0, retryInMs - (Date.now() - started)), ac.signal);
    }
    if (current) await current.close().catch(() => {});
    opts.onStatus({ state: 'stopped' });
  }

  return {
    start() {
      running ??= loop();
    },
    async stop() {
      ac.abort();
      await current?.close().catch(() => {});
      // A connect attempt in flight (e.g. a Kafka group join) may take long; don't hold the exit for it.
      await Promise.race([running, new Promise((r) => setTimeout(r, opts.stopTimeoutMs ?? 5_000).unref())]);
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
