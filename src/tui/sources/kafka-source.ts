import { randomBytes } from 'node:crypto';
import { TOPIC_EVENTS, topicName, type FleetEvent } from '../../domain/events.js';
import type { EventBus, Subscription } from '../../ports/event-bus.js';
import { parseFleetEvent } from './parse-event.js';
import { createReconnectLoop, type Backoff, type Connection } from './reconnect.js';
import type { EventSource, EventSourceHandlers } from './types.js';

export interface KafkaSourceOptions {
  /** Opens a connected bus (e.g. createKafkaEventBus); called again after a loss. */
  connectBus: () => Promise<EventBus>;
  namespace: string;
  fromBeginning?: boolean;
  /** Defaults to `live-ops-cli-<random>`: one group per session so every tail sees every event. */
  groupId?: string;
  brokersLabel?: string;
  /** How often lag is polled; a failing poll is how a lost broker is noticed. */
  lagIntervalMs?: number;
  /** Consecutive failed lag polls that count as a lost connection. */
  lagFailuresToReconnect?: number;
  backoff?: Backoff;
}

export function sessionGroupId(): string {
  return `live-ops-cli-${randomBytes(4).toString('hex')}`;
}

/**
 * Tails fleet-events through the EventBus port. The bus has no connection callback, so health
 * is probed with lag(): it talks to the broker, and repeated failures trigger a reconnect.
 */
export function createKafkaSource(opts: KafkaSourceOptions): EventSource & { readonly groupId: string; readonly topic: string } {
  const topic = topicName(opts.namespace, TOPIC_EVENTS);
  const groupId = opts.groupId ?? sessionGroupId();
  const lagEvery = opts.lagIntervalMs ?? 2_000;
  const failuresToReconnect = opts.lagFailuresToReconnect ?? 2;
  let loop: ReturnType<typeof createReconnectLoop> | undefined;
  /** The bus of an attempt still joining its group; closed on stop so the attempt ends. */
  let connecting: EventBus | undefined;

  async function connect(h: EventSourceHandlers): Promise<Connection> {
    const bus = await opts.connectBus();
    connecting = bus;
    let sub: Subscription | undefined;
    try {
      // The topic may not exist yet (nothing produced, auto-create off): tailing it is still valid.
      await bus.ensureTopics([topic]);
      sub = await bus.subscribe({
        topic,
        groupId,
        fromBeginning: opts.fromBeginning ?? false,
        ephemeral: true,
        maxBatch: 1000,
        handleBatch: (records) => deliverRecords(records, h),
      });
    } catch (err) {
      await bus.close().catch(() => {});
      throw err;
    } finally {
      connecting = undefined;
    }
    return watchLag(bus, sub, h, { everyMs: lagEvery, failuresToReconnect });
  }

  return {
    kind: 'kafka',
    label: `kafka ${opts.brokersLabel ?? ''} ${topic}`.replace(/\s+/g, ' ').trim(),
    groupId,
    topic,
    async start(h) {
      loop = createReconnectLoop({ connect: () => connect(h), onStatus: h.onStatus, backoff: opts.backoff });
      loop.start();
    },
    async stop() {
      const pending = connecting;
      await Promise.all([loop?.stop(), pending?.close().catch(() => {})]);
    },
  };
}

/** Parses a batch of records: the events go to onEvents (awaited, for backpressure), the rest are counted as invalid. */
export async function deliverRecords(records: readonly { value: string }[], h: EventSourceHandlers): Promise<void> {
  const events: FleetEvent[] = [];
  let bad = 0;
  for (const r of records) {
    const e = parseFleetEvent(r.value);
    if (e) events.push(e);
    else bad++;
  }
  if (bad) h.onInvalid?.(bad);
  if (events.length) await h.onEvents(events);
}

/**
 * Polls the subscription's lag every `everyMs`, reporting it; `failuresToReconnect` failed polls in
 * a row close the connection with the last error, so the reconnect loop starts another.
 */
export function watchLag(bus: EventBus, sub: Subscription, h: EventSourceHandlers, opts: { everyMs: number; failuresToReconnect: number }): Connection {
  const { everyMs: lagEvery, failuresToReconnect } = opts;
  let settle!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (settle = r));
  let failures = 0;
  const poll = setInterval(async () => {
    try {
      // Probe first: `h.onLag?.(await …)` would skip the probe when nobody listens for lag.
      const lag = await withTimeout(sub.lag(), lagEvery * 2);
      h.onLag?.(lag);
      failures = 0;
    } catch (err) {
      h.onLag?.(undefined);
      if (++failures >= failuresToReconnect) settle(err as Error);
    }
  }, lagEvery);
  let closing: Promise<void> | undefined;
  return {
    closed,
    close: () =>
      (closing ??= (async () => {
        clearInterval(poll);
        settle(undefined);
        await withTimeout(sub.stop(), 5_000).catch(() => {});
        await withTimeout(bus.close(), 5_000).catch(() => {});
      })()),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
