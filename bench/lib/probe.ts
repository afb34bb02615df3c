import { performance } from 'node:perf_hooks';
import type { Stack } from '../../src/app/stack.js';

/**
 * Instruments a running stack from the outside by wrapping three port methods on the very objects
 * the services call (no change to the services): the worker's store.insertTelemetry (a row is
 * durable when that promise resolves, which is also when the worker lets the bus commit), and
 * ingestion's fleet.upsertCars and bus.publish. Cost per call: two clock reads and, for sampled
 * rows, one subtraction.
 */
export interface Probe {
  /** Rows newly inserted (as reported by the database) since the last reset. */
  persisted: number;
  lastPersistAt: number;
  /** Records ingestion handed to bus.publish for the events topic. */
  published: number;
  /** Milliseconds spent inside each wrapped call (overlapping calls add up). */
  busyMs: { insertTelemetry: number; busPublish: number; fleetUpsert: number };
  calls: { insertTelemetry: number; busPublish: number; fleetUpsert: number };
  /** Telemetry timestamp → insert resolved, ms, for every `sampleEvery`-th row. */
  latencies: number[];
  /** Rows persisted up to each instant, for the in-window rate. */
  reset(): void;
  persistedBy(at: number): number;
}

export function instrument(stack: Stack, eventsTopic: string, sampleEvery = 10): Probe {
  // No store in this process when the worker runs in its own (the database is read instead).
  const store = stack.engines.store;
  const bus = stack.engines.bus!;
  const fleet = stack.engines.fleet!;
  const timeline: [number, number][] = [];
  const probe: Probe = {
    persisted: 0,
    lastPersistAt: 0,
    published: 0,
    busyMs: { insertTelemetry: 0, busPublish: 0, fleetUpsert: 0 },
    calls: { insertTelemetry: 0, busPublish: 0, fleetUpsert: 0 },
    latencies: [],
    reset() {
      Object.assign(probe, { persisted: 0, lastPersistAt: 0, published: 0, latencies: [] });
      probe.busyMs = { insertTelemetry: 0, busPublish: 0, fleetUpsert: 0 };
      probe.calls = { insertTelemetry: 0, busPublish: 0, fleetUpsert: 0 };
      timeline.length = 0;
    },
    persistedBy(at) {
      let n = 0;
      for (const [t, total] of timeline) if (t <= at) n = total;
      return n;
    },
  };

  if (store) {
    const insert = store.insertTelemetry.bind(store);
    store.insertTelemetry = async (rows) => {
      const t0 = performance.now();
      const inserted = await insert(rows);
      const at = Date.now();
      probe.busyMs.insertTelemetry += performance.now() - t0;
      probe.calls.insertTelemetry++;
      probe.persisted += inserted;
      probe.lastPersistAt = at;
      timeline.push([at, probe.persisted]);
      for (let i = 0; i < rows.length; i += sampleEvery) probe.latencies.push(at - rows[i].time);
      return inserted;
    };
  }

  const publish = bus.publish.bind(bus);
  bus.publish = async (topic, records) => {
    if (topic !== eventsTopic) return publish(topic, records);
    const t0 = performance.now();
    await publish(topic, records);
    probe.busyMs.busPublish += performance.now() - t0;
    probe.calls.busPublish++;
    probe.published += records.length;
  };

  const upsert = fleet.upsertCars.bind(fleet);
  fleet.upsertCars = async (cars) => {
    const t0 = performance.now();
    await upsert(cars);
    probe.busyMs.fleetUpsert += performance.now() - t0;
    probe.calls.fleetUpsert++;
  };
  return probe;
}
