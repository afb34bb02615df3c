import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createRedisFleetState, redisKeys } from '../../src/adapters/redis/redis-fleet-state.js';
import { EngineUnreachableError } from '../../src/errors.js';
import { fleetStateContract } from '../contract/fleet-state.contract.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

async function probe(): Promise<void> {
  const redis = new Redis(infra.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

const namespaces: string[] = [];

/** Deletes every key a test namespace created. */
async function dropNamespaces(): Promise<void> {
  const redis = new Redis(infra.redisUrl);
  for (const ns of namespaces) {
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
}

await describeWithEngine('redis', probe, 'FleetState contract [redis]', () => {
  afterAll(dropNamespaces);

  fleetStateContract(async () => {
    const namespace = testNamespace('fleet');
    namespaces.push(namespace);
    return createRedisFleetState({ url: infra.redisUrl, namespace });
  });

  it('writes the documented key names (docs/ARCHITECTURE.md) under the namespace', async () => {
    const namespace = testNamespace('fleet');
    namespaces.push(namespace);
    const fleet = await createRedisFleetState({ url: infra.redisUrl, namespace });
    await fleet.upsertCars([{ carId: 'CAR-001', lat: 40.75, lon: -73.98, battery: 50, velocity: 10, timestamp: 1, state: 'idle' }]);
    await fleet.loadStations([{ id: 'ST-1', name: 'One', lat: 40.76, lon: -73.97, ports: 2, powerKw: 50 }]);
    await fleet.close();

    const keys = redisKeys(namespace);
    const raw = new Redis(infra.redisUrl);
    try {
      expect((await raw.keys(`${namespace}:*`)).sort()).toEqual([keys.car('CAR-001'), keys.carLocations, keys.station('ST-1'), keys.stationLocations].sort());
      expect(keys.carLocations).toBe(`${namespace}:fleet:locations`);
      expect(await raw.type(keys.carLocations)).toBe('zset');
      expect(await raw.hgetall(keys.car('CAR-001'))).toEqual({ lat: '40.75', lon: '-73.98', battery: '50', velocity: '10', timestamp: '1', state: 'idle' });
      expect(await raw.geopos(keys.stationLocations, 'ST-1')).toHaveLength(1);
    } finally {
      raw.disconnect();
    }
  });

  it('fails fast with EngineUnreachableError when nothing listens', async () => {
    const started = Date.now();
    await expect(createRedisFleetState({ url: 'redis://127.0.0.1:1' })).rejects.toBeInstanceOf(EngineUnreachableError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
