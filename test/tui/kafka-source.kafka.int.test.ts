import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import type { FleetEvent } from '../../src/domain/events.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { createKafkaSource } from '../../src/tui/sources/kafka-source.js';
import type { SourceStatus } from '../../src/tui/sources/types.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

const admin = () => new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 2_000 }).admin();
const ns = testNamespace('tail');
const makeBus = () => createKafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'greenlane-tail-test', consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 } });
const until = async (cond: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};
const telemetry = (car: string) => ({ key: car, value: JSON.stringify({ event_id: `${car}-${Date.now()}`, event_type: 'telemetry', car_id: car, lat: 40.75, lon: -73.98, battery: 12, velocity: 10, timestamp: Date.now() }) });

await describeWithEngine(
  'kafka',
  async () => {
    const a = admin();
    await a.connect();
    await a.disconnect();
  },
  'tail kafka source',
  () => {
    const buses: EventBus[] = [];
    afterAll(async () => {
      for (const b of buses) await b.close().catch(() => {});
      const a = admin();
      await a.connect();
      const mine = (await a.listTopics()).filter((t) => t.startsWith(`${ns}.`));
      if (mine.length) await a.deleteTopics({ topics: mine }).catch(() => {});
      await a.disconnect();
    });

    it('tails the namespaced fleet-events topic from latest, with its own group, and reports lag', async () => {
      const producer = await makeBus();
      buses.push(producer);
      const topic = `${ns}.fleet-events`;
      await producer.ensureTopics([topic]);
      await producer.publish(topic, [telemetry('OLD-1')]);
      const events: FleetEvent[] = [];
      const statuses: SourceStatus[] = [];
      const lags: (number | undefined)[] = [];
      const source = createKafkaSource({ namespace: ns, connectBus: makeBus, lagIntervalMs: 500 });
      await source.start({ onEvents: (e) => void events.push(...e), onStatus: (s) => statuses.push(s), onLag: (l) => lags.push(l) });
      await until(() => statuses.at(-1)?.state === 'connected');
      // The group joins asynchronously; keep publishing until the tail sees something.
      await until(() => {
        void producer.publish(topic, [telemetry('CAR-001')]);
        return events.length > 0;
      });
      await until(() => lags.some((l) => l !== undefined));
      await source.stop();
      expect(events.every((e) => e.car_id === 'CAR-001')).toBe(true);
      expect(statuses.at(-1)?.state).toBe('stopped');
      expect(source.groupId).toMatch(/^live-ops-cli-/);
    }, 60_000);
  },
);
