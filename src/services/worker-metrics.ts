import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { engineLatency } from '../observability/metrics.js';

export type WorkerMetrics = ReturnType<typeof workerMetrics>;

/** The pricing worker's metrics on `registry`; `lag` is read at scrape time. */
export function workerMetrics(registry: Registry, lag: () => Promise<number | undefined> | undefined) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    events: get('greenlane_worker_events_total', () => new Counter({ name: 'greenlane_worker_events_total', help: 'Events consumed, by event_type (invalid = sent to the DLQ).', labelNames: ['type'], registers })),
    rows: get('greenlane_worker_rows_written_total', () => new Counter({ name: 'greenlane_worker_rows_written_total', help: 'Rows newly inserted, by table (re-deliveries not counted).', labelNames: ['table'], registers })),
    dlq: get('greenlane_worker_dlq_total', () => new Counter({ name: 'greenlane_worker_dlq_total', help: 'Records routed to the DLQ, by reason.', labelNames: ['reason'], registers })),
    failures: get('greenlane_worker_batch_failures_total', () => new Counter({ name: 'greenlane_worker_batch_failures_total', help: 'Batches that failed to persist and will be delivered again.', registers })),
    duration: get('greenlane_worker_batch_duration_seconds', () => new Histogram({ name: 'greenlane_worker_batch_duration_seconds', help: 'Time to price and persist one batch.', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers })),
    lag: get('greenlane_worker_consumer_lag', () => new Gauge({
      name: 'greenlane_worker_consumer_lag',
      help: 'Records on fleet-events behind the pricing-worker-group commit (read at scrape time).',
      registers,
      async collect() {
        const n = await lag();
        if (n !== undefined) this.set(n);
      },
    })),
    engine: engineLatency(registry, 'worker'),
    stale: get('greenlane_worker_price_stale', () => new Gauge({ name: 'greenlane_worker_price_stale', help: '1 while prices come from a cached or local curve because the grid is unreachable.', registers })),
  };
}
