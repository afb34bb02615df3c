import { performance } from 'node:perf_hooks';
import type { TelemetryEvent } from '../../domain/events.js';
import type { Logger } from '../../observability/logger.js';
import { timed } from '../../observability/metrics.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { CarState, FleetState } from '../../ports/fleet-state.js';
import type { IngestionMetrics } from './metrics.js';

export interface BatchWriterDeps {
  fleet: FleetState;
  bus: EventBus;
  topic: string;
  logger: Logger;
  metrics: Pick<IngestionMetrics, 'engine' | 'flushSeconds' | 'flushErrors'>;
  /** True once shutdown began: a failing batch is then given up after MAX_ATTEMPTS_WHILE_STOPPING. */
  isStopping(): boolean;
  /** Called for every failed attempt. */
  onError?(err: unknown): void;
  /** Waits between attempts (tests pass a fake). */
  sleep?(ms: number): Promise<void>;
}

export const MAX_ATTEMPTS_WHILE_STOPPING = 3;

/** Backoff before the next attempt after failed attempt `attempt` (1-based): 100 ms, doubling, at most 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 5_000);
}

/**
 * Writes one batch to fleet state (newest state per car) and the bus (every event, keyed by car),
 * retrying until both succeed: the batch is kept (and the streams stay paused behind it) until the
 * engines are back. Gives up, returning false, only during shutdown.
 */
export async function writeTelemetryBatch(deps: BatchWriterDeps, events: TelemetryEvent[]): Promise<boolean> {
  const { fleet, bus, metrics, logger } = deps;
  const records = events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) }));
  const cars = latestPerCar(events);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    try {
      await Promise.all([
        timed(metrics.engine, { engine: fleet.kind, op: 'upsert_cars' }, fleet.upsertCars(cars)),
        timed(metrics.engine, { engine: bus.kind, op: 'publish' }, bus.publish(deps.topic, records)),
      ]);
      metrics.flushSeconds.observe((performance.now() - t0) / 1000);
      return true;
    } catch (err) {
      deps.onError?.(err);
      metrics.flushErrors.inc();
      if (deps.isStopping() && attempt >= MAX_ATTEMPTS_WHILE_STOPPING) {
        logger.error({ err, lost: events.length }, 'ingestion: giving up on a batch during shutdown');
        return false;
      }
      logger.warn({ err, attempt, size: events.length }, 'ingestion: batch write failed; retrying');
      await sleep(retryDelayMs(attempt));
    }
  }
}

/** Only the newest state per car goes to fleet state (a batch may hold several updates of one car). */
export function latestPerCar(events: TelemetryEvent[]): CarState[] {
  const latest = new Map<string, TelemetryEvent>();
  for (const e of events) {
    const prev = latest.get(e.car_id);
    if (!prev || e.timestamp >= prev.timestamp) latest.set(e.car_id, e);
  }
  return [...latest.values()].map((e) => ({ carId: e.car_id, lat: e.lat, lon: e.lon, battery: e.battery, velocity: e.velocity, timestamp: e.timestamp }));
}
