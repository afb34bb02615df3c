import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EngineUnreachableError } from '../../errors.js';
import { redactUrl } from '../../util/redact.js';
import { isRedisClusterUrl, parseRedisClusterUrl } from '../../util/redis-url.js';

/** One Redis server or a Redis Cluster: the same commands, `isCluster` tells them apart. */
export type RedisClient = Redis | Cluster;

/** The hash tag of the keys outside any namespace on a cluster: '-' is no namespace character, so it never collides. */
const DEFAULT_TAG = '-';

/**
 * The prefix of every key of a namespace. One server: `N:` (or none), as always. A cluster: `{N}:` — a hash tag, so all
 * of a namespace's keys hash to one slot and each Lua script's keys live on one node; different namespaces (regions)
 * hash to different slots and so spread over the masters (docs/SCALING.md).
 */
export function redisKeyPrefix(namespace: string | undefined, cluster: boolean): string {
  if (cluster) return `{${namespace || DEFAULT_TAG}}:`;
  return namespace ? `${namespace}:` : '';
}

/** A connected client (redis:// → Redis, redis-cluster:// → Cluster); a refused or silent server becomes EngineUnreachableError. */
export async function connectRedis(url: string, namespace: string | undefined, logger: Logger, connectTimeoutMs = 5_000): Promise<RedisClient> {
  const cluster = isRedisClusterUrl(url);
  const keyPrefix = redisKeyPrefix(namespace, cluster) || undefined;
  const redis: RedisClient = cluster ? newCluster(url, keyPrefix, connectTimeoutMs) : new Redis(url, { lazyConnect: true, keyPrefix, maxRetriesPerRequest: 2, connectTimeout: connectTimeoutMs });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
    logger.warn({ err }, 'redis connection error');
  });
  try {
    await (cluster ? withTimeout(redis.connect(), connectTimeoutMs * 2) : redis.connect());
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new EngineUnreachableError('Redis', redactUrl(url), lastError ?? err);
  }
}

function newCluster(url: string, keyPrefix: string | undefined, connectTimeoutMs: number): Cluster {
  const target = parseRedisClusterUrl(url);
  return new Cluster(target.nodes, {
    lazyConnect: true,
    keyPrefix,
    // A failover (a master killed, its replica promoted after cluster-node-timeout) takes seconds: commands wait and
    // retry on the new master instead of failing at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    maxRedirections: 32,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    redisOptions: { username: target.username, password: target.password, connectTimeout: connectTimeoutMs, maxRetriesPerRequest: 2 },
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
