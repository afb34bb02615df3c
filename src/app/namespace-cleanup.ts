import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';

/**
 * Removes what a run in a throwaway namespace created on the real engines: the schema, the
 * namespace's Redis keys and its topics. Failures are logged, never thrown (cleanup is best effort).
 */
export async function dropNamespace(loaded: LoadedConfig, namespace: string, logger: Logger): Promise<void> {
  const { config } = loaded;
  const tasks: Promise<unknown>[] = [];
  if (config.databaseUrl) {
    tasks.push(
      (async () => {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: config.databaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`).finally(() => client.end());
      })(),
    );
  }
  if (config.redisUrl) {
    tasks.push(
      (async () => {
        const { Redis } = await import('ioredis');
        const redis = new Redis(config.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
          if (keys.length) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
        redis.disconnect();
      })(),
    );
  }
  if (config.kafkaBrokers?.length) {
    tasks.push(
      (async () => {
        const { Kafka, logLevel } = await import('kafkajs');
        const admin = new Kafka({ brokers: config.kafkaBrokers!, clientId: 'greenlane-cleanup', logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
        if (topics.length) await admin.deleteTopics({ topics });
        await admin.disconnect();
      })(),
    );
  }
  for (const r of await Promise.allSettled(tasks)) if (r.status === 'rejected') logger.warn({ err: r.reason, namespace }, 'namespace cleanup failed');
}
