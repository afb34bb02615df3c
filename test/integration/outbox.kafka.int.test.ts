import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, expect, it, vi } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { createRedisReservations, type RedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName, type BookingEvent } from '../../src/domain/events.js';
import { gridStations } from '../../src/domain/stations.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import type { Store } from '../../src/ports/store.js';
import { createCoordinator, type Coordinator } from '../../src/services/coordination/index.js';
import { createWorker, type Worker } from '../../src/services/worker.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const engines = (cmd: 'stop' | 'start'): void => void execFileSync('bash', ['scripts/engines.sh', cmd, 'kafka'], { stdio: 'ignore', timeout: 120_000 });

// Stops the shared Kafka for a few seconds: run on its own, once.
await describeWithEngine('kafka', engineProbe('kafka', 'redis', 'postgres'), 'Booking events survive a Kafka outage through the outbox', () => {
  const ns = testNamespace('outbox');
  const topic = topicName(ns, TOPIC_EVENTS);
  const open: { bus?: EventBus; store?: Store; reservations?: RedisReservations; worker?: Worker; coordinator?: Coordinator } = {};

  afterAll(async () => {
    await open.coordinator?.stop();
    await open.worker?.stop();
    const keys = (await open.reservations?.redis.keys(`${ns}:*`)) ?? [];
    if (keys.length) await open.reservations!.redis.del(...keys.map((k) => k.slice(ns.length + 1)));
    await open.reservations?.close();
    await open.store?.close();
    await open.bus?.close();
  });

  it('bookings answer within 1 s while Kafka is down, and every transition reaches the topic and the table once by id', async () => {
    const bus = (open.bus = await createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'greenlane-outbox-test', consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 } }));
    await bus.ensureTopics([topic, topicName(ns, TOPIC_DLQ)]);
    const store = (open.store = await createPostgresStore({ url: infra.databaseUrl, schema: ns }));
    await store.migrate();
    const reservations = (open.reservations = await createRedisReservations({ url: infra.redisUrl, namespace: ns }));
    const stations = gridStations(2, 1);
    const coordinator = (open.coordinator = createCoordinator({ reservations, bus, stations, namespace: ns, sweepIntervalMs: 0, routeViaBus: false, policy: { deferral: { enabled: false } } }));
    await coordinator.start();

    const latencies: number[] = [];
    const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const out = await fn();
      latencies.push(Date.now() - t0);
      return out;
    };
    const outageStart = Date.now();
    engines('stop');
    let outageMs = 0;
    try {
      for (let i = 1; i <= 4; i++) await timed(() => coordinator.requestBooking({ carId: `CAR-${i}`, bookingId: `bk-CAR-${i}`, stationId: stations[i % 2].id, battery: 20 + i }));
      await timed(() => coordinator.cancelBooking({ carId: 'CAR-1' })); // frees a port: CAR-3 is promoted
      await timed(() => coordinator.requestBooking({ carId: 'CAR-9', bookingId: 'bk-CAR-9', stationId: 'NOWHERE', battery: 30 })); // booking_failed, no transition
    } finally {
      engines('start');
      outageMs = Date.now() - outageStart;
    }
    console.log(`Kafka outage ${outageMs} ms; RPC latencies while down: ${latencies.join(', ')} ms`);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    const expected = ['CAR-1', 'CAR-2', 'CAR-3', 'CAR-4'].map((c) => `bk-${c}`);

    // The outbox drains once Kafka is back; read the topic from the start and count by event id.
    const seen: BookingEvent[] = [];
    const sub = await bus.subscribe({ topic, groupId: `${ns}.audit`, fromBeginning: true, handleBatch: async (rs) => void seen.push(...rs.map((r) => JSON.parse(r.value) as BookingEvent)) });
    const wantIds = [
      ...expected.slice(0, 2).map((b) => `${b}:booking_confirmed`),
      ...expected.slice(2).map((b) => `${b}:booking_queued`),
      'bk-CAR-1:booking_cancelled', 'bk-CAR-3:booking_confirmed',
    ];
    await vi.waitFor(() => expect(new Set(seen.map((e) => e.event_id))).toEqual(new Set([...wantIds, 'bk-CAR-9:booking_failed'])), { timeout: 60_000, interval: 250 });
    await sub.stop();
    const byId = new Map<string, BookingEvent[]>();
    for (const e of seen) byId.set(e.event_id, [...(byId.get(e.event_id) ?? []), e]);
    // A repeat (a relay retrying after a timeout) is only ever the same event under the same id.
    for (const copies of byId.values()) expect(new Set(copies.map((c) => JSON.stringify(c))).size).toBe(1);
    console.log(`topic: ${seen.length} records, ${byId.size} distinct event ids`);
    expect(await reservations.readOutbox(null, 10)).toEqual([]);

    // The worker persists each exactly once.
    const worker = (open.worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry: createRegistry(false) }));
    await worker.start();
    const client = new pg.Client({ connectionString: infra.databaseUrl });
    await client.connect();
    try {
      const q = `SELECT event_id, count(*)::int AS n FROM ${quoteIdent(ns)}.bookings GROUP BY event_id`;
      await vi.waitFor(async () => expect((await client.query(q)).rows).toHaveLength(byId.size), { timeout: 60_000, interval: 250 });
      const rows = (await client.query<{ event_id: string; n: number }>(q)).rows;
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(byId.keys()));
    } finally {
      await client.end();
    }
  });
});
