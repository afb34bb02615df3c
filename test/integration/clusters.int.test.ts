import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it, vi } from 'vitest';
import { runChaos, type ChaosResult } from '../../bench/lib/chaos-run.js';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { dropRedisNamespace } from '../../src/adapters/redis/cleanup.js';
import { createRedisReservations, type RedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { startStack } from '../../src/app/stack.js';
import { loadConfig } from '../../src/config/load.js';
import { auditEvents } from '../../src/domain/audit.js';
import { TOPIC_EVENTS, topicName, type BookingEvent } from '../../src/domain/events.js';
import { gridStations } from '../../src/domain/stations.js';
import { createFleetClient } from '../../src/grpc/client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import { createCoordinator, type Coordinator } from '../../src/services/coordination/index.js';
import { clusterProbe, describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

/**
 * GreenLane on the clusters of `scripts/engines.sh start clusters` (3 Kafka brokers, RF 3, min ISR 2; a Redis
 * Cluster of 3 masters + 3 replicas) with PostgreSQL: the steel thread, the two-instance booking contest, and a
 * chaos run that kills -9 a Kafka broker and the Redis master holding the namespace's slot under load.
 */
const env = (ns: string, dataDir?: string): Record<string, string> => ({
  GREENLANE_KAFKA_BROKERS: infra.clusterKafkaBrokers.join(','),
  GREENLANE_REDIS_URL: infra.clusterRedisUrl,
  GREENLANE_DATABASE_URL: infra.databaseUrl,
  GREENLANE_NAMESPACE: ns,
  ...(dataDir ? { GREENLANE_DATA_DIR: dataDir } : {}),
});
const drop = async (ns: string) => dropNamespace(loadConfig({ env: env(ns), cwd: process.cwd() }), ns, silentLogger);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeWithEngine('kafka-cluster+redis-cluster+postgres', clusterProbe('kafka', 'redis', 'postgres'), 'GreenLane on a 3-broker Kafka and a Redis Cluster', () => {
  const namespaces: string[] = [];
  afterAll(async () => {
    for (const ns of namespaces) await drop(ns).catch(() => {});
  }, 60_000);

  it('the steel thread: telemetry → booking → events in Kafka (RF 3, min ISR 2) → rows in PostgreSQL', async () => {
    const ns = testNamespace('clsteel');
    namespaces.push(ns);
    const dataDir = mkdtempSync(join(tmpdir(), 'gl-clusters-'));
    const token = `cl-${Math.random().toString(36).slice(2)}`;
    const loaded = loadConfig({ env: { ...env(ns, dataDir), GREENLANE_API_TOKENS: token, GREENLANE_GRPC_PORT: '0', GREENLANE_GRPC_HOST: '127.0.0.1', GREENLANE_GRID_PORT: '0' }, cwd: dataDir });
    const stack = await startStack({ loaded, logger: silentLogger, registry: createRegistry(false), services: ['grid', 'worker', 'ingestion'] });
    const db = new pg.Client({ connectionString: infra.databaseUrl });
    await db.connect();
    try {
      const client = createFleetClient(`127.0.0.1:${stack.ingestion!.port}`, token);
      const call = client.streamTelemetry();
      const start = Date.now() - 20_000;
      // CL-LOW is below the request threshold (30 %) in Manhattan: the coordinator books it a port.
      for (let i = 0; i < 10; i++) {
        for (const [carId, battery] of [['CL-OK', 80], ['CL-LOW', 12]] as const) {
          call.write({ car_id: carId, latitude: 40.75 + i * 0.0005, longitude: -73.98, battery_level: battery, velocity: 30, timestamp: start + i * 1000 });
        }
      }
      call.end();
      const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
      await vi.waitFor(async () => expect(await count(`SELECT count(*) AS n FROM "${ns}".telemetry`)).toBe(20), { timeout: 30_000, interval: 250 });
      await vi.waitFor(async () => expect(await count(`SELECT count(*) AS n FROM "${ns}".bookings WHERE car_id = 'CL-LOW' AND status = 'confirmed'`)).toBe(1), { timeout: 30_000, interval: 250 });
      client.close();

      // The topics GreenLane created are replicated on all three brokers, and a write needs two of them.
      const { Kafka, logLevel } = await import('kafkajs');
      const admin = new Kafka({ brokers: infra.clusterKafkaBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topic = topicName(ns, TOPIC_EVENTS);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
      await admin.disconnect();
      expect(meta.topics[0].partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3)).toBe(true);
      expect(configs.resources[0].configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');
    } finally {
      await db.end();
      await stack.stop({ drainMs: 5_000 });
    }
  }, 120_000);

  it('two instances contest 1,000 requests for 20 ports on the Redis Cluster: exactly 20 confirmed, 0 double bookings in the Kafka log', async () => {
    const ns = testNamespace('clcontest');
    namespaces.push(ns);
    const stations = gridStations(10, 2);
    const bus = await createKafkaEventBus({ brokers: infra.clusterKafkaBrokers, clientId: 'cl-contest' });
    const opened: { c: Coordinator[]; r: RedisReservations[] } = { c: [], r: [] };
    try {
      await bus.ensureTopics([topicName(ns, TOPIC_EVENTS)]);
      const events: BookingEvent[] = [];
      const sub = await bus.subscribe({ topic: topicName(ns, TOPIC_EVENTS), groupId: `${ns}-audit`, fromBeginning: true, handleBatch: async (rs) => void events.push(...rs.map((r) => JSON.parse(r.value))) });
      let now = Date.now();
      for (let i = 0; i < 2; i++) {
        const reservations = await createRedisReservations({ url: infra.clusterRedisUrl, namespace: ns, origin: `i${i}` });
        const c = createCoordinator({ reservations, bus, stations, namespace: ns, clock: () => now, sweepIntervalMs: 0, routeViaBus: false, instanceId: `i${i}`, policy: { deferral: { enabled: false } } });
        await c.start();
        opened.r.push(reservations);
        opened.c.push(c);
      }
      const [a, b] = opened.c;
      const decisions = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => (i % 2 ? b : a).requestBooking({ carId: `CAR-${i}`, lat: 40.7 + (i % 30) * 0.005, lon: -74.01 + (i % 17) * 0.005, battery: 5 + (i % 25), noDefer: true })),
      );
      expect(decisions.filter((d) => d.status === 'confirmed')).toHaveLength(20);
      expect(decisions.filter((d) => d.status === 'queued')).toHaveLength(980);
      now += 21 * 60_000; // every hold lapses; both instances sweep at once and promote the next 20
      const [ea, eb] = await Promise.all([a.sweep(), b.sweep()]);
      expect(ea + eb).toBe(20);
      await vi.waitFor(() => expect(events.filter((e) => e.event_type === 'booking_confirmed')).toHaveLength(40), { timeout: 30_000 });
      const audit = auditEvents(events, stations);
      expect(audit.doubleBookings).toBe(0);
      expect(Object.values(audit.peak).every((p) => p === 2)).toBe(true);
      await sub.stop();
    } finally {
      await Promise.all(opened.c.map((c) => c.stop()));
      await Promise.all(opened.r.map((r) => r.close()));
      await bus.close();
      await dropRedisNamespace(infra.clusterRedisUrl, ns);
    }
  }, 120_000);

  let chaos: ChaosResult | undefined;
  it('kill -9 a Kafka broker, then the Redis master of the namespace, under load: no acknowledged event lost, no double booking', async () => {
    const ns = testNamespace('clchaos');
    namespaces.push(ns);
    chaos = await runChaos({
      namespace: ns,
      brokers: infra.clusterKafkaBrokers,
      redisUrl: infra.clusterRedisUrl,
      databaseUrl: infra.databaseUrl,
      cars: 100,
      hz: 2,
      steadySec: 4,
      faults: [{ kind: 'node-kill', node: 'kafka-broker' }, { kind: 'node-kill', node: 'redis-master' }],
      logger: silentLogger,
      say: (line) => console.error(line),
    });
    console.log(JSON.stringify({ faults: chaos.faults, audit: chaos.audit, durationSec: chaos.durationSec }, null, 2));
    const { audit, faults } = chaos;
    expect(audit.acked).toBeGreaterThan(1000);
    expect(audit.bookingTransitions).toBeGreaterThan(0);
    expect(audit).toMatchObject({ lostKafka: 0, lostPostgres: 0, duplicateRows: 0, bookingMissing: 0, bookingDuplicates: 0, bookingOrphans: 0, overCapacity: 0 });
    expect(chaos.unexpectedExits).toEqual({ ingestion: 0, worker: 0 });
    for (const f of faults) {
      expect(f.failoverMs, f.fault).toBeGreaterThanOrEqual(0);
      expect(f.recoverMs, f.fault).not.toBeNull();
      expect(f.recoverMs!, f.fault).toBeLessThanOrEqual(30_000);
    }
    await sleep(0);
  }, 300_000);
});
