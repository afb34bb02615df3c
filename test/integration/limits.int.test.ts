import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { createRedisFleetState, redisKeys, type RedisFleetState } from '../../src/adapters/redis/redis-fleet-state.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { createFleetClient } from '../../src/grpc/client.js';
import { createIngestion, type Ingestion } from '../../src/grpc/ingestion-server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const TOKEN = 'limits-int-token-0123456789';

await describeWithEngine('redis', engineProbe('redis'), 'car hashes expire after the idle TTL', () => {
  const ns = testNamespace('ttl');
  let fleet: RedisFleetState;
  let raw: Redis;
  beforeAll(async () => {
    fleet = await createRedisFleetState({ url: infra.redisUrl, namespace: ns, carTtlSec: 120, logger: silentLogger });
    raw = new Redis(infra.redisUrl);
  });
  afterAll(async () => {
    const keys = await raw.keys(`${ns}:*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
    await fleet.close();
  });

  it('sets EXPIRE on car:{id} (the original key) and pushes it back on each update', async () => {
    const k = redisKeys(ns);
    await fleet.upsertCars([{ carId: 'TTL-1', lat: 40.75, lon: -73.98, battery: 50, velocity: 10, timestamp: Date.now() }]);
    const ttl = await raw.ttl(k.car('TTL-1'));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    await raw.expire(k.car('TTL-1'), 5);
    await fleet.upsertCars([{ carId: 'TTL-1', lat: 40.75, lon: -73.98, battery: 49, velocity: 10, timestamp: Date.now() }]);
    expect(await raw.ttl(k.car('TTL-1'))).toBeGreaterThan(100);
    expect(await raw.hget(k.car('TTL-1'), 'battery')).toBe('49');
  });
});

await describeWithEngine('kafka', engineProbe('kafka'), 'WatchEvents leaves no consumer group behind', () => {
  const ns = testNamespace('watch');
  let bus: EventBus;
  let ingestion: Ingestion;
  const kafka = new Kafka({ brokers: infra.kafkaBrokers, clientId: 'limits-int', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  beforeAll(async () => {
    await admin.connect();
    bus = await createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'limits-int', logger: silentLogger });
    const { createMemoryFleetState } = await import('../../src/adapters/memory/memory-fleet-state.js');
    ingestion = createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: 0, namespace: ns }, bus, fleet: createMemoryFleetState(), tokens: [TOKEN], logger: silentLogger, registry: createRegistry(false) });
    await ingestion.start();
  });
  afterAll(async () => {
    await ingestion?.stop();
    await bus?.close();
    await admin.deleteTopics({ topics: [topicName(ns, TOPIC_EVENTS)] }).catch(() => {});
    await admin.disconnect();
  });

  it('deletes the watch group once the call ends', async () => {
    const watchGroups = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('watch-'));
    const before = new Set(await watchGroups());
    const client = createFleetClient(`127.0.0.1:${ingestion.port}`, TOKEN);
    const call = client.watchEvents({});
    call.on('error', () => {});
    call.on('data', () => {});
    await new Promise<void>((resolve) => call.once('metadata', () => resolve()));
    const during = (await watchGroups()).filter((g) => !before.has(g));
    expect(during).toHaveLength(1);
    call.cancel();
    await expect.poll(async () => (await watchGroups()).includes(during[0]!), { timeout: 15_000, interval: 250 }).toBe(false);
    client.close();
  }, 30_000);
});
