import { Flags } from '@oclif/core';
import { assertWorkerEngines, runWorkerProcess } from '../app/worker-process.js';
import { BaseCommand } from '../cli/base-command.js';
import { engineFlags } from '../cli/flags.js';
import { untilSignal } from '../cli/shutdown.js';
import { createLogger } from '../observability/logger.js';
import { METRICS_OFFSETS } from '../observability/metrics.js';
import type { WorkerStats } from '../services/worker.js';

export default class Worker extends BaseCommand<typeof Worker> {
  static override summary = 'Consume fleet-events, price each event and persist it to PostgreSQL (external mode).';
  static override description = [
    'Joins the Kafka consumer group pricing-worker-group on fleet-events; run several to scale out.',
    'Each event is priced at its own timestamp from a cached grid curve (a grid outage serves the last known curve, flagged stale).',
    'Rows are written in batches, idempotently on event_id, and offsets are committed only after the rows are durable.',
    'Invalid records go to fleet-events.dlq with the reason. In embedded mode use `greenlane up`, which hosts the worker.',
  ].join('\n');
  static override examples = [
    'GREENLANE_KAFKA_BROKERS=127.0.0.1:19092 GREENLANE_DATABASE_URL=postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane <%= config.bin %> worker',
  ];
  static override flags = {
    ...engineFlags,
    'grid-url': Flags.string({ summary: 'Grid price service base URL.', env: 'GREENLANE_GRID_URL' }),
    'stall-after': Flags.integer({ summary: 'Seconds a partition may make no progress while its lag grows before /ready turns false.', env: 'GREENLANE_WORKER_STALL_SEC', default: 60, min: 1 }),
    'metrics-port': Flags.integer({ summary: `Base metrics port; the worker serves /metrics on it + ${METRICS_OFFSETS.worker}.`, env: 'GREENLANE_METRICS_PORT', min: 0, max: 65533 }),
  };

  async run(): Promise<WorkerStats> {
    const { config } = this.cfg;
    assertWorkerEngines(this.cfg);
    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'worker' });
    return runWorkerProcess(this.cfg, { logger, untilStopped, warn: (m) => this.warn(m), say: (m) => this.say(m), stallAfterMs: this.flags['stall-after'] * 1000 });
  }
}

async function untilStopped(): Promise<void> {
  const { signal, dispose } = untilSignal();
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  dispose();
}
