import { Cluster, Redis } from 'ioredis';
import { isRedisClusterUrl, parseRedisClusterUrl } from '../../util/redis-url.js';
import { redactUrl } from '../../util/redact.js';

/** One-shot health check for `greenlane doctor`: PING, then the server version from INFO. */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const redis = isRedisClusterUrl(url) ? probeCluster(url, timeoutMs) : new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one attempt: doctor reports, it does not wait
  });
  // connect() rejects with a bare "Connection is closed."; the 'error' event has the cause (ECONNREFUSED…).
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err));
  try {
    await redis.connect();
    const pong = await redis.ping();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    if (redis.isCluster) {
      // Every slot served (a master down without a promoted replica: cluster_state:fail).
      const state = /cluster_state:(\S+)/.exec(await redis.cluster('INFO'))?.[1] ?? 'unknown';
      const masters = (redis as Cluster).nodes('master').length;
      return { ok: pong === 'PONG' && state === 'ok', detail: `Redis Cluster ${version}, ${masters} masters, cluster_state ${state}`, latencyMs: elapsed() };
    }
    return { ok: pong === 'PONG', detail: `Redis ${version}, PING ${pong}`, latencyMs: elapsed() };
  } catch (err) {
    return { ok: false, detail: `${redactUrl(url)}: ${(cause ?? (err as Error)).message}`, latencyMs: elapsed() };
  } finally {
    redis.disconnect();
  }
}


function probeCluster(url: string, timeoutMs: number): Cluster {
  const target = parseRedisClusterUrl(url);
  return new Cluster(target.nodes, {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: () => null,
    slotsRefreshTimeout: timeoutMs,
    redisOptions: { username: target.username, password: target.password, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0 },
  });
}
