/**
 * Prototypes of a cheaper FleetState.upsertCars, measured beside the real one so the suggestion
 * in the report rests on numbers from the same run. Not used by the product.
 */
import { Redis } from 'ioredis';
import type { CarState } from '../../src/ports/fleet-state.js';

/** Sets each car's hash from ARGV (5 fields per car, in KEYS order): one command per batch. */
const HSET_ALL = `
for i, key in ipairs(KEYS) do
  local o = (i - 1) * 5
  redis.call('HSET', key, 'lat', ARGV[o + 1], 'lon', ARGV[o + 2], 'battery', ARGV[o + 3], 'velocity', ARGV[o + 4], 'timestamp', ARGV[o + 5])
end
return #KEYS`;

export interface UpsertVariant {
  name: string;
  upsert(cars: CarState[]): Promise<void>;
}

export async function redisUpsertVariants(url: string, namespace: string): Promise<{ variants: UpsertVariant[]; close(): void }> {
  const redis = new Redis(url, { keyPrefix: `${namespace}:`, lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  redis.defineCommand('hsetAll', { lua: HSET_ALL });
  const geoArgs = (cars: CarState[]) => cars.flatMap((c) => [c.lon, c.lat, c.carId]);
  const variants: UpsertVariant[] = [
    {
      // One GEOADD for the whole batch instead of one per car; HSETs stay pipelined, with flat arguments.
      name: 'variadicGeoaddPipelinedHset',
      async upsert(cars) {
        const p = redis.pipeline();
        p.geoadd('fleet:locations', ...geoArgs(cars));
        for (const c of cars) p.hset(`car:${c.carId}`, 'lat', c.lat, 'lon', c.lon, 'battery', c.battery, 'velocity', c.velocity, 'timestamp', c.timestamp);
        await p.exec();
      },
    },
    {
      // Two commands per batch: variadic GEOADD and one script that writes every hash.
      name: 'variadicGeoaddLuaHset',
      async upsert(cars) {
        const p = redis.pipeline();
        p.geoadd('fleet:locations', ...geoArgs(cars));
        (p as unknown as { hsetAll(n: number, ...args: (string | number)[]): void }).hsetAll(
          cars.length,
          ...cars.map((c) => `car:${c.carId}`),
          ...cars.flatMap((c) => [c.lat, c.lon, c.battery, c.velocity, c.timestamp]),
        );
        await p.exec();
      },
    },
  ];
  return { variants, close: () => redis.disconnect() };
}
