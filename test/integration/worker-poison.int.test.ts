import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import type { TelemetryRow } from '../../src/ports/store.js';
import { classifyStoreError, createWorker, writeBisecting, type DlqPayload } from '../../src/services/worker.js';
import { storeErrorDetail } from '../../src/services/worker-store.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const kafka = () => new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 2 }, connectionTimeout: 3_000 });
const T0 = Date.UTC(2024, 5, 3, 6, 0);

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

await describeWithEngine('kafka+postgres', engineProbe('kafka', 'postgres'), 'poison records on real engines', () => {
  const namespaces: string[] = [];
  const admin = new pg.Pool({ connectionString: infra.databaseUrl, max: 2 });

  afterAll(async () => {
    for (const ns of namespaces) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(ns)} CASCADE`);
    await admin.end();
    const k = kafka().admin();
    await k.connect();
    const mine = (await k.listTopics()).filter((t) => namespaces.some((ns) => t.startsWith(`${ns}.`)));
    if (mine.length) await k.deleteTopics({ topics: mine }).catch(() => {});
    await k.disconnect();
  });

  it('the issue repro: poison interleaved with 1,000 good records on 3 partitions: every good row persisted, the poison in the DLQ with the error, lag 0', async () => {
    const ns = testNamespace('poison');
    namespaces.push(ns);
    const events = topicName(ns, TOPIC_EVENTS);
    const bus = await createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'poison-test', consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 } });
    const store = await createPostgresStore({ url: infra.databaseUrl, schema: ns });
    await store.migrate();
    // A rule only PostgreSQL knows, so one record passes the schema and is refused by the store itself (SQLSTATE 23514).
    await admin.query(`ALTER TABLE ${quoteIdent(ns)}.telemetry ADD CONSTRAINT no_banned_car CHECK (car_id <> 'BANNED')`);
    await bus.ensureTopics([events, topicName(ns, TOPIC_DLQ)]);

    const good = Array.from({ length: 1000 }, (_, i) => ({
      partition: i % 3,
      key: `CAR-${i % 30}`,
      value: JSON.stringify({ event_id: `${ns}-${i}`, event_type: 'telemetry', car_id: `CAR-${i % 30}`, lat: 40.7, lon: -73.9, battery: 50, velocity: 10, timestamp: T0 + i * 1000 }),
    }));
    const poison = [
      // Exactly the record from the issue: schema-valid before, RangeError in the formatter.
      { at: 100, partition: 0, key: 'P', value: '{"event_id":"x","event_type":"telemetry","car_id":"P","lat":40.7,"lon":-73.9,"battery":50,"velocity":0,"timestamp":100000000000000000}', why: /^timestamp:/ },
      { at: 500, partition: 1, key: 'P', value: JSON.stringify({ event_id: 'nul', event_type: 'telemetry', car_id: 'P\u0000', lat: 40.7, lon: -73.9, battery: 50, velocity: 0, timestamp: T0 }), why: /^car_id:/ },
      { at: 900, partition: 2, key: 'BANNED', value: JSON.stringify({ event_id: 'banned', event_type: 'telemetry', car_id: 'BANNED', lat: 40.7, lon: -73.9, battery: 50, velocity: 0, timestamp: T0 }), why: /no_banned_car.*SQLSTATE 23514/ },
    ];
    const messages = [...good];
    for (const p of [...poison].reverse()) messages.splice(p.at, 0, { partition: p.partition, key: p.key, value: p.value });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: events, acks: -1, messages });
    await producer.disconnect();

    const worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry: createRegistry(false), maxBatch: 200 });
    await worker.start();
    const dlq: ConsumedRecord[] = [];
    const reader = await bus.subscribe({ topic: topicName(ns, TOPIC_DLQ), groupId: `dlq-reader-${ns}`, handleBatch: async (rs) => void dlq.push(...rs) });
    const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM ${quoteIdent(ns)}.telemetry`)).rows[0].n);
    await waitFor(async () => (await count()) === 1000, '1,000 good rows');
    await waitFor(() => dlq.length >= 3, 'three DLQ records');
    await waitFor(async () => (await worker.lag()) === 0, 'lag 0');
    expect(await worker.readiness()).toEqual({ ready: true });
    await reader.stop();
    await worker.stop();

    expect(dlq).toHaveLength(3);
    const payloads = dlq.map((r) => JSON.parse(r.value) as DlqPayload);
    for (const p of poison) {
      const got = payloads.find((d) => d.original === p.value);
      expect(got, p.value).toBeDefined();
      expect(got!.detail).toMatch(p.why);
      expect(got!.partition).toBe(p.partition);
    }
    expect(payloads.map((p) => p.reason).sort()).toEqual(['invalid_event', 'invalid_event', 'store_rejected']);
    const ids = (await admin.query(`SELECT event_id FROM ${quoteIdent(ns)}.telemetry`)).rows.map((r: { event_id: string }) => r.event_id);
    expect(new Set(ids).size).toBe(1000);
    expect(worker.stats()).toMatchObject({ telemetryRows: 1000, dlq: 3 });
    await bus.close();
    await store.close();
  }, 180_000);

  it('bisects at real PostgreSQL: a NUL car id (SQLSTATE 22021) and an unformattable time are rejected, every other row written', async () => {
    const ns = testNamespace('bisect');
    namespaces.push(ns);
    const store = await createPostgresStore({ url: infra.databaseUrl, schema: ns });
    await store.migrate();
    const row = (i: number, patch: Partial<TelemetryRow> = {}): TelemetryRow => ({ eventId: `e-${i}`, carId: `CAR-${i % 5}`, time: T0 + i * 1000, lat: 40.7, lon: -73.9, battery: 50, velocity: 10, priceRate: 0.2, ...patch });
    const rows = Array.from({ length: 500 }, (_, i) => row(i));
    rows[3] = row(3, { carId: 'P\u0000' });
    rows[444] = row(444, { time: 1e17 });
    const r = await writeBisecting(rows, (part) => store.insertTelemetry(part));
    expect(r.rejected.map((x) => x.item.eventId)).toEqual(['e-3', 'e-444']);
    expect(classifyStoreError(r.rejected[0]!.err)).toBe('data');
    expect(storeErrorDetail(r.rejected[0]!.err)).toMatch(/0x00.*SQLSTATE 22021/);
    expect(r.rejected[1]!.err).toBeInstanceOf(RangeError);
    expect(await store.countTelemetry()).toBe(498);
    await store.close();
  }, 60_000);
});
