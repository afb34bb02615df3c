import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { ConsumerHealth } from '../../ports/event-bus.js';

/**
 * Keeps a kafkajs consumer consuming. kafkajs restarts its consumer after a crash only when it
 * judges the error retriable; some crashes after a broker outage are not — e.g. its
 * KafkaJSGroupCoordinatorNotFound, raised when the group coordinator (the `__consumer_offsets`
 * partition, still loading after the broker restarted) does not answer within the retries — and
 * then the consumer stays disconnected for good while the process looks healthy: the worker stopped
 * persisting after a chaos run's Kafka restart that way. Here a crash kafkajs will not restart, or a
 * consumer that shows no sign of life (no fetch, heartbeat, join, commit or crash) for `deadAfterMs`
 * while no batch is being handled, is disconnected and replaced by a fresh one, with backoff, until
 * stopped. `health()` says whether it is consuming, and why not.
 */
export interface SupervisedConsumerOptions {
  /** Creates, connects, subscribes and runs a consumer (throws when it cannot). */
  open: () => Promise<Consumer>;
  logger: Logger;
  topic: string;
  groupId: string;
  /** No sign of life for this long (ms) while no batch is in a handler = dead (default 30 s). */
  deadAfterMs?: number;
  /** Batches in a handler now: a long handler is the worker's own stall to report, not a dead consumer. */
  busy: () => number;
  /** Called with every consumer opened (the first one included). */
  onConsumer?: (consumer: Consumer) => void;
}

export interface SupervisedConsumer {
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

export const DEFAULT_DEAD_AFTER_MS = 30_000;
const MAX_REOPEN_BACKOFF_MS = 10_000;
/** An old consumer's disconnect is not waited for longer than this before its replacement opens. */
const DISCONNECT_WAIT_MS = 5_000;

export async function superviseConsumer(o: SupervisedConsumerOptions): Promise<SupervisedConsumer> {
  const deadAfterMs = o.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
  const log = o.logger;
  const fields = { topic: o.topic, groupId: o.groupId };
  let current: Consumer = await o.open();
  let lastAlive = Date.now();
  /** Set while the consumer is crashed or being replaced: why it is not consuming. */
  let down: string | undefined;
  let replacing: Promise<void> | undefined;
  let stopping = false;
  let restarts = 0;

  const watch = (consumer: Consumer): void => {
    const alive = () => {
      if (consumer !== current) return;
      lastAlive = Date.now();
      if (down) log.info({ ...fields, restarts }, 'kafka consumer consuming again');
      down = undefined;
    };
    const e = consumer.events;
    for (const ev of [e.FETCH_START, e.FETCH, e.START_BATCH_PROCESS, e.END_BATCH_PROCESS, e.HEARTBEAT, e.GROUP_JOIN, e.COMMIT_OFFSETS]) consumer.on(ev, alive);
    consumer.on(e.CRASH, ({ payload }) => {
      if (consumer !== current || stopping) return;
      lastAlive = Date.now(); // kafkajs is working on it (a restart it schedules) or we replace it now
      down = `consumer crashed: ${payload.error.message}`;
      log.error({ ...fields, err: payload.error, restart: payload.restart }, payload.restart ? 'kafka consumer crashed; kafkajs restarts it' : 'kafka consumer crashed and kafkajs will not restart it; replacing it');
      if (!payload.restart) void replace(down);
    });
    o.onConsumer?.(consumer);
  };
  watch(current);

  function replace(reason: string): Promise<void> {
    replacing ??= (async () => {
      down = reason;
      const old = current;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([old.disconnect().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, DISCONNECT_WAIT_MS)))]);
      clearTimeout(timer);
      for (let backoff = 500; !stopping; backoff = Math.min(backoff * 2, MAX_REOPEN_BACKOFF_MS)) {
        try {
          const next = await o.open();
          if (stopping) {
            await next.disconnect().catch(() => undefined);
            return;
          }
          current = next;
          restarts++;
          lastAlive = Date.now();
          watch(next);
          log.warn({ ...fields, restarts, reason }, 'kafka consumer replaced');
          return;
        } catch (err) {
          down = `${reason}; reopening failed: ${(err as Error).message}`;
          log.warn({ ...fields, err, backoffMs: backoff }, 'kafka consumer could not be reopened; retrying');
          await new Promise((r) => setTimeout(r, backoff));
        }
      }
    })().finally(() => {
      replacing = undefined;
    });
    return replacing;
  }

  const timer = every(Math.max(250, Math.min(deadAfterMs / 4, 5_000)), () => {
    if (stopping || replacing || o.busy() > 0) return;
    const silentMs = Date.now() - lastAlive;
    if (silentMs <= deadAfterMs) return;
    log.error({ ...fields, silentMs }, 'kafka consumer shows no sign of life; replacing it');
    void replace(`no sign of life from the consumer for ${Math.round(silentMs / 1000)} s`);
  });

  return {
    health: () => ({ consuming: !down && !replacing, reason: down, restarts }),
    async stop() {
      stopping = true;
      clearInterval(timer);
      await replacing;
      await current.disconnect();
    },
  };
}

function every(ms: number, fn: () => void): NodeJS.Timeout {
  const timer = setInterval(fn, ms);
  timer.unref();
  return timer;
}
