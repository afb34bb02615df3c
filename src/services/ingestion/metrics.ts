import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { engineLatency } from '../../observability/metrics.js';

export type IngestionMetrics = ReturnType<typeof createIngestionMetrics>;

/** Ingestion's metrics on `registry`; `queued` reads the batch queue depth at scrape time. */
export function createIngestionMetrics(registry: Registry, queued: () => number) {
  // Reuse metrics already on the registry so several instances (tests, restarts) can share one.
  const get = <M extends Metric>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  const registers = [registry];
  return {
    accepted: get('greenlane_ingestion_telemetry_accepted_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_accepted_total', help: 'Telemetry messages that passed validation', registers })),
    rejected: get('greenlane_ingestion_telemetry_rejected_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_rejected_total', help: 'Telemetry messages rejected, by invalid field', labelNames: ['reason'], registers })),
    published: get('greenlane_ingestion_telemetry_published_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_published_total', help: 'Telemetry events written to the bus and fleet state', registers })),
    authFailures: get('greenlane_ingestion_auth_failures_total', () => new Counter({ name: 'greenlane_ingestion_auth_failures_total', help: 'Calls refused for a missing or wrong x-api-token', registers })),
    flushErrors: get('greenlane_ingestion_flush_errors_total', () => new Counter({ name: 'greenlane_ingestion_flush_errors_total', help: 'Batch writes that failed and were retried', registers })),
    pauses: get('greenlane_ingestion_backpressure_pauses_total', () => new Counter({ name: 'greenlane_ingestion_backpressure_pauses_total', help: 'Times streams were paused because the batch queue was full', registers })),
    activeStreams: get('greenlane_ingestion_active_streams', () => new Gauge({ name: 'greenlane_ingestion_active_streams', help: 'Open telemetry streams', registers })),
    queueDepth: get('greenlane_ingestion_queue_depth', () => new Gauge({ name: 'greenlane_ingestion_queue_depth', help: 'Accepted events waiting for the batcher', registers, collect() { this.set(queued()); } })),
    engine: engineLatency(registry, 'ingestion'),
    flushSeconds: get('greenlane_ingestion_batch_flush_seconds', () =>
      new Histogram({ name: 'greenlane_ingestion_batch_flush_seconds', help: 'Time to write one batch to fleet state and the bus', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
    ),
  };
}
