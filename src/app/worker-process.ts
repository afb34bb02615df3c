import { ConfigError, UsageError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import { envName } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { createRegistry, metricsPortFor, serveMetrics } from '../observability/metrics.js';
import { createWorker, type WorkerStats } from '../services/worker.js';
import { createEngines, openPriceSource } from './engines.js';

export interface WorkerProcessOptions {
  logger: Logger;
  /** Called once the worker runs; the worker drains and stops when it resolves (Ctrl-C). */
  untilStopped(): Promise<void>;
  warn(message: string): void;
  say(message: string): void;
  /** A partition with no progress for this long (ms) while its lag grows makes /ready false (default 60 s). */
  stallAfterMs?: number;
}

/** `greenlane worker` needs Kafka and PostgreSQL; embedded mode has the worker inside `greenlane up`. */
export function assertWorkerEngines(loaded: LoadedConfig): void {
  const { config, mode } = loaded;
  if (mode === 'embedded')
    throw new UsageError('`greenlane worker` consumes from Kafka and writes to PostgreSQL; no engine is configured (embedded mode).', [
      'Run `greenlane up`: in embedded mode it hosts the worker with ingestion and grid in one process.',
      `Or set ${envName('kafkaBrokers')} and ${envName('databaseUrl')} (e.g. after \`greenlane infra up\`).`,
    ]);
  const missing = [!config.kafkaBrokers?.length && 'kafkaBrokers', !config.databaseUrl && 'databaseUrl'].filter(Boolean) as ('kafkaBrokers' | 'databaseUrl')[];
  if (missing.length) throw new ConfigError(`The worker needs Kafka and PostgreSQL; missing ${missing.map(envName).join(', ')}`, ['Set them, or unset every engine setting and run `greenlane up` embedded.']);
}

/** Runs a standalone pricing worker with its metrics endpoint until stopped; returns its totals. */
export async function runWorkerProcess(loaded: LoadedConfig, opts: WorkerProcessOptions): Promise<WorkerStats> {
  assertWorkerEngines(loaded);
  const { config } = loaded;
  const { logger } = opts;
  const registry = createRegistry();
  const engines = await createEngines(config, { need: ['bus', 'store'], logger, clientId: 'greenlane-worker' });
  const prices = await openPriceSource(loaded.mode, config, { logger });
  const worker = createWorker({ bus: engines.bus!, store: engines.store!, prices, namespace: config.namespace, logger, registry, stallAfterMs: opts.stallAfterMs });
  const metricsPort = metricsPortFor('worker', config.metricsPort);
  try {
    if (!(await prices.refresh())) opts.warn(`Grid at ${config.gridUrl} is unreachable: pricing from the local curve (flagged stale) until it answers.`);
    const metrics = await serveMetrics({ registry, port: metricsPort, host: config.bind, token: config.metricsToken, ready: () => worker.readiness(), flag: '--metrics-port' });
    await worker.start();
    const ns = config.namespace ? config.namespace + '.' : '';
    opts.say(`Worker consuming ${ns}fleet-events as ${ns}pricing-worker-group; metrics on :${metricsPort}/metrics. Ctrl-C drains and stops.`);
    await opts.untilStopped();
    await worker.stop();
    metrics.close();
    const stats = worker.stats();
    opts.say(`Stopped: ${stats.events} events, ${stats.telemetryRows} telemetry rows, ${stats.dlq} to the DLQ.`);
    return stats;
  } finally {
    prices.close();
    await engines.close();
  }
}
