import { Flags } from '@oclif/core';
import { createHttpPriceSource } from '../adapters/grid/http-price-source.js';
import { createEngines } from '../app/engines.js';
import { BaseCommand } from '../cli/base-command.js';
import { ConfigError, UsageError } from '../errors.js';
import { engineFlags } from '../cli/flags.js';
import { untilSignal } from '../cli/shutdown.js';
import { envName } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { createRegistry, METRICS_OFFSETS, metricsPortFor, serveMetrics } from '../observability/metrics.js';
import { createWorker, type WorkerStats } from '../services/worker.js';

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
    'metrics-port': Flags.integer({ summary: `Base metrics port; the worker serves /metrics on it + ${METRICS_OFFSETS.worker}.`, env: 'GREENLANE_METRICS_PORT', min: 0, max: 65533 }),
  };

  async run(): Promise<WorkerStats> {
    const { config, mode } = this.cfg;
    if (mode === 'embedded')
      throw new UsageError('`greenlane worker` consumes from Kafka and writes to PostgreSQL; no engine is configured (embedded mode).', [
        'Run `greenlane up`: in embedded mode it hosts the worker with ingestion and grid in one process.',
        `Or set ${envName('kafkaBrokers')} and ${envName('databaseUrl')} (e.g. after \`greenlane infra up\`).`,
      ]);
    const missing = [!config.kafkaBrokers?.length && 'kafkaBrokers', !config.databaseUrl && 'databaseUrl'].filter(Boolean) as ('kafkaBrokers' | 'databaseUrl')[];
    if (missing.length) throw new ConfigError(`The worker needs Kafka and PostgreSQL; missing ${missing.map(envName).join(', ')}`, ['Set them, or unset every engine setting and run `greenlane up` embedded.']);

    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'worker' });
    const registry = createRegistry();
    const engines = await createEngines(config, { need: ['bus', 'store'], logger, clientId: 'greenlane-worker' });
    const prices = createHttpPriceSource({ gridUrl: config.gridUrl, logger });
    const worker = createWorker({ bus: engines.bus!, store: engines.store!, prices, namespace: config.namespace, logger, registry });
    const metricsPort = metricsPortFor('worker', config.metricsPort);
    try {
      if (!(await prices.refresh())) this.warn(`Grid at ${config.gridUrl} is unreachable: pricing from the local curve (flagged stale) until it answers.`);
      const metrics = await serveMetrics({ registry, port: metricsPort, ready: () => worker.ready(), flag: '--metrics-port' });
      await worker.start();
      this.say(`Worker consuming ${config.namespace ? config.namespace + '.' : ''}fleet-events as ${config.namespace ? config.namespace + '.' : ''}pricing-worker-group; metrics on :${metricsPort}/metrics. Ctrl-C drains and stops.`);
      const { signal, dispose } = untilSignal();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      dispose();
      await worker.stop();
      metrics.close();
      const stats = worker.stats();
      this.say(`Stopped: ${stats.events} events, ${stats.telemetryRows} telemetry rows, ${stats.dlq} to the DLQ.`);
      return stats;
    } finally {
      prices.close();
      await engines.close();
    }
  }
}
