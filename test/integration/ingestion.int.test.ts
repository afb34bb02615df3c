import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { createRedisFleetState, redisKeys } from '../../src/adapters/redis/redis-fleet-state.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg, CarStatusMsg, FleetEventMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import type { FleetState } from '../../src/ports/fleet-state.js';
import { createIngestion } from '../../src/grpc/ingestion-server.js';
import { createSimulator } from '../../src/sim/simulator.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

const TOKEN = 'int-token-' + Math.random().toString(36).slice(2);
const ORIGINAL_PROTO = fileURLToPath(new URL('../fixtures/original-fleet.proto', import.meta.url));
const kafka = () => new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 2_000 });

async function probe(): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.disconnect();
  const redis = new Redis(infra.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  await redis.connect();
  await redis.ping();
  redis.disconnect();
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const status = (carId: string, patch: Partial<CarStatusMsg> = {}): CarStatusMsg => ({
  car_id: carId,
  latitude: 40.75,
  longitude: -73.98,
  battery_level: 70,
  velocity: 20,
  timestamp: Date.now(),
  ...patch,
});

await describeWithEngine('kafka+redis', probe, 'ingestion on real Kafka and Redis', () => {
  const ns = testNamespace('ing');
  const topic = topicName(ns, TOPIC_EVENTS);
  const keys = redisKeys(ns);
  let bus: EventBus;
  let fleet: FleetState;
  let redis: Redis;
  let ingestion: ReturnType<typeof createIngestion>;
  let client: FleetClient;
  let consumer: Consumer;
  const records: { key: string; value: string }[] = [];

  beforeAll(async () => {
    bus = await createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'ingestion-int', logger: silentLogger });
    fleet = await createRedisFleetState({ url: infra.redisUrl, namespace: ns, logger: silentLogger });
    redis = new Redis(infra.redisUrl);
    ingestion = createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: 0, namespace: ns }, bus, fleet, tokens: [TOKEN], logger: silentLogger, registry: createRegistry(false) });
    await ingestion.start();
    client = createFleetClient(`127.0.0.1:${ingestion.port}`, TOKEN);
    consumer = kafka().consumer({ groupId: `${ns}-reader`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void records.push({ key: message.key!.toString(), value: message.value!.toString() }) });
  });

  afterAll(async () => {
    client?.close();
    await ingestion?.stop();
    await consumer?.disconnect();
    await bus?.close();
    await fleet?.close();
    const stale = await redis.keys(`${ns}:*`);
    if (stale.length) await redis.del(...stale);
    redis?.disconnect();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('refuses missing and wrong tokens with UNAUTHENTICATED', async () => {
    for (const [token, details] of [['', 'missing x-api-token'], ['nope', 'invalid x-api-token']]) {
      const c = createFleetClient(`127.0.0.1:${ingestion.port}`, token);
      const call = c.streamTelemetry();
      const err = new Promise<grpc.ServiceError>((r) => call.on('error', r));
      call.write(status('CAR-AUTH'));
      expect(await err).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details });
      c.close();
    }
    expect(await redis.exists(keys.car('CAR-AUTH'))).toBe(0);
  });

  it('rejects each invalid field with BOOKING_FAILED and keeps the stream for valid messages', async () => {
    const cases: [string, Partial<CarStatusMsg>][] = [
      ['car_id', { car_id: 'no spaces allowed' }],
      ['latitude', { latitude: -91 }],
      ['longitude', { longitude: 200 }],
      ['battery_level', { battery_level: 120 }],
      ['velocity', { velocity: 500 }],
      ['timestamp', { timestamp: Date.now() + 10 * 86_400_000 }],
    ];
    const call = client.streamTelemetry();
    const responses: BookingResponseMsg[] = [];
    call.on('data', (r: BookingResponseMsg) => responses.push(r));
    cases.forEach(([, patch], i) => {
      call.write(status(`CAR-RULE${i}`, patch));
      call.write(status(`CAR-RULE${i}`, { battery_level: 50 + i }));
    });
    await waitFor(() => responses.length === cases.length, 'rejections');
    expect(responses.map((r) => [r.status, r.reason])).toEqual(cases.map(([field]) => ['BOOKING_FAILED', `invalid_${field}`]));
    await waitFor(async () => (await redis.hget(keys.car('CAR-RULE5'), 'battery')) !== null, 'valid follow-ups in Redis');
    for (let i = 1; i < cases.length; i++) expect(Number(await redis.hget(keys.car(`CAR-RULE${i}`), 'battery'))).toBe(50 + i);
    call.end();
  });

  it('writes Redis (GEO + hash) and Kafka (key car_id, original flat JSON + event_id) from an original-proto client', async () => {
    const original = createFleetClient(`127.0.0.1:${ingestion.port}`, TOKEN, { protoPath: ORIGINAL_PROTO });
    const call = original.streamTelemetry();
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) call.write(status('CAR-ORIG', { latitude: 40.71 + i / 100, longitude: -73.99, battery_level: 88 - i, velocity: 31, timestamp: t0 + i * 1000 }));
    await waitFor(() => records.filter((r) => r.key === 'CAR-ORIG').length === 3, 'Kafka records');
    const events = records.filter((r) => r.key === 'CAR-ORIG').map((r) => JSON.parse(r.value));
    expect(events.map((e) => e.timestamp)).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(events[2]).toEqual({ event_id: expect.any(String), event_type: 'telemetry', car_id: 'CAR-ORIG', lat: 40.71 + 2 / 100, lon: -73.99, battery: 86, velocity: 31, timestamp: t0 + 2000 });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
    const [pos] = await redis.geopos(keys.carLocations, 'CAR-ORIG');
    expect(Number(pos![0])).toBeCloseTo(-73.99, 4);
    expect(Number(pos![1])).toBeCloseTo(40.73, 4);
    expect(await redis.hgetall(keys.car('CAR-ORIG'))).toMatchObject({ battery: '86', velocity: '31', timestamp: String(t0 + 2000) });
    call.end();
    original.close();
  });

  it('WatchEvents streams what lands on Kafka', async () => {
    const watch = client.watchEvents({ car_ids: ['CAR-WATCH'] });
    const seen: FleetEventMsg[] = [];
    watch.on('data', (m: FleetEventMsg) => seen.push(m));
    watch.on('error', () => {});
    await new Promise((r) => watch.once('metadata', r));
    const call = client.streamTelemetry();
    // The consumer starts at the latest offset once its group is assigned; keep sending until one arrives.
    const sender = setInterval(() => call.write(status('CAR-WATCH')), 200);
    await waitFor(() => seen.length > 0, 'watched event', 30_000);
    clearInterval(sender);
    expect(JSON.parse(seen[0].json)).toMatchObject({ car_id: 'CAR-WATCH', event_type: 'telemetry' });
    watch.cancel();
    call.end();
  });

  it('every telemetry update the simulator sends reaches Kafka and Redis holds each car', async () => {
    const before = ingestion.stats();
    const sim = createSimulator({ cars: 30, seed: 11, hz: 5, durationSec: 2, server: `127.0.0.1:${ingestion.port}`, token: TOKEN, logger: silentLogger });
    await sim.start();
    const summary = await sim.done;
    expect(summary).toMatchObject({ errors: 0, rejected: 0 });
    await waitFor(() => ingestion.stats().published - before.published === summary.sent, 'published');
    const simRecords = () => records.filter((r) => /^CAR-0\d\d$/.test(r.key));
    await waitFor(() => simRecords().length >= summary.sent, 'sim records on Kafka').catch((err) => {
      throw new Error(`${err.message}: ${simRecords().length} of ${summary.sent}; published ${ingestion.stats().published - before.published}`);
    });
    expect(simRecords().length).toBe(summary.sent);
    expect(await redis.zcard(keys.carLocations)).toBeGreaterThanOrEqual(30);
    const last = JSON.parse(simRecords().filter((r) => r.key === 'CAR-007').at(-1)!.value);
    expect(await redis.hgetall(keys.car('CAR-007'))).toMatchObject({ battery: String(last.battery), timestamp: String(last.timestamp) });
    expect((await client.stats()).accepted).toBe(ingestion.stats().accepted);
  });
});
