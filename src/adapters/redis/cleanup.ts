import { Cluster, Redis } from 'ioredis';
import { isRedisClusterUrl, parseRedisClusterUrl } from '../../util/redis-url.js';
import { redisKeyPrefix } from './client.js';

/** Unlinks every key under a namespace's prefix (`N:`, on a cluster `{N}:`): a throwaway namespace's cleanup. */
export async function dropRedisNamespace(url: string, namespace: string): Promise<void> {
  if (!isRedisClusterUrl(url)) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await unlinkMatching(redis, `${redisKeyPrefix(namespace, false)}*`);
    redis.disconnect();
    return;
  }
  const target = parseRedisClusterUrl(url);
  const cluster = new Cluster(target.nodes, { lazyConnect: true, redisOptions: { username: target.username, password: target.password, maxRetriesPerRequest: 1 } });
  cluster.on('error', () => {}); // a failed connect rejects below; node errors during a failover are retried
  await cluster.connect();
  // The namespace's hash tag puts all its keys in one slot, on one master; each master scans its own keys.
  const pattern = `${redisKeyPrefix(namespace, true)}*`;
  try {
    await Promise.all(cluster.nodes('master').map((node) => unlinkMatching(node, pattern)));
  } finally {
    cluster.disconnect();
  }
}

async function unlinkMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
