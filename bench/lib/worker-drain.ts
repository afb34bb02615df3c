/**
 * The worker stage alone: a fresh worker drains telemetry already on the bus into the store, so
 * its ceiling can be read apart from ingestion (which shares the thread in the pipeline steps).
 */
import { Registry } from 'prom-client';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import type { Store, TelemetryRow } from '../../src/ports/store.js';
import { createWorker } from '../../src/services/worker.js';
import { round, say } from './stats.js';

export const telemetryJson = (r: TelemetryRow) =>
  JSON.stringify({ event_id: r.eventId, event_type: 'telemetry', car_id: r.carId, lat: r.lat, lon: r.lon, battery: r.battery, velocity: r.velocity, timestamp: r.time });

/** Publishes the rows as telemetry events on `${namespace}.fleet-events` in batches like ingestion's. */
export async function fillTopic(bus: EventBus, namespace: string, rows: TelemetryRow[]): Promise<void> {
  const topic = topicName(namespace, TOPIC_EVENTS);
  await bus.ensureTopics([topic, topicName(namespace, 'fleet-events.dlq')]);
  for (let i = 0; i < rows.length; i += 2000) await bus.publish(topic, rows.slice(i, i + 2000).map((r) => ({ key: r.carId, value: telemetryJson(r) })));
}

/**
 * Starts a worker (own group, from the beginning) and times it from its first durable batch to
 * `expected` rows; the store is wrapped the same way the pipeline probe wraps it.
 */
export async function workerDrainRate(o: { bus: EventBus; store: Store; namespace: string; groupId: string; expected: number; maxBatch?: number; label: string }): Promise<number | null> {
  let persisted = 0;
  let first = 0;
  let firstRows = 0;
  let last = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const insert = o.store.insertTelemetry;
  const store: Store = {
    ...o.store,
    kind: o.store.kind,
    insertTelemetry: async (rows) => {
      const n = await insert.call(o.store, rows);
      persisted += n;
      if (!first) [first, firstRows] = [performance.now(), n];
      last = performance.now();
      if (persisted >= o.expected) resolve();
      return n;
    },
  };
  const worker = createWorker({ bus: o.bus, store, prices: createLocalPriceSource(), namespace: o.namespace, logger: silentLogger, registry: new Registry(), groupId: o.groupId, maxBatch: o.maxBatch });
  await worker.start();
  const done = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 90_000))]);
  await worker.stop();
  if (!done || last <= first) {
    say(`  ceiling ${o.label} failed: ${persisted}/${o.expected} rows in 90 s`);
    return null;
  }
  const rate = round((persisted - firstRows) / ((last - first) / 1000));
  say(`  ceiling ${o.label}: ${rate}/s`);
  return rate;
}
