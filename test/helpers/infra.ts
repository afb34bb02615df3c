import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';

/** Engine addresses for integration tests; the same env names as the CLI. */
export const infra = {
  kafkaBrokers: process.env.GREENLANE_KAFKA_BROKERS?.split(',') ?? ['127.0.0.1:19092'],
  redisUrl: process.env.GREENLANE_REDIS_URL ?? 'redis://127.0.0.1:6379',
  databaseUrl: process.env.GREENLANE_DATABASE_URL ?? 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane',
  /** The clusters of `scripts/engines.sh start clusters` (3 Kafka brokers; Redis Cluster, 3 masters + 3 replicas). */
  clusterKafkaBrokers: process.env.GREENLANE_CLUSTER_KAFKA_BROKERS?.split(',') ?? ['127.0.0.1:29092', '127.0.0.1:29093', '127.0.0.1:29094'],
  clusterRedisUrl: process.env.GREENLANE_CLUSTER_REDIS_URL ?? 'redis-cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003',
};

export const requireInfra = process.env.GREENLANE_REQUIRE_INFRA === '1';

/** A fresh namespace per test file so runs never see each other's keys, topics or tables. */
export function testNamespace(prefix = 't'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * describe() for a suite that needs an engine. The engine is probed first: when it is
 * missing the suite is skipped locally, but with GREENLANE_REQUIRE_INFRA=1 (CI) the probe
 * failure is thrown so the run fails loudly instead of skipping.
 */
export async function describeWithEngine(engine: string, probe: () => Promise<void>, name: string, body: () => void): Promise<void> {
  let error: unknown;
  try {
    await probe();
  } catch (err) {
    error = err;
  }
  if (error && requireInfra) {
    throw new Error(`${engine} is required (GREENLANE_REQUIRE_INFRA=1) but unreachable: ${(error as Error).message}`);
  }
  (error ? describe.skip : describe)(`${name} [${engine}]`, body);
}

type Engine = 'kafka' | 'redis' | 'postgres';

/**
 * A probe for describeWithEngine built on the CLI's own doctor probes: it throws with the
 * engine's detail when any of the named engines does not answer.
 */
export function engineProbe(...engines: Engine[]): () => Promise<void> {
  return async () => {
    const { probeKafka } = await import('../../src/adapters/kafka/probe.js');
    const { probeRedis } = await import('../../src/adapters/redis/probe.js');
    const { probePostgres } = await import('../../src/adapters/postgres/probe.js');
    const checks = { kafka: () => probeKafka(infra.kafkaBrokers, 3_000), redis: () => probeRedis(infra.redisUrl, 2_000), postgres: () => probePostgres(infra.databaseUrl, 2_000) };
    for (const engine of engines) {
      const result = await checks[engine]();
      if (!result.ok) throw new Error(`${engine}: ${result.detail}`);
    }
  };
}

/**
 * A probe for the clusters: Kafka answers with at least 3 brokers; the Redis Cluster serves every slot with 3 masters,
 * each with a replica (a killed master needs one to fail over to).
 */
export function clusterProbe(...engines: ('kafka' | 'redis' | 'postgres')[]): () => Promise<void> {
  return async () => {
    const { probeKafka } = await import('../../src/adapters/kafka/probe.js');
    const { probeRedis } = await import('../../src/adapters/redis/probe.js');
    if (engines.includes('kafka')) {
      const k = await probeKafka(infra.clusterKafkaBrokers, 5_000);
      if (!k.ok || !/\b([3-9]|\d{2,}) brokers?/.test(k.detail)) throw new Error(`kafka cluster (3 brokers): ${k.detail}`);
    }
    if (engines.includes('redis')) {
      const r = await probeRedis(infra.clusterRedisUrl, 3_000);
      if (!r.ok) throw new Error(`redis cluster: ${r.detail}`);
      const { Cluster } = await import('ioredis');
      const { parseRedisClusterUrl } = await import('../../src/util/redis-url.js');
      const c = new Cluster(parseRedisClusterUrl(infra.clusterRedisUrl).nodes, { lazyConnect: true });
      try {
        await c.connect();
        const nodes = String(await c.cluster('NODES')).split('\n').filter(Boolean);
        const masters = nodes.filter((l) => / master /.test(` ${l.split(' ')[2].replace(/,/g, ' ')} `) && !l.includes('fail')).length;
        const replicas = nodes.filter((l) => l.split(' ')[2].includes('slave') && !l.includes('fail')).length;
        if (masters < 3 || replicas < masters) throw new Error(`redis cluster: ${masters} masters and ${replicas} replicas up (need 3 and one each)`);
      } finally {
        c.disconnect();
      }
    }
    if (engines.includes('postgres')) await engineProbe('postgres')();
  };
}

/** Deletes every key of a namespace on the single-node Redis (through a client without the prefix, as KEYS returns full names). */
export async function dropRedisNamespace(namespace: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const raw = new Redis(infra.redisUrl);
  try {
    const keys = await raw.keys(`${namespace}:*`);
    if (keys.length) await raw.del(...keys);
  } finally {
    raw.disconnect();
  }
}

/** The GREENLANE_* variables that point a process at the test engines, in a namespace of its own. */
export function engineEnv(namespace: string): Record<'GREENLANE_KAFKA_BROKERS' | 'GREENLANE_REDIS_URL' | 'GREENLANE_DATABASE_URL' | 'GREENLANE_NAMESPACE', string> {
  return { GREENLANE_KAFKA_BROKERS: infra.kafkaBrokers.join(','), GREENLANE_REDIS_URL: infra.redisUrl, GREENLANE_DATABASE_URL: infra.databaseUrl, GREENLANE_NAMESPACE: namespace };
}
