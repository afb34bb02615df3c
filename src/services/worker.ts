import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { TOPIC_DLQ, TOPIC_EVENTS, WORKER_GROUP, eventTypes, topicName, type BookingEvent, type FleetEvent, type TelemetryEvent } from '../domain/events.js';
import type { Logger } from '../observability/logger.js';
import type { BusRecord, ConsumedRecord, EventBus, Subscription } from '../ports/event-bus.js';
import type { PriceSource } from '../ports/price-source.js';
import type { BookingRow, SessionRow, Store, TelemetryRow } from '../ports/store.js';
import { engineLatency, timed } from '../observability/metrics.js';
import { validateTelemetryEvent } from '../domain/telemetry.js';

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
}

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
  ready(): boolean;
  stats(): WorkerStats;
  /** Records on fleet-events not yet persisted by this group (undefined before start or when unknown). */
  lag(): Promise<number | undefined>;
}

/** What the worker publishes to fleet-events.dlq for a record it cannot use. */
export interface DlqPayload {
  reason: DlqReason;
  detail: string;
  /** The record value exactly as consumed. */
  original: string;
  topic: string;
  partition: number;
  offset: string;
  failed_at: number;
}

export type DlqReason = 'unparseable_json' | 'not_an_object' | 'unknown_event_type' | 'invalid_event';

// ---- event validation (the shapes of src/domain/events.ts) ----

const eventTime = z.number().refine(Number.isFinite, 'must be a finite number').refine((v) => v > 0, 'must be positive Unix ms');

const otherEventSchema = z.looseObject({
  event_id: z.string().min(1).max(200),
  event_type: z.enum(eventTypes.filter((t) => t !== 'telemetry') as [BookingEvent['event_type'], ...BookingEvent['event_type'][]]),
  car_id: z.string().min(1).max(64),
  timestamp: eventTime,
  booking_id: z.string().min(1).optional(),
  station_id: z.string().min(1).optional(),
});

type Parsed = { ok: true; event: FleetEvent } | { ok: false; reason: DlqReason; detail: string };

/** Parses and validates one record value; never throws. */
export function parseEvent(value: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    return { ok: false, reason: 'unparseable_json', detail: (err as Error).message };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'not_an_object', detail: `expected a JSON object, got ${Array.isArray(json) ? 'array' : typeof json}` };
  const type = (json as { event_type?: unknown }).event_type;
  if (!eventTypes.includes(type as never)) return { ok: false, reason: 'unknown_event_type', detail: `event_type ${JSON.stringify(type)} is not one of ${eventTypes.join(', ')}` };
  // Telemetry is checked by the very rules ingress applies (src/domain/telemetry.ts), so the DLQ gets what ingress would refuse.
  if (type === 'telemetry') {
    const t = validateTelemetryEvent(json as Record<string, unknown>);
    if (!t.ok) return { ok: false, reason: 'invalid_event', detail: `${t.field}: ${t.reason}` };
    if (!t.event.event_id) t.event.event_id = legacyEventId(t.event);
    return { ok: true, event: t.event };
  }
  const result = otherEventSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, reason: 'invalid_event', detail: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, event: result.data as FleetEvent };
}

/**
 * The original producers sent telemetry without event_id. A car reports one reading per
 * instant, so car_id + timestamp identifies it and keeps re-deliveries idempotent.
 */
function legacyEventId(e: Pick<TelemetryEvent, 'car_id' | 'timestamp'>): string {
  return `legacy:${e.car_id}:${e.timestamp}`;
}

// ---- mapping events to rows (extend here when new event payloads appear) ----

export interface EventRows {
  booking?: BookingRow;
  session?: SessionRow;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * Booking and charging events → rows. booking_* events become bookings rows with whatever they
 * carry; charging_started / charging_completed become charging_sessions rows when they carry a
 * session (session_id, station_id). `priceAt` prices sessions that do not state their rate.
 */
export async function rowsForEvent(e: BookingEvent, priceAt: (t: number) => Promise<number>): Promise<EventRows> {
  if (e.event_type.startsWith('booking_')) {
    return {
      booking: {
        eventId: e.event_id,
        bookingId: e.booking_id ?? e.event_id,
        carId: e.car_id,
        stationId: e.station_id ?? null,
        status: str(e.status) ?? e.event_type.slice('booking_'.length),
        time: e.timestamp,
        expiresAt: num(e.expires_at),
        // A failed booking may explain itself only in its human message.
        reason: str(e.reason) ?? (e.event_type === 'booking_failed' ? str(e.message) : null),
      },
    };
  }
  if ((e.event_type === 'charging_started' || e.event_type === 'charging_completed') && str(e.session_id) && e.station_id) {
    const completed = e.event_type === 'charging_completed';
    const start = num(e.started_at) ?? num(e.start_time) ?? e.timestamp;
    const end = completed ? (num(e.ended_at) ?? num(e.end_time) ?? e.timestamp) : null;
    const kwh = num(e.kwh_usage) ?? num(e.kwh) ?? 0;
    const cost = num(e.cost);
    const rate = num(e.price_rate) ?? (cost !== null && kwh > 0 ? cost / kwh : await priceAt(start));
    return {
      session: {
        sessionId: e.session_id as string,
        stationId: e.station_id,
        carId: e.car_id,
        time: start,
        endTime: end,
        startBattery: num(e.start_battery),
        endBattery: num(e.end_battery),
        kwhUsage: kwh,
        priceRate: rate,
        cost: cost ?? (completed ? kwh * rate : null),
      },
    };
  }
  return {};
}

// ---- the worker ----

/**
 * The pricing worker: consumes fleet-events in batches as `pricing-worker-group`, prices each
 * telemetry event at its own timestamp (from a cached curve), writes the batch idempotently and
 * only then returns, so the bus commits offsets after the rows are durable. Bad records go to the
 * DLQ and the partition moves on; a store failure throws so the batch is delivered again.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { bus, store, prices } = deps;
  // Namespaced like the topic, so tests and tenants sharing a broker never share (and rebalance) a group.
  const groupId = deps.groupId ?? topicName(deps.namespace, WORKER_GROUP);
  const eventsTopic = topicName(deps.namespace, TOPIC_EVENTS);
  const dlqTopic = topicName(deps.namespace, TOPIC_DLQ);
  const log = deps.logger.child({ service: 'worker', groupId, topic: eventsTopic });
  const metrics = workerMetrics(deps.registry, () => subscription?.lag());
  const stats: WorkerStats = { batches: 0, failedBatches: 0, events: 0, telemetryRows: 0, bookingRows: 0, sessionRows: 0, dlq: 0, lastBatchAt: null, priceStale: false };
  let subscription: Subscription | undefined;
  let running = false;

  const priceOf = async (t: number): Promise<number | null> => {
    try {
      return (await prices.priceAt(t)).price_per_kwh;
    } catch (err) {
      log.error({ err }, 'price source threw; writing the row without a price');
      return null;
    }
  };

  function toDlq(rec: ConsumedRecord, reason: DlqReason, detail: string): BusRecord {
    const payload: DlqPayload = { reason, detail, original: rec.value, topic: rec.topic, partition: rec.partition, offset: rec.offset, failed_at: Date.now() };
    return { key: rec.key || 'unknown', value: JSON.stringify(payload) };
  }

  async function handleBatch(records: ConsumedRecord[]): Promise<void> {
    const t0 = performance.now();
    const telemetry = new Map<string, TelemetryRow>();
    const bookings: BookingRow[] = [];
    const sessions: SessionRow[] = [];
    const dlq: { record: BusRecord; reason: DlqReason }[] = [];
    const types = new Map<string, number>();
    for (const rec of records) {
      const parsed = parseEvent(rec.value);
      if (!parsed.ok) {
        dlq.push({ record: toDlq(rec, parsed.reason, parsed.detail), reason: parsed.reason });
        continue;
      }
      const e = parsed.event;
      types.set(e.event_type, (types.get(e.event_type) ?? 0) + 1);
      if (e.event_type === 'telemetry') {
        telemetry.set(e.event_id, { eventId: e.event_id, carId: e.car_id, time: e.timestamp, lat: e.lat, lon: e.lon, battery: e.battery, velocity: e.velocity, priceRate: await priceOf(e.timestamp) });
      } else {
        const rows = await rowsForEvent(e, async (t) => (await priceOf(t)) ?? 0);
        if (rows.booking) bookings.push(rows.booking);
        if (rows.session) sessions.push(rows.session);
      }
    }
    try {
      // Durable before we return: the bus commits the offsets only after this resolves.
      const db = (op: string) => ({ engine: store.kind, op });
      const [tRows, bRows, sRows] = await Promise.all([
        telemetry.size ? timed(metrics.engine, db('insert_telemetry'), store.insertTelemetry([...telemetry.values()])) : 0,
        bookings.length ? timed(metrics.engine, db('insert_bookings'), store.insertBookings(bookings)) : 0,
        sessions.length ? timed(metrics.engine, db('insert_sessions'), store.insertSessions(sessions)) : 0,
      ]);
      if (dlq.length) await timed(metrics.engine, { engine: bus.kind, op: 'publish_dlq' }, bus.publish(dlqTopic, dlq.map((d) => d.record)));
      record({ tRows, bRows, sRows, types, dlq, seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      stats.failedBatches++;
      metrics.failures.inc();
      log.warn({ err, records: records.length, partition: records[0]?.partition, offset: records[0]?.offset }, 'batch not persisted; it will be delivered again');
      throw err;
    }
  }

  function record(r: { tRows: number; bRows: number; sRows: number; types: Map<string, number>; dlq: { reason: DlqReason }[]; seconds: number }): void {
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
    stats.priceStale = Boolean(prices.stale);
    metrics.stale.set(stats.priceStale ? 1 : 0);
    if (r.dlq.length) log.warn({ count: r.dlq.length, reasons: [...new Set(r.dlq.map((d) => d.reason))], dlqTopic }, 'records sent to the DLQ');
  }

  async function stop(): Promise<void> {
    const sub = subscription;
    subscription = undefined;
    running = false;
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
      signal?.addEventListener('abort', () => void stop(), { once: true });
      log.info({ dlqTopic }, 'worker consuming');
    },
    stop,
    ready: () => running,
    stats: () => ({ ...stats, priceStale: Boolean(prices.stale) }),
    lag: async () => subscription?.lag(),
  };
}

function workerMetrics(registry: Registry, lag: () => Promise<number | undefined> | undefined) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    events: get('greenlane_worker_events_total', () => new Counter({ name: 'greenlane_worker_events_total', help: 'Events consumed, by event_type (invalid = sent to the DLQ).', labelNames: ['type'], registers })),
    rows: get('greenlane_worker_rows_written_total', () => new Counter({ name: 'greenlane_worker_rows_written_total', help: 'Rows newly inserted, by table (re-deliveries not counted).', labelNames: ['table'], registers })),
    dlq: get('greenlane_worker_dlq_total', () => new Counter({ name: 'greenlane_worker_dlq_total', help: 'Records routed to the DLQ, by reason.', labelNames: ['reason'], registers })),
    failures: get('greenlane_worker_batch_failures_total', () => new Counter({ name: 'greenlane_worker_batch_failures_total', help: 'Batches that failed to persist and will be delivered again.', registers })),
    duration: get('greenlane_worker_batch_duration_seconds', () => new Histogram({ name: 'greenlane_worker_batch_duration_seconds', help: 'Time to price and persist one batch.', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers })),
    lag: get('greenlane_worker_consumer_lag', () => new Gauge({
      name: 'greenlane_worker_consumer_lag',
      help: 'Records on fleet-events behind the pricing-worker-group commit (read at scrape time).',
      registers,
      async collect() {
        const n = await lag();
        if (n !== undefined) this.set(n);
      },
    })),
    engine: engineLatency(registry, 'worker'),
    stale: get('greenlane_worker_price_stale', () => new Gauge({ name: 'greenlane_worker_price_stale', help: '1 while prices come from a cached or local curve because the grid is unreachable.', registers })),
  };
}
