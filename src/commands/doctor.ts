import { Flags } from '@oclif/core';
import { assertHealthy, DoctorFailedError, runDoctorChecks, type CheckStatus, type DoctorReport } from '../app/doctor.js';
import { BaseCommand } from '../cli/base-command.js';
import { engineFlags } from '../cli/flags.js';
import { table } from '../cli/output.js';

export type { CheckStatus, DoctorCheck, DoctorReport } from '../app/doctor.js';

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', info: '–' };

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check that this machine and the configured engines are ready for GreenLane.';
  static override description =
    'Checks the Node version, the mode (embedded or external), every configured engine (Kafka, Redis, PostgreSQL), Docker (informational) and the data dir. Exits 0 when all is well, 4 when a configured engine is unreachable, 3 for other problems; --json includes every check either way.';
  static override examples = [
    '<%= config.bin %> doctor',
    'GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> doctor --json',
  ];
  static override flags = {
    ...engineFlags,
    timeout: Flags.integer({ summary: 'Per-check timeout in milliseconds.', default: 3000, min: 100, env: 'GREENLANE_DOCTOR_TIMEOUT' }),
  };

  async run(): Promise<DoctorReport> {
    const report = await runDoctorChecks(this.cfg, this.flags.timeout);
    this.say(table(['check', 'status', 'detail'], report.checks.map((c) => [c.name, SYMBOL[c.status], c.latencyMs === undefined ? c.detail : `${c.detail} (${c.latencyMs} ms)`])));
    assertHealthy(report);
    this.say(`All good (${report.mode} mode).`);
    return report;
  }

  protected override toErrorJson(err: unknown): unknown {
    const base = super.toErrorJson(err) as object;
    return err instanceof DoctorFailedError ? { ...err.report, ...base } : base;
  }
}
