import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { priceAt } from '../../src/domain/pricing.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import type { Store } from '../../src/ports/store.js';
import { createWorker, type DlqPayload } from '../../src/services/worker.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

const kafka = () => new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 2_000 });

async function probe(): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.disconnect();
  const c = new pg.Client({ connectionString: infra.databaseUrl, connectionTimeoutMillis: 2_000 });
  await c.connect();
  await c.end();
}

const T0 = Date.UTC(2024, 5, 3, 6, 0);
const telemetry = (i: number, ns: string) => ({
  event_id: `${ns}-ev-${i}`,
  event_type: 'telemetry',
  car_id: `CAR-${String(i % 4).padStart(3, '0')}`,
  lat: 40.7 + i / 1000,
  lon: -73.98,
  battery: 90 - i / 10,
  velocity: 25,
  timestamp: T0 + i * 10 * 60_000,
});
const asRecords = (events: unknown[]) => events.map((e) => ({ key: (e as { car_id?: string }).car_id ?? 'x', value: typeof e === 'string' ? e : JSON.stringify(e) }));

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await describeWithEngine('kafka+postgres', probe, 'pricing worker on real engines', () => {
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

  async function setup() {
    const ns = testNamespace('wk');
    namespaces.push(ns);
    const bus = await createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'greenlane-worker-test', consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 } });
    const store = await createPostgresStore({ url: infra.databaseUrl, schema: ns });
    await store.migrate();
    await bus.ensureTopics([topicName(ns, TOPIC_EVENTS), topicName(ns, TOPIC_DLQ)]);
    const groupId = `pricing-worker-group-${ns}`;
    const startWorker = async (s: Store = store, group = groupId) => {
      const w = createWorker({ bus, store: s, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry: createRegistry(false), groupId: group });
      await w.start();
      return w;
    };
    const publish = (events: unknown[]) => bus.publish(topicName(ns, TOPIC_EVENTS), asRecords(events));
    const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM ${quoteIdent(ns)}.telemetry`)).rows[0].n);
    const close = async () => {
      await bus.close();
      await store.close();
    };
    return { ns, bus, store, groupId, startWorker, publish, count, close };
  }

  it('commits no offset before the rows are written: after a failing run the group re-reads everything', async () => {
    const t = await setup();
    let attempts = 0;
    const broken: Store = {
      ...t.store,
      kind: t.store.kind,
      insertTelemetry: async () => {
        attempts++;
        throw new Error('database is down');
      },
    };
    const events = Array.from({ length: 40 }, (_, i) => telemetry(i, t.ns));
    await t.publish(events);
    const failing = await t.startWorker(broken);
    await waitFor(() => attempts >= 2, 'the write to fail (and be retried)');
    await failing.stop();
    expect(await t.count()).toBe(0);

    // Nothing committed for the group: every partition is still at "no offset" (-1).
    const k = kafka().admin();
    await k.connect();
    const [offsets] = await k.fetchOffsets({ groupId: t.groupId, topics: [topicName(t.ns, TOPIC_EVENTS)] });
    await k.disconnect();
    expect(offsets.partitions.every((p) => p.offset === '-1')).toBe(true);

    // A restarted worker in the same group gets every event and writes each once.
    const healthy = await t.startWorker();
    await waitFor(async () => (await t.count()) === 40, '40 rows after restart');
    await waitFor(() => healthy.stats().events === 40, 'all events consumed');
    await healthy.stop();
    const rows = (await admin.query(`SELECT event_id, price_rate, extract(epoch from time) * 1000 AS ms FROM ${quoteIdent(t.ns)}.telemetry`)).rows;
    for (const r of rows) expect(r.price_rate).toBe(priceAt(Number(r.ms), undefined, 'UTC').price_per_kwh);
    await t.close();
  });

  it('routes poison records to the DLQ on Kafka and persists the rest', async () => {
    const t = await setup();
    await t.publish([telemetry(1, t.ns), '{"car_id": "CAR-001", oops', { ...telemetry(2, t.ns), lon: -500 }, telemetry(3, t.ns)]);
    const worker = await t.startWorker();
    const dlq: ConsumedRecord[] = [];
    const reader = await t.bus.subscribe({ topic: topicName(t.ns, TOPIC_DLQ), groupId: `dlq-reader-${t.ns}`, handleBatch: async (rs) => void dlq.push(...rs) });
    await waitFor(() => dlq.length >= 2, 'two DLQ records');
    await waitFor(async () => (await t.count()) === 2, 'the two good rows');
    await reader.stop();
    await worker.stop();
    const payloads = dlq.map((r) => JSON.parse(r.value) as DlqPayload);
    expect(payloads.map((p) => p.reason).sort()).toEqual(['invalid_event', 'unparseable_json']);
    expect(payloads.find((p) => p.reason === 'unparseable_json')).toMatchObject({ original: '{"car_id": "CAR-001", oops', topic: topicName(t.ns, TOPIC_EVENTS) });
    expect(payloads.find((p) => p.reason === 'invalid_event')!.detail).toMatch(/^lon:/);
    expect(dlq.map((r) => r.key).sort()).toEqual(['CAR-002', 'x']); // the original keys are kept
    await t.close();
  });

  it('is idempotent on re-delivery: the same events twice, and a replay by a new group, give rows once', async () => {
    const t = await setup();
    const events = Array.from({ length: 25 }, (_, i) => telemetry(100 + i, t.ns));
    await t.publish(events);
    await t.publish(events);
    const worker = await t.startWorker();
    await waitFor(() => worker.stats().events === 50, 'both copies consumed');
    expect(await t.count()).toBe(25);
    await worker.stop();
    const replay = await t.startWorker(t.store, `${t.groupId}-replay`);
    await waitFor(() => replay.stats().events === 50, 'the replay consumed');
    await replay.stop();
    expect(await t.count()).toBe(25);
    expect(replay.stats().telemetryRows).toBe(0);
    await t.close();
  });
});
