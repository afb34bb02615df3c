import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { UsageError } from '../errors.js';
import { engineFlags, listenFlags } from '../cli/flags.js';
import { ExitCode } from '../cli/exit-codes.js';
import { firstSignal, onShutdown } from '../cli/shutdown.js';
import { assertCompleteExternal } from '../config/load.js';
import { devTokenPath } from '../config/token.js';
import { createLogger } from '../observability/logger.js';
import { startEmbedded } from '../app/processes.js';
import { superviseServices } from '../app/supervisor.js';
import { resolveClockMode } from '../app/clock-mode.js';
import { DEFAULT_ENGINE_WAIT_SEC, ensureEventTopics, waitForEngines } from '../app/startup.js';
import { dialHost, grpcBindHost, warnIfExposed } from '../app/exposure.js';
import { checkTilesUrl, DEFAULT_WEB_PORT, startWebView, type WebView } from '../app/web-view.js';
import type { Logger } from '../observability/logger.js';
import { isSea } from '../util/assets.js';

/** Seconds, or a duration with a unit: 30, 30s, 2m. */
const duration = Flags.custom<number>({
  parse: async (input) => {
    const m = /^(\d+(?:\.\d+)?)\s*(s|m)?$/.exec(input.trim());
    if (!m) throw new UsageError(`--engine-wait takes seconds or a duration like 30s or 2m, not "${input}"`);
    return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  },
});

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Launch the whole stack: ingestion + coordinator, grid and worker (embedded by default).';
  static override description = [
    'With no engine configured, one process hosts every service over in-memory adapters and PGlite: nothing else to install.',
    'With Kafka, Redis and PostgreSQL configured (flags, GREENLANE_* env or --infra docker), each service runs as its own child',
    'process with prefixed logs; a crashed child is restarted with backoff. Ctrl-C drains everything in order; a second Ctrl-C forces.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --sim 20',
    '<%= config.bin %> up --sim 200 --speed 60',
    '<%= config.bin %> up --infra docker',
    'GREENLANE_KAFKA_BROKERS=127.0.0.1:19092 GREENLANE_REDIS_URL=redis://127.0.0.1:6379 GREENLANE_DATABASE_URL=postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane GREENLANE_API_TOKENS=$TOKEN <%= config.bin %> up',
  ];
  static override flags = {
    ...engineFlags,
    ...listenFlags,
    sim: Flags.integer({ summary: 'Also run this many simulated cars against the stack.', default: 0, min: 0, max: 100_000 }),
    speed: Flags.integer({ summary: 'Simulated seconds per real second for --sim.', default: 1, min: 1, max: 3600 }),
    seed: Flags.integer({ summary: 'Seed for --sim.', default: 1 }),
    infra: Flags.option({ options: ['none', 'docker'] as const, summary: 'Start engines first: docker runs `greenlane infra up` and points the services at it.', default: 'none' })(),
    'grpc-port': Flags.integer({ summary: 'Ingestion gRPC port.', env: 'GREENLANE_GRPC_PORT', min: 0, max: 65535 }),
    'grid-port': Flags.integer({ summary: 'Grid HTTP port.', env: 'GREENLANE_GRID_PORT', min: 0, max: 65535 }),
    'metrics-port': Flags.integer({ summary: 'Base port for /metrics.', env: 'GREENLANE_METRICS_PORT', min: 0, max: 65535 }),
    clock: Flags.option({ options: ['auto', 'wall', 'event-time'] as const, summary: "Coordinator clock: wall (server time), event-time (simulated time; embedded/dev) or auto.", env: 'GREENLANE_CLOCK' })(),
    'data-dir': Flags.string({ summary: 'Where embedded state and the dev token live.', env: 'GREENLANE_DATA_DIR' }),
    'engine-wait': duration({ summary: 'External mode: how long to wait for Kafka, Redis and PostgreSQL to answer before failing with exit 4 (e.g. 30s, 2m).', env: 'GREENLANE_ENGINE_WAIT_SEC', default: DEFAULT_ENGINE_WAIT_SEC }),
    ephemeral: Flags.boolean({ summary: 'Embedded: keep the database in memory instead of the data dir.', default: false }),
    web: Flags.boolean({ summary: 'Serve the live web map (--no-web: do not).', env: 'GREENLANE_WEB', default: true, allowNo: true }),
    'web-port': Flags.integer({ summary: 'Port of the web map.', env: 'GREENLANE_WEB_PORT', default: DEFAULT_WEB_PORT, min: 0, max: 65535 }),
    tiles: Flags.string({ summary: 'Web map basemap: a tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: the street grid alone, no network).', env: 'GREENLANE_WEB_TILES' }),
  };

  async run(): Promise<void> {
    // A bad --tiles is a usage error before anything starts, not a web map that silently stays off.
    if (this.flags.web && this.flags.tiles) checkTilesUrl(this.flags.tiles);
    if (this.flags.infra === 'docker') await this.startDockerInfra();
    const loaded = this.cfg;
    // Once for the whole stack (the supervised children do not repeat it).
    warnIfExposed(loaded.config);
    if (loaded.mode === 'external') {
      assertCompleteExternal(loaded.config);
      // Simulated time on real engines only when asked for by name (exit 3 with the hint otherwise).
      resolveClockMode(loaded, { speed: this.flags.sim > 0 ? this.flags.speed : 1 });
      await this.prepareEngines();
      const web = await this.startWeb(createLogger({ level: this.flags['log-level'] ?? loaded.config.logLevel, name: 'greenlane-web' }));
      const code = await superviseServices({
        loaded,
        sim: this.flags.sim,
        speed: this.flags.speed,
        log: (m) => this.say(m),
        until: firstSignal(),
        noRestartCodes: [ExitCode.usage, ExitCode.config],
      });
      await web?.stop().catch(() => {});
      this.exit(code); // 130/143: stopped by Ctrl-C or SIGTERM, after every child drained
    }
    this.exit(await this.runEmbedded());
  }

  /** Runs until the first SIGINT/SIGTERM, drains, and returns the exit code (130/143). */
  private async runEmbedded(): Promise<number> {
    const { config } = this.cfg;
    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'greenlane' });
    this.say(chalk.dim('Starting the embedded stack (PGlite takes a few seconds on first start)…'));
    const running = await startEmbedded(this.cfg, { logger, ephemeral: this.flags.ephemeral, sim: this.flags.sim, speed: this.flags.speed, seed: this.flags.seed });
    const { stack } = running;
    const web = await this.startWeb(logger, `${dialHost(grpcBindHost(config))}:${stack.ingestion!.port}`, stack.grid!.url);
    this.printEndpoints(stack.ingestion!.port, stack.grid!.url, config.metricsPort, config.dataDir);
    let drained = false;
    return new Promise<number>((resolve) => {
      onShutdown(
        async () => {
          await web?.stop().catch(() => {});
          await running.stop();
          drained = true;
        },
        // After the drain, return the code; past the deadline (or a second Ctrl-C), leave at once.
        { deadlineMs: 15_000, exit: (code) => (drained ? resolve(code) : process.exit(code)) },
      );
    });
  }

  /**
   * Before any child starts: every engine answers within --engine-wait (else exit 4 naming it,
   * instead of restarting children forever), and the topics exist with leaders, so the first
   * start against a fresh namespace never crashes a subscriber.
   */
  private async prepareEngines(): Promise<void> {
    const { config } = this.cfg;
    await waitForEngines(config, { waitMs: this.flags['engine-wait'] * 1000, say: (m) => this.say(chalk.dim(m)) });
    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'greenlane' });
    await ensureEventTopics(config, logger);
  }

  /** The web map, unless --no-web; a port already taken is a warning, not a failed stack. */
  private async startWeb(logger: Logger, server?: string, gridUrl?: string): Promise<WebView | undefined> {
    if (!this.flags.web) return undefined;
    try {
      const web = await startWebView(this.cfg, { logger, port: this.flags['web-port'], server, gridUrl, tiles: this.flags.tiles });
      this.say(`  ${chalk.bold('web'.padEnd(10))} ${web.url}/  (operator token: the page asks, or ${web.url}/#token=…)`);
      return web;
    } catch (err) {
      this.say(chalk.yellow(`Web map not started: ${(err as Error).message} (choose another --web-port, or --no-web).`));
      return undefined;
    }
  }

  private printEndpoints(grpcPort: number, gridUrl: string, metricsPort: number, dataDir: string): void {
    const row = (k: string, v: string) => this.say(`  ${chalk.bold(k.padEnd(10))} ${v}`);
    this.say(chalk.green('GreenLane is up (embedded).'));
    row('gRPC', `127.0.0.1:${grpcPort}  (FleetService.StreamTelemetry, x-api-token)`);
    row('grid', `${gridUrl}/api/pricing`);
    row('metrics', `http://127.0.0.1:${metricsPort}/metrics`);
    row('token', devTokenPath(dataDir));
    // The single executable is run by its name, not through npx.
    const cli = isSea() ? 'greenlane' : 'npx greenlane';
    this.say('\nNext, in another terminal:');
    for (const [args, what] of [
      ['sim --cars 50 --duration 30', 'stream a fleet'],
      ['tail', 'watch it live'],
      ['stations list', 'occupancy and queues'],
    ])
      this.say(`  ${cli} ${args.padEnd(30)}# ${what}`);
    this.say(chalk.dim('Ctrl-C drains and stops; a second Ctrl-C forces.'));
  }

  private async startDockerInfra(): Promise<void> {
    if (!process.env.GREENLANE_API_TOKENS)
      throw new UsageError('--infra docker runs the services in external mode, which needs GREENLANE_API_TOKENS.', [
        'export GREENLANE_API_TOKENS=$(openssl rand -hex 32) and give clients the same value as GREENLANE_API_TOKEN.',
      ]);
    const { startDockerEngines } = await import('../app/infra.js');
    this.say('Starting engines with Docker Compose…');
    await startDockerEngines();
  }
}
