import { dropRedisNamespace } from '../../src/adapters/redis/cleanup.js';
import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { reservationsContract } from '../contract/reservations.contract.js';
import { clusterProbe, describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

// The same contract as on one Redis (reservations.redis.int.test.ts), on the Redis Cluster of
// `scripts/engines.sh start clusters`: every test a fresh namespace, so a fresh hash tag and slot,
// spread over the three masters; each script's keys all in that slot.
await describeWithEngine('redis-cluster', clusterProbe('redis'), 'Reservations contract on a Redis Cluster', () => {
  reservationsContract(async () => {
    const namespace = testNamespace('resc');
    const origins = { primary: 'coord-a', secondary: 'coord-b' };
    const primary = await createRedisReservations({ url: infra.clusterRedisUrl, namespace, origin: origins.primary });
    const secondary = await createRedisReservations({ url: infra.clusterRedisUrl, namespace, origin: origins.secondary });
    return {
      primary,
      secondary,
      origins,
      async close() {
        await Promise.all([primary.close(), secondary.close()]);
        await dropRedisNamespace(infra.clusterRedisUrl, namespace);
      },
    };
  });
});
