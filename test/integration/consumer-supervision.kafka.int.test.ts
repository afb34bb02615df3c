import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';
import { sleep } from '../helpers/net.js';

/**
 * A kafkajs consumer that crashes with an error kafkajs judges non-retriable (after a broker restart:
 * KafkaJSGroupCoordinatorNotFound) disconnects and is never started again; the worker then persisted
 * nothing more while looking healthy. Here the real consumer is disconnected the same way behind the
 * subscription's back: the subscription must say it is not consuming, replace the consumer, and
 * deliver what is published afterwards.
 */
const topics: string[] = [];

await describeWithEngine('kafka', engineProbe('kafka'), 'Kafka subscription survives its consumer dying', () => {
  afterAll(async () => {
    const admin = new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });

  it('replaces a consumer that stopped without a restart and consumes again', async () => {
    const topic = `${testNamespace('cons')}.fleet-events`;
    topics.push(topic);
    const consumers: Consumer[] = [];
    const bus = await createKafkaEventBus({
      brokers: infra.kafkaBrokers,
      clientId: 'greenlane-test',
      consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100, deadAfterMs: 2_000, onConsumer: (c) => consumers.push(c) },
    });
    const seen: string[] = [];
    try {
      await bus.ensureTopics([topic]);
      const sub = await bus.subscribe({ topic, groupId: `${topic}.group`, handleBatch: async (rs: ConsumedRecord[]) => void seen.push(...rs.map((r) => r.value)) });
      await bus.publish(topic, [{ key: 'a', value: 'before' }]);
      await until(() => seen.includes('before'), 20_000);
      expect(sub.health?.()).toMatchObject({ consuming: true, restarts: 0 });

      // What kafkajs does on a crash it will not restart: disconnect, and nothing more.
      await consumers[0].disconnect();
      await bus.publish(topic, [{ key: 'a', value: 'after' }]);
      await until(() => sub.health?.().consuming === false || seen.includes('after'), 10_000);
      await until(() => seen.includes('after'), 30_000);
      expect(consumers.length).toBeGreaterThanOrEqual(2);
      await until(() => sub.health?.().consuming === true, 10_000);
      expect(sub.health?.().restarts).toBeGreaterThanOrEqual(1);
      await sub.stop();
    } finally {
      await bus.close();
    }
  }, 90_000);
});

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
