import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { TOPIC_DLQ, TOPIC_EVENTS, WORKER_GROUP, topicName } from '../domain/events.js';
import type { Logger } from '../observability/logger.js';
import type { BusRecord, ConsumedRecord, EventBus, Subscription } from '../ports/event-bus.js';
import type { PriceSource } from '../ports/price-source.js';
import type { BookingRow, SessionRow, Store, TelemetryRow } from '../ports/store.js';
import { timed } from '../observability/metrics.js';
import { parseEvent, rowsForEvent, type DlqPayload, type DlqReason } from './worker-events.js';
import { workerMetrics, type WorkerMetrics } from './worker-metrics.js';
import { allOrWorst, storeErrorDetail, writeBisecting } from './worker-store.js';
import { createStallDetector, readinessOf, type PartitionStall, type Readiness } from './worker-stall.js';

export { parseEvent, rowsForEvent, type DlqPayload, type DlqReason, type EventRows } from './worker-events.js';
export { classifyStoreError, writeBisecting } from './worker-store.js';
export type { Readiness } from './worker-stall.js';

export interface WorkerDeps {
  bus: EventBus;
  store: Store;
  prices: PriceSource;
  namespace: string;
  logger: Logger;
  registry: Registry;
  groupId?: string;
  /** Records per batch (a hint to the bus; default 1000). */
  maxBatch?: number;
  /** A partition with no progress for this long (ms) while its lag does not shrink makes the worker not ready (default 60 s). */
  stallAfterMs?: number;
  /** The clock for stall detection (tests). */
  now?: () => number;
}

export const DEFAULT_STALL_AFTER_MS = 60_000;

export interface WorkerStats {
  batches: number;
  failedBatches: number;
  events: number;
  telemetryRows: number;
  bookingRows: number;
  sessionRows: number;
  dlq: number;
  lastBatchAt: number | null;
  priceStale: boolean;
}

export interface Worker {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Consuming and, at the last check, no partition stalled. */
  ready(): boolean;
  /** Checks for stalled partitions now (reads the lag): ready, or not with the reason. */
  readiness(): Promise<Readiness>;
  stats(): WorkerStats;
  /** Records on fleet-events not yet persisted by this group (undefined before start or when unknown). */
  lag(): Promise<number | undefined>;
}

/** A valid record and the row it becomes (booking events that carry no row have none). */
interface RowItem {
  record: ConsumedRecord;
  telemetry?: TelemetryRow;
  booking?: BookingRow;
  session?: SessionRow;
}

/** One consumed batch, sorted into rows to insert and records for the DLQ. */
interface BatchRows {
  items: RowItem[];
  dlq: { record: BusRecord; reason: DlqReason }[];
  /** Valid events by event_type. */
  types: Map<string, number>;
}

/** The DLQ record for a record the worker cannot use: the original value plus where it came from and why. */
export function toDlqRecord(rec: ConsumedRecord, reason: DlqReason, detail: string, now = Date.now()): BusRecord {
  const payload: DlqPayload = { reason, detail, original: rec.value, topic: rec.topic, partition: rec.partition, offset: rec.offset, failed_at: now };
  return { key: rec.key || 'unknown', value: JSON.stringify(payload) };
}

/** Parses every record and prices it: telemetry at its own timestamp, sessions that do not state a rate at their start. */
export async function rowsForBatch(records: ConsumedRecord[], priceOf: (t: number) => Promise<number | null>): Promise<BatchRows> {
  const out: BatchRows = { items: [], dlq: [], types: new Map() };
  // One lookup per distinct instant in the batch (cars of one tick share it), and no await per event.
  const prices = new Map<number, number | null>();
  const priceAt = async (t: number): Promise<number | null> => {
    if (prices.has(t)) return prices.get(t)!;
    const p = await priceOf(t);
    prices.set(t, p);
    return p;
  };
  for (const rec of records) {
    const parsed = parseEvent(rec.value);
    if (!parsed.ok) {
      out.dlq.push({ record: toDlqRecord(rec, parsed.reason, parsed.detail), reason: parsed.reason });
      continue;
    }
    const e = parsed.event;
    out.types.set(e.event_type, (out.types.get(e.event_type) ?? 0) + 1);
    if (e.event_type === 'telemetry') {
      const priceRate = prices.has(e.timestamp) ? prices.get(e.timestamp)! : await priceAt(e.timestamp);
      out.items.push({ record: rec, telemetry: { eventId: e.event_id, carId: e.car_id, time: e.timestamp, lat: e.lat, lon: e.lon, battery: e.battery, velocity: e.velocity, priceRate } });
    } else {
      const rows = await rowsForEvent(e, async (t) => (await priceAt(t)) ?? 0);
      if (rows.booking || rows.session) out.items.push({ record: rec, ...rows });
    }
  }
  return out;
}

interface BatchOutcome {
  tRows: number;
  bRows: number;
  sRows: number;
  types: Map<string, number>;
  dlq: { reason: DlqReason }[];
  seconds: number;
}

/** Counts a persisted batch in the stats and metrics. */
function recordBatch(stats: WorkerStats, metrics: WorkerMetrics, r: BatchOutcome): void {
  stats.batches++;
  stats.lastBatchAt = Date.now();
  stats.telemetryRows += r.tRows;
  stats.bookingRows += r.bRows;
  stats.sessionRows += r.sRows;
  stats.dlq += r.dlq.length;
  metrics.rows.inc({ table: 'telemetry' }, r.tRows);
  metrics.rows.inc({ table: 'bookings' }, r.bRows);
  metrics.rows.inc({ table: 'charging_sessions' }, r.sRows);
  for (const [type, n] of r.types) {
    stats.events += n;
    metrics.events.inc({ type }, n);
  }
  for (const d of r.dlq) {
    metrics.events.inc({ type: 'invalid' });
    metrics.dlq.inc({ reason: d.reason });
  }
  metrics.duration.observe(r.seconds);
}

/** Writes the rows of some items, the tables at once; idempotent. Returns the rows newly inserted per table. */
async function writeRows(store: Store, metrics: WorkerMetrics, items: RowItem[]): Promise<[number, number, number]> {
  const db = (op: string) => ({ engine: store.kind, op });
  // One row per event_id (a batch may carry a re-delivery).
  const telemetry = new Map<string, TelemetryRow>();
  const bookings: BookingRow[] = [];
  const sessions: SessionRow[] = [];
  for (const it of items) {
    if (it.telemetry) telemetry.set(it.telemetry.eventId, it.telemetry);
    if (it.booking) bookings.push(it.booking);
    if (it.session) sessions.push(it.session);
  }
  const [t, b, s] = await allOrWorst([
    telemetry.size ? timed(metrics.engine, db('insert_telemetry'), store.insertTelemetry([...telemetry.values()])) : 0,
    bookings.length ? timed(metrics.engine, db('insert_bookings'), store.insertBookings(bookings)) : 0,
    sessions.length ? timed(metrics.engine, db('insert_sessions'), store.insertSessions(sessions)) : 0,
  ]);
  return [t, b, s] as [number, number, number];
}

/**
 * Writes a batch's rows and DLQ records; resolves only once they are durable. A data error is
 * bisected (worker-store.ts): the records the store refuses join the DLQ with its error, the rest
 * are written. A transient error throws, so the whole batch is delivered again.
 * Returns the rows newly inserted per table.
 */
async function persistBatch(deps: Pick<WorkerDeps, 'store' | 'bus'>, metrics: WorkerMetrics, dlqTopic: string, rows: BatchRows): Promise<[number, number, number]> {
  const { store, bus } = deps;
  const result = await writeBisecting(rows.items, (items) => writeRows(store, metrics, items));
  for (const { item, err } of result.rejected) rows.dlq.push({ record: toDlqRecord(item.record, 'store_rejected', storeErrorDetail(err)), reason: 'store_rejected' });
  if (rows.dlq.length) await timed(metrics.engine, { engine: bus.kind, op: 'publish_dlq' }, bus.publish(dlqTopic, rows.dlq.map((d) => d.record)));
  return result.written.reduce<[number, number, number]>((sum, [t, b, s]) => [sum[0] + t, sum[1] + b, sum[2] + s], [0, 0, 0]);
}

/**
 * Not ready when not consuming: stopped, or its Kafka consumer crashed and is being restarted
 * (src/adapters/kafka/supervised-consumer.ts). Undefined when consuming (the stall check decides).
 */
function consumerReadiness(running: boolean, subscription: Subscription | undefined): Readiness | undefined {
  if (!running) return { ready: false, reason: 'not consuming' };
  const health = subscription?.health?.();
  if (health && !health.consuming) return { ready: false, reason: `not consuming: ${health.reason ?? 'consumer down'}` };
  return undefined;
}

// ---- the worker ----

/**
 * The pricing worker: consumes fleet-events in batches as `pricing-worker-group`, prices each
 * telemetry event at its own timestamp (from a cached curve), writes the batch idempotently and
 * only then returns, so the bus commits offsets after the rows are durable. Bad records go to the
 * DLQ and the partition moves on; a store failure throws so the batch is delivered again.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { bus, prices } = deps;
  // Namespaced like the topic, so tests and tenants sharing a broker never share (and rebalance) a group.
  const groupId = deps.groupId ?? topicName(deps.namespace, WORKER_GROUP);
  const eventsTopic = topicName(deps.namespace, TOPIC_EVENTS);
  const dlqTopic = topicName(deps.namespace, TOPIC_DLQ);
  const log = deps.logger.child({ service: 'worker', groupId, topic: eventsTopic });
  const metrics = workerMetrics(deps.registry, () => subscription?.lag());
  const stats: WorkerStats = { batches: 0, failedBatches: 0, events: 0, telemetryRows: 0, bookingRows: 0, sessionRows: 0, dlq: 0, lastBatchAt: null, priceStale: false };
  let subscription: Subscription | undefined;
  let running = false;
  const now = deps.now ?? Date.now;
  const stallAfterMs = deps.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
  const stall = createStallDetector({ stallAfterMs, now });
  let stalls: PartitionStall[] = [];
  let stallTimer: NodeJS.Timeout | undefined;

  /** Reads the lag, finds stalled partitions and logs when the verdict changes. */
  async function checkStalls(): Promise<Readiness> {
    const lag = subscription ? await (subscription.lagByPartition?.() ?? subscription.lag()) : undefined;
    const found = stall.check(lag);
    const verdict = readinessOf(found, now());
    if (found.length && !stalls.length) log.error({ stalls: found, stallAfterMs }, `worker not ready: ${verdict.reason}`);
    else if (!found.length && stalls.length) log.info({ partitions: stalls.map((s) => s.partition) }, 'worker ready again: stalled partitions are making progress');
    stalls = found;
    return verdict;
  }

  const priceOf = async (t: number): Promise<number | null> => {
    try {
      return (await prices.priceAt(t)).price_per_kwh;
    } catch (err) {
      log.error({ err }, 'price source threw; writing the row without a price');
      return null;
    }
  };

  async function handleBatch(records: ConsumedRecord[]): Promise<void> {
    const t0 = performance.now();
    const partition = records[0]?.partition ?? 0;
    stall.begin(partition);
    const rows = await rowsForBatch(records, priceOf);
    try {
      // Durable before we return: the bus commits the offsets only after this resolves.
      const [tRows, bRows, sRows] = await persistBatch(deps, metrics, dlqTopic, rows);
      recordBatch(stats, metrics, { tRows, bRows, sRows, types: rows.types, dlq: rows.dlq, seconds: (performance.now() - t0) / 1000 });
      stall.done(partition);
      stats.priceStale = Boolean(prices.stale);
      metrics.stale.set(stats.priceStale ? 1 : 0);
      if (rows.dlq.length) log.warn({ count: rows.dlq.length, reasons: [...new Set(rows.dlq.map((d) => d.reason))], dlqTopic, partition: records[0]?.partition }, 'records sent to the DLQ');
    } catch (err) {
      stats.failedBatches++;
      metrics.failures.inc();
      stall.failed(partition, err);
      log.warn({ err, records: records.length, partition: records[0]?.partition, offset: records[0]?.offset }, 'batch not persisted; it will be delivered again');
      throw err;
    }
  }

  async function stop(): Promise<void> {
    const sub = subscription;
    subscription = undefined;
    running = false;
    clearInterval(stallTimer);
    if (sub) {
      await sub.stop(); // lets the in-flight batch finish and commit
      log.info(stats, 'worker stopped');
    }
  }

  return {
    async start(signal) {
      if (running) return;
      await bus.ensureTopics([eventsTopic, dlqTopic]);
      // handleBatch keeps no state across calls, so the default 3 partitions may be written concurrently.
      subscription = await bus.subscribe({ topic: eventsTopic, groupId, fromBeginning: true, maxBatch: deps.maxBatch ?? 1000, concurrentPartitions: 3, handleBatch });
      running = true;
      // Checked on a timer too, so the log says it even when nobody polls /ready.
      stallTimer = setInterval(() => void checkStalls().catch(() => undefined), Math.max(1_000, Math.min(stallAfterMs / 2, 10_000)));
      stallTimer.unref();
      signal?.addEventListener('abort', () => void stop(), { once: true });
      log.info({ dlqTopic }, 'worker consuming');
    },
    stop,
    ready: () => running && stalls.length === 0 && subscription?.health?.().consuming !== false,
    readiness: async () => consumerReadiness(running, subscription) ?? checkStalls(),
    stats: () => ({ ...stats, priceStale: Boolean(prices.stale) }),
    lag: async () => subscription?.lag(),
  };
}
