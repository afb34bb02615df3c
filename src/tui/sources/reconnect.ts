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
        attempt = 0;
        opts.onStatus({ state: 'connected' });
        reason = await current.closed;
      } catch (err) {
        reason = err as Error;
      }
      if (current) await current.close().catch(() => {});
      current = undefined;
      if (ac.signal.aborted) break;
      attempt++;
      const retryInMs = backoffDelay(attempt, backoff);
      opts.onStatus({ state: 'reconnecting', attempt, retryInMs, error: reason?.message ?? 'connection closed' });
      await sleep(retryInMs, ac.signal);
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
      await running;
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
