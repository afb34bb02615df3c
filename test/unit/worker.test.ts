import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { acquirePglite, createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { priceAt } from '../../src/domain/pricing.js';
import { validateCarStatus } from '../../src/domain/telemetry.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { ConsumedRecord, EventBus } from '../../src/ports/event-bus.js';
import type { Store } from '../../src/ports/store.js';
import { createWorker, parseEvent, type DlqPayload, type Worker } from '../../src/services/worker.js';
import { testNamespace } from '../helpers/infra.js';

const T0 = Date.UTC(2024, 5, 3, 17, 0);

function telemetry(i: number, car = `CAR-${String(i % 3).padStart(3, '0')}`) {
  return { event_id: `ev-${i}`, event_type: 'telemetry', car_id: car, lat: 40.75, lon: -73.98, battery: 80 - i / 10, velocity: 30, timestamp: T0 + i * 20 * 60_000 };
}

const asRecords = (events: unknown[]) => events.map((e) => ({ key: (e as { car_id?: string }).car_id ?? 'x', value: typeof e === 'string' ? e : JSON.stringify(e) }));

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function readAll(bus: EventBus, topic: string, expected: number): Promise<ConsumedRecord[]> {
  const got: ConsumedRecord[] = [];
  const sub = await bus.subscribe({ topic, groupId: `reader-${Math.random()}`, handleBatch: async (rs) => void got.push(...rs) });
  await waitFor(() => got.length >= expected, `${expected} records on ${topic}`);
  await sub.stop();
  return got;
}

describe('pricing worker (memory bus + PGlite)', () => {
  let db: Awaited<ReturnType<typeof acquirePglite>>;
  beforeAll(async () => {
    db = await acquirePglite(undefined);
  });
  afterAll(() => db.release());

  async function setup(storeWrap?: (s: Store) => Store) {
    const ns = testNamespace('w');
    const bus = createMemoryEventBus({ retryBackoffMs: 10 });
    const raw = await createPgliteStore({ schema: ns });
    await raw.migrate();
    const store = storeWrap ? storeWrap(raw) : raw;
    const registry = createRegistry(false);
    const worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry });
    await worker.start();
    const publish = (events: unknown[]) => bus.publish(topicName(ns, TOPIC_EVENTS), asRecords(events));
    const rows = async () =>
      (await db.db.query<{ event_id: string; price_rate: number; car_id: string; time: Date }>(`SELECT event_id, price_rate, car_id, time FROM "${ns}".telemetry ORDER BY event_id`)).rows;
    const close = async (w: Worker = worker) => {
      await w.stop();
      await bus.close();
      await raw.close();
    };
    return { ns, bus, store: raw, registry, worker, publish, rows, close };
  }

  it('writes valid telemetry with the price at each event time, once even when delivered twice', async () => {
    const t = await setup();
    const events = Array.from({ length: 30 }, (_, i) => telemetry(i));
    await t.publish(events);
    await waitFor(() => t.worker.stats().telemetryRows === 30, '30 rows');
    await t.publish(events); // a re-delivery, e.g. after a producer retry
    await waitFor(() => t.worker.stats().events === 60, 'the duplicates consumed');
    const rows = await t.rows();
    expect(rows).toHaveLength(30);
    expect(await t.store.countTelemetry()).toBe(30);
    for (const r of rows) {
      const ev = events.find((e) => e.event_id === r.event_id)!;
      expect(r.price_rate).toBe(priceAt(ev.timestamp, undefined, 'UTC').price_per_kwh);
      expect(new Date(r.time).getTime()).toBe(ev.timestamp);
    }
    expect(new Set(rows.map((r) => r.price_rate)).size).toBeGreaterThan(1); // priced per event, not per batch
    expect(t.worker.stats()).toMatchObject({ telemetryRows: 30, dlq: 0, failedBatches: 0 });
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(/greenlane_worker_events_total\{type="telemetry"\} 60/);
    expect(metrics).toMatch(/greenlane_worker_rows_written_total\{table="telemetry"\} 30/);
    expect(metrics).toMatch(/greenlane_worker_price_stale 0/);
    await t.close();
  });

  it('routes poison messages to the DLQ with a reason and persists the rest of the batch', async () => {
    const t = await setup();
    const poison = ['{not json', JSON.stringify([1, 2]), { ...telemetry(101), lat: 200 }, { ...telemetry(102), event_type: 'teleport' }, { ...telemetry(103), battery: 'full' }];
    await t.publish([telemetry(100), ...poison, telemetry(104)]);
    const dlq = await readAll(t.bus, topicName(t.ns, TOPIC_DLQ), 5);
    await waitFor(() => t.worker.stats().telemetryRows === 2, 'the good rows');
    expect((await t.rows()).map((r) => r.event_id)).toEqual(['ev-100', 'ev-104']);
    const payloads = dlq.map((r) => JSON.parse(r.value) as DlqPayload);
    expect(payloads.map((p) => p.reason).sort()).toEqual(['invalid_event', 'invalid_event', 'not_an_object', 'unknown_event_type', 'unparseable_json']);
    const unparseable = payloads.find((p) => p.reason === 'unparseable_json')!;
    expect(unparseable).toMatchObject({ original: '{not json', topic: topicName(t.ns, TOPIC_EVENTS) });
    expect(typeof unparseable.partition).toBe('number');
    expect(unparseable.offset).toMatch(/^\d+$/);
    expect(unparseable.failed_at).toBeGreaterThan(0);
    expect(payloads.find((p) => p.original.includes('"lat":200'))!.detail).toMatch(/^lat:/);
    expect(payloads.find((p) => p.original.includes('"battery":"full"'))!.detail).toMatch(/^battery:/);
    expect(await t.registry.metrics()).toMatch(/greenlane_worker_dlq_total\{reason="invalid_event"\} 2/);
    await t.close();
  });

  it('sends to the DLQ exactly the telemetry ingress rejects, and persists what ingress accepts', async () => {
    const t = await setup();
    const base = { car_id: 'CAR-9', latitude: 40.75, longitude: -73.98, battery_level: 50, velocity: 30, timestamp: T0 };
    const readings: Record<string, unknown>[] = [
      base,
      { ...base, velocity: 400 },
      { ...base, velocity: 401 }, // the worker used to take up to 1000 km/h
      { ...base, velocity: 999 },
      { ...base, car_id: 'CAR 9' }, // ingress takes A-Z a-z 0-9 _ - only
      { ...base, car_id: 'x'.repeat(64) },
      { ...base, timestamp: T0 + 0.5 }, // Unix ms are integers at ingress
      { ...base, battery_level: 100, latitude: -90, longitude: 180 },
      { ...base, battery_level: 100.5 },
    ];
    // The arrival-time window judges the clock at arrival; evaluate each reading as if it arrived at its own time.
    const ingress = readings.map((r) => validateCarStatus(r, r.timestamp as number).ok);
    expect(ingress.filter((ok) => !ok)).toHaveLength(5);
    const events = readings.map((r, i) => ({ event_id: `agree-${i}`, event_type: 'telemetry', car_id: r.car_id, lat: r.latitude, lon: r.longitude, battery: r.battery_level, velocity: r.velocity, timestamp: r.timestamp }));
    for (const [i, e] of events.entries()) expect(parseEvent(JSON.stringify(e)).ok, JSON.stringify(readings[i])).toBe(ingress[i]);
    await t.publish(events);
    const dlq = await readAll(t.bus, topicName(t.ns, TOPIC_DLQ), 5);
    await waitFor(() => t.worker.stats().telemetryRows === 4, 'the accepted rows');
    const rejectedIds = dlq.map((r) => (JSON.parse((JSON.parse(r.value) as DlqPayload).original) as { event_id: string }).event_id).sort();
    expect(rejectedIds).toEqual(events.filter((_, i) => !ingress[i]).map((e) => e.event_id).sort());
    expect((await t.rows()).map((r) => r.event_id).sort()).toEqual(events.filter((_, i) => ingress[i]).map((e) => e.event_id).sort());
    await t.close();
  });

  it('redelivers a batch whose write failed, losing nothing', async () => {
    let failures = 1;
    const t = await setup((s) => ({
      ...s,
      kind: s.kind,
      insertTelemetry: async (rows) => {
        if (failures-- > 0) throw new Error('connection reset by peer');
        return s.insertTelemetry(rows);
      },
    }));
    const events = Array.from({ length: 20 }, (_, i) => telemetry(200 + i));
    await t.publish(events);
    await waitFor(() => t.worker.stats().telemetryRows === 20, 'rows after the retry');
    expect(t.worker.stats().failedBatches).toBeGreaterThanOrEqual(1);
    expect(await t.rows()).toHaveLength(20);
    expect(await t.registry.metrics()).toMatch(/greenlane_worker_batch_failures_total 1/);
    await t.close();
  });

  it('persists booking events and sessions carried by charging_completed', async () => {
    const t = await setup();
    await t.publish([
      { event_id: 'b1', event_type: 'booking_confirmed', car_id: 'CAR-001', timestamp: T0, booking_id: 'BK-1', station_id: 'ST-1', expires_at: T0 + 1_200_000 },
      { event_id: 'b2', event_type: 'booking_failed', car_id: 'CAR-002', timestamp: T0, reason: 'no free port' },
      { event_id: 'c1', event_type: 'charging_completed', car_id: 'CAR-001', timestamp: T0 + 3_600_000, session_id: 'S-1', station_id: 'ST-1', started_at: T0, kwh_usage: 30, start_battery: 20, end_battery: 80 },
      { event_id: 'c2', event_type: 'battery_critical', car_id: 'CAR-003', timestamp: T0 },
    ]);
    await waitFor(() => t.worker.stats().events === 4, 'all four events');
    const bookings = (await db.db.query<{ booking_id: string; status: string; station_id: string | null; reason: string | null }>(`SELECT booking_id, status, station_id, reason FROM "${t.ns}".bookings ORDER BY event_id`)).rows;
    expect(bookings).toEqual([
      { booking_id: 'BK-1', status: 'confirmed', station_id: 'ST-1', reason: null },
      { booking_id: 'b2', status: 'failed', station_id: null, reason: 'no free port' },
    ]);
    const [session] = await t.store.listSessions({ carId: 'CAR-001' });
    expect(session).toMatchObject({ sessionId: 'S-1', stationId: 'ST-1', time: T0, endTime: T0 + 3_600_000, kwhUsage: 30, startBattery: 20, endBattery: 80 });
    expect(session.priceRate).toBe(priceAt(T0, undefined, 'UTC').price_per_kwh);
    expect(session.cost).toBeCloseTo(30 * session.priceRate, 10);
    expect(t.worker.stats()).toMatchObject({ bookingRows: 2, sessionRows: 1, dlq: 0 });
    await t.close();
  });

  it('drains the in-flight batch on stop', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = await setup((s) => ({
      ...s,
      kind: s.kind,
      insertTelemetry: async (rows) => {
        await gate;
        return s.insertTelemetry(rows);
      },
    }));
    await t.publish([telemetry(300)]);
    await waitFor(() => t.worker.ready(), 'ready');
    await new Promise((r) => setTimeout(r, 100));
    const stopping = t.worker.stop();
    setTimeout(release, 100);
    await stopping;
    expect(t.worker.stats().telemetryRows).toBe(1);
    expect(t.worker.ready()).toBe(false);
    await t.close();
  });
});

describe('parseEvent', () => {
  it('accepts the original telemetry JSON without event_id, deriving a stable one', () => {
    const original = '{"car_id":"CAR-001","lat":40.7234,"lon":-73.9876,"battery":85.3,"velocity":45.2,"timestamp":1701532800000,"event_type":"telemetry"}';
    const a = parseEvent(original);
    expect(a).toMatchObject({ ok: true, event: { event_id: 'legacy:CAR-001:1701532800000', car_id: 'CAR-001' } });
  });

  it('names the failing field', () => {
    expect(parseEvent(JSON.stringify({ ...telemetry(1), velocity: -3 }))).toMatchObject({ ok: false, reason: 'invalid_event', detail: expect.stringMatching(/^velocity:/) });
    expect(parseEvent(JSON.stringify({ ...telemetry(1), car_id: '' }))).toMatchObject({ ok: false, reason: 'invalid_event' });
    expect(parseEvent('null')).toMatchObject({ ok: false, reason: 'not_an_object' });
    expect(parseEvent('{"event_type":"booking_confirmed","car_id":"C"}')).toMatchObject({ ok: false, reason: 'invalid_event' });
  });
});
