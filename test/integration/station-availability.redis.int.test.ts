import { Redis } from 'ioredis';
import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { stationAvailabilityContract } from '../contract/station-availability.contract.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const probe = engineProbe('redis');

await describeWithEngine('redis', probe, 'station offline / online (operator action) [redis]', () => {
  stationAvailabilityContract(async () => {
    const namespace = testNamespace('avail');
    const reservations = await createRedisReservations({ url: infra.redisUrl, namespace });
    return {
      reservations,
      async close() {
        const keys = await reservations.redis.keys(`${namespace}:*`);
        // KEYS returns full names; delete through a client without the prefix.
        const raw = new Redis(infra.redisUrl);
        if (keys.length) await raw.del(...keys);
        raw.disconnect();
        await reservations.close();
      },
    };
  });
});
