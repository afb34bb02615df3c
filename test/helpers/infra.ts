import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';

/** Engine addresses for integration tests; the same env names as the CLI. */
export const infra = {
  kafkaBrokers: process.env.GREENLANE_KAFKA_BROKERS?.split(',') ?? ['127.0.0.1:19092'],
  redisUrl: process.env.GREENLANE_REDIS_URL ?? 'redis://127.0.0.1:6379',
  databaseUrl: process.env.GREENLANE_DATABASE_URL ?? 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane',
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
