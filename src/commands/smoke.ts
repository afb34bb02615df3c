import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { GreenlaneError } from '../errors.js';
import { engineFlags } from '../cli/flags.js';
import { table } from '../cli/output.js';
import { assertCompleteExternal } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { createRegistry } from '../observability/metrics.js';
import { runSmoke, type SmokeReport } from '../app/smoke.js';

export default class Smoke extends BaseCommand<typeof Smoke> {
  static override summary = 'End-to-end smoke test: simulated cars → ingestion → bus → worker → database, then verify.';
  static override description = [
    'Brings up a stack in a fresh namespace (embedded, or on the configured engines), streams N cars for T seconds and checks',
    'that every accepted telemetry event reached the bus, was persisted exactly once, and that fleet state holds each car\'s',
    'latest position. Exits 1 on any mismatch; the namespace is removed afterwards unless --keep.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> smoke',
    '<%= config.bin %> smoke --cars 50 --duration 20 --json',
    'GREENLANE_KAFKA_BROKERS=127.0.0.1:19092 GREENLANE_REDIS_URL=redis://127.0.0.1:6379 GREENLANE_DATABASE_URL=postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane GREENLANE_API_TOKENS=ci <%= config.bin %> smoke --json',
  ];
  static override flags = {
    ...engineFlags,
    cars: Flags.integer({ summary: 'Simulated cars.', default: 20, min: 1, max: 10_000 }),
    duration: Flags.integer({ summary: 'Seconds to stream.', default: 10, min: 1, max: 3600 }),
    keep: Flags.boolean({ summary: 'Keep the smoke namespace (topics, Redis keys, schema) for inspection.', default: false }),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<SmokeReport> {
    const loaded = this.cfg;
    assertCompleteExternal(loaded.config);
    const logger = createLogger({ level: this.flags['log-level'] ?? 'warn', name: 'smoke' });
    const report = await runSmoke({
      loaded,
      logger,
      registry: createRegistry(false),
      cars: this.flags.cars,
      durationSec: this.flags.duration,
      keep: this.flags.keep,
      progress: (m) => (this.json ? process.stderr.write(m + '\n') : this.say(chalk.dim(m))),
    });
    this.say(table(['check', 'value'], [
      ['mode', report.mode], ['sent', report.sent], ['accepted', report.accepted], ['rejected', report.rejected],
      ['on bus', report.onBus], ['persisted', report.persisted], ['latest in fleet state', `${report.inRedis}/${report.cars}`],
    ]));
    if (!report.ok) {
      if (this.json) this.logJson(report);
      throw new GreenlaneError(`Smoke test failed: ${report.failures.join('; ')}`, 'failed', ['Re-run with --keep --log-level info to inspect the namespace ' + report.namespace + '.'], 'SMOKE_FAILED');
    }
    this.say(chalk.green(`Smoke test passed: ${report.accepted} events accepted, on the bus and persisted exactly once.`));
    return report;
  }
}
