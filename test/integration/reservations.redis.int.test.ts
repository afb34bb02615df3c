import { Redis } from 'ioredis';
import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { reservationsContract } from '../contract/reservations.contract.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const probe = engineProbe('redis');

await describeWithEngine('redis', probe, 'Reservations contract', () => {
  reservationsContract(async () => {
    const namespace = testNamespace('res');
    // Two connections on one namespace: two ingestion instances sharing Redis.
    const origins = { primary: 'coord-a', secondary: 'coord-b' };
    const primary = await createRedisReservations({ url: infra.redisUrl, namespace, origin: origins.primary });
    const secondary = await createRedisReservations({ url: infra.redisUrl, namespace, origin: origins.secondary });
    return {
      primary,
      secondary,
      origins,
      async close() {
        const keys = await primary.redis.keys(`${namespace}:*`);
        // KEYS returns full names; delete through a client without the prefix.
        const raw = new Redis(infra.redisUrl);
        if (keys.length) await raw.del(...keys);
        raw.disconnect();
        await Promise.all([primary.close(), secondary.close()]);
      },
    };
  });
});
