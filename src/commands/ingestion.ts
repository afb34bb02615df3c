import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { engineFlags, listenFlags } from '../cli/flags.js';
import { untilSignal } from '../cli/shutdown.js';
import { devTokenPath } from '../config/token.js';
import { createLogger } from '../observability/logger.js';
import type { IngestionStats } from '../services/ingestion/ingestion.js';
import { assertIngestionEngines } from '../app/processes-engines.js';
import { ingestionProcesses, isIngestionClusterWorker, runIngestionCluster, runIngestionClusterWorker } from '../app/processes-cluster.js';
import { grpcBindHost, warnIfExposed } from '../app/exposure.js';

export default class Ingestion extends BaseCommand<typeof Ingestion> {
  static override summary = 'Run the gRPC telemetry ingestion server (FleetService) on its own.';
  static override description = [
    'Accepts StreamTelemetry (one stream per car, the original RPC) and StreamTelemetryBatch, authenticated by the x-api-token metadata.',
    'Every message is validated; a bad one is answered with BOOKING_FAILED naming the field and the stream goes on.',
    'Accepted telemetry is written in batches to fleet state (Redis GEO + hashes) and to the fleet-events topic (key car_id);',
    'when they slow down, streams are paused until they catch up. Each instance runs the charging coordinator (bookings, expiry sweeps,',
    'decisions routed to the instance holding the car\'s stream); run several to scale out (external mode, atomic in Redis Lua).',
    'In external mode it starts --processes N of them sharing the gRPC port (default: one per core; the primary hands out connections,',
    'serves /metrics as the sum over the processes and restarts one that dies).',
    'External mode requires GREENLANE_API_TOKENS. Embedded mode (no engine configured) keeps everything in this process and accepts',
    'the dev token from the data dir; `greenlane up` is usually what you want there.',
  ].join('\n');
  static override examples = [
    'GREENLANE_API_TOKENS=$(openssl rand -hex 32) GREENLANE_KAFKA_BROKERS=127.0.0.1:19092 GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> ingestion',
    '<%= config.bin %> ingestion --grpc-port 50052 --metrics-port 0',
    '<%= config.bin %> ingestion --processes 4',
  ];
  static override flags = {
    ...engineFlags,
    ...listenFlags,
    'grpc-port': Flags.integer({ summary: 'Port to listen on.', env: 'GREENLANE_GRPC_PORT', min: 0, max: 65535 }),
    'grpc-host': Flags.string({ summary: 'Address the gRPC server binds (default: --bind, 127.0.0.1).', env: 'GREENLANE_GRPC_HOST' }),
    'metrics-port': Flags.integer({ summary: 'Port for /metrics, /health and /ready (0 picks a free one).', env: 'GREENLANE_METRICS_PORT', min: 0, max: 65535 }),
    clock: Flags.option({ options: ['auto', 'wall', 'event-time'] as const, summary: "Coordinator clock: wall (server time), event-time (simulated time; embedded/dev) or auto.", env: 'GREENLANE_CLOCK' })(),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    processes: Flags.integer({ summary: 'External mode: ingestion processes sharing the gRPC port (default: one per core; embedded: 1).', env: 'GREENLANE_INGESTION_PROCESSES', min: 1, max: 256 }),
  };

  async run(): Promise<IngestionStats & { port: number }> {
    const { config, mode } = this.cfg;
    assertIngestionEngines(this.cfg);
    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'ingestion' });
    if (isIngestionClusterWorker()) return runIngestionClusterWorker(this.cfg, logger, this.nextSignal());
    const processes = ingestionProcesses(this.cfg, this.flags.processes);
    warnIfExposed(this.cfg.config, { grpc: true, metrics: true });
    const tls = config.tlsCert ? (config.tlsCa ? ' (TLS, client certificates required)' : ' (TLS)') : '';
    if (processes > 1) {
      const { port, stats } = await runIngestionCluster(this.cfg, { processes, listenNote: tls, logger, say: (m) => this.say(m), until: this.nextSignal() });
      this.say(`Stopped: ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.published} written (${processes} processes).`);
      return { ...stats, port };
    }
    // Loaded only where a stack runs (not in the primary of --processes N, which forks sooner without it).
    const { startIngestionProcess } = await import('../app/processes.js');
    const running = await startIngestionProcess(this.cfg, logger);
    const { stack } = running;
    const ingestion = stack.ingestion!;
    try {
      this.say(`Ingestion listening on ${grpcBindHost(config)}:${ingestion.port}${tls} (${mode}; bus ${stack.engines.bus!.kind}, fleet state ${stack.engines.fleet!.kind}, reservations ${stack.reservations?.kind ?? 'none'}).`);
      this.say(`Metrics on :${running.metricsPort}/metrics.`);
      if (mode === 'embedded') {
        this.say(`Embedded: events stay in this process and nothing is persisted; \`greenlane up\` runs the whole stack. Dev token: ${devTokenPath(config.dataDir)}`);
      }
      this.say('Ctrl-C drains and stops.');
      await this.nextSignal();
      await running.stop();
      const stats = ingestion.stats();
      this.say(`Stopped: ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.published} written.`);
      return { ...stats, port: ingestion.port };
    } catch (err) {
      await stack.stop().catch(() => {});
      throw err;
    }
  }

  /** Resolves on the first SIGINT/SIGTERM. */
  private nextSignal(): Promise<void> {
    const { signal, dispose } = untilSignal();
    return new Promise<void>((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          dispose();
          resolve();
        },
        { once: true },
      ),
    );
  }
}
