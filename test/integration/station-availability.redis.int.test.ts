import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { stationAvailabilityContract } from '../contract/station-availability.contract.js';
import { describeWithEngine, dropRedisNamespace, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const probe = engineProbe('redis');

await describeWithEngine('redis', probe, 'station offline / online (operator action) [redis]', () => {
  stationAvailabilityContract(async () => {
    const namespace = testNamespace('avail');
    const reservations = await createRedisReservations({ url: infra.redisUrl, namespace });
    return {
      reservations,
      async close() {
        await dropRedisNamespace(namespace);
        await reservations.close();
      },
    };
  });
});
