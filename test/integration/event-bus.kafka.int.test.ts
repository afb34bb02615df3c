import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { EngineUnreachableError } from '../../src/errors.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { eventBusContract } from '../contract/event-bus.contract.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

const admin = () => new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 2_000 }).admin();

async function probe(): Promise<void> {
  const client = admin();
  await client.connect();
  await client.disconnect();
}

const prefixes: string[] = [];

/** Deletes the topics this run created so the broker doesn't accumulate them. */
async function dropTopics(): Promise<void> {
  const client = admin();
  await client.connect();
  const mine = (await client.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(`${p}.`)));
  if (mine.length) await client.deleteTopics({ topics: mine }).catch(() => {});
  await client.disconnect();
}

const makeBus = (): Promise<EventBus> =>
  createKafkaEventBus({
    brokers: infra.kafkaBrokers,
    clientId: 'greenlane-test',
    // Small timings keep joins, rebalances and fetches on a quiet topic fast.
    consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 },
  });

await describeWithEngine('kafka', probe, 'EventBus contract [kafka]', () => {
  afterAll(dropTopics);

  eventBusContract(makeBus, () => {
    const prefix = testNamespace('bus');
    prefixes.push(prefix);
    return prefix;
  });

  it('creates topics with 3 partitions and tolerates creating them again', async () => {
    const prefix = testNamespace('bus');
    prefixes.push(prefix);
    const bus = await makeBus();
    try {
      const topic = `${prefix}.fleet-events`;
      await bus.ensureTopics([topic, `${topic}.dlq`]);
      await bus.ensureTopics([topic]);
      const client = admin();
      await client.connect();
      const { topics } = await client.fetchTopicMetadata({ topics: [topic] });
      await client.disconnect();
      expect(topics[0].partitions).toHaveLength(3);
    } finally {
      await bus.close();
    }
  });

  it('lands concurrent publishes exactly once (idempotent producer, one request in flight)', async () => {
    const prefix = testNamespace('bus');
    prefixes.push(prefix);
    const bus = await makeBus();
    try {
      const topic = `${prefix}.fleet-events`;
      await bus.ensureTopics([topic]);
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 20 }, (_, caller) =>
          bus.publish(topic, Array.from({ length: 250 }, (_, i) => ({ key: `CAR-${i % 50}`, value: JSON.stringify({ caller, i }) }))),
        ),
      );
      const elapsedMs = Date.now() - started;
      const client = admin();
      await client.connect();
      const heads = await client.fetchTopicOffsets(topic);
      await client.disconnect();
      expect(heads.reduce((sum, p) => sum + Number(p.high), 0)).toBe(5_000);
      expect(elapsedMs).toBeLessThan(15_000);
    } finally {
      await bus.close();
    }
  });

  it('fails fast with EngineUnreachableError when no broker listens', async () => {
    const started = Date.now();
    await expect(createKafkaEventBus({ brokers: ['127.0.0.1:1'], connectTimeoutMs: 8_000 })).rejects.toBeInstanceOf(EngineUnreachableError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
