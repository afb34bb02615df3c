import { Flags } from '@oclif/core';
import { execa } from 'execa';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { probeKafka } from '../adapters/kafka/probe.js';
import { probePostgres } from '../adapters/postgres/probe.js';
import { probeRedis } from '../adapters/redis/probe.js';
import { BaseCommand } from '../cli/base-command.js';
import { GreenlaneError, type ErrorKind } from '../errors.js';
import { engineFlags } from '../cli/flags.js';
import { table } from '../cli/output.js';
import type { Mode } from '../config/load.js';
import { envName } from '../config/schema.js';

/** `info` checks (Docker, engines left to embedded mode) are shown with – and never fail doctor. */
export type CheckStatus = 'pass' | 'fail' | 'info';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  status: CheckStatus;
  detail: string;
  latencyMs?: number;
}

export interface DoctorReport {
  mode: Mode;
  checks: DoctorCheck[];
  ok: boolean;
}

const ENGINE_CHECKS = new Set(['kafka', 'redis', 'postgres']);
const MIN_NODE = [20, 19] as const;
const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', info: '–' };

/** Carries the report so `--json` still shows every check when doctor fails. */
class DoctorFailedError extends GreenlaneError {
  constructor(
    readonly report: DoctorReport,
    kind: ErrorKind,
  ) {
    const failed = report.checks.filter((c) => c.status === 'fail');
    const engines = failed.some((c) => ENGINE_CHECKS.has(c.name));
    super(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`,
      kind,
      engines
        ? [
            'Start the engines with `greenlane infra up` (Docker) or `scripts/engines.sh start all`.',
            'Or unset GREENLANE_KAFKA_BROKERS, GREENLANE_REDIS_URL and GREENLANE_DATABASE_URL to run embedded.',
          ]
        : ['Fix the failed checks above, then run `greenlane doctor` again.'],
      engines ? 'ENGINE_UNREACHABLE' : 'DOCTOR_FAILED',
    );
  }
}

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
    const { config, mode } = this.cfg;
    const timeoutMs = this.flags.timeout;
    const checks = await Promise.all([
      checkNode(),
      checkMode(mode, config),
      engineCheck('kafka', mode, config.kafkaBrokers?.length ? () => probeKafka(config.kafkaBrokers!, timeoutMs) : undefined, 'in-memory event bus'),
      engineCheck('redis', mode, config.redisUrl ? () => probeRedis(config.redisUrl!, timeoutMs) : undefined, 'in-memory fleet state'),
      engineCheck('postgres', mode, config.databaseUrl ? () => probePostgres(config.databaseUrl!, timeoutMs, config.namespace) : undefined, 'PGlite'),
      checkDocker(timeoutMs),
      checkDataDir(config.dataDir),
    ]);
    const report: DoctorReport = { mode, checks, ok: checks.every((c) => c.status !== 'fail') };
    this.say(table(['check', 'status', 'detail'], checks.map((c) => [c.name, SYMBOL[c.status], c.latencyMs === undefined ? c.detail : `${c.detail} (${c.latencyMs} ms)`])));
    if (!report.ok) {
      const engineDown = checks.some((c) => c.status === 'fail' && ENGINE_CHECKS.has(c.name));
      throw new DoctorFailedError(report, engineDown ? 'engine-unreachable' : 'config');
    }
    this.say(`All good (${mode} mode).`);
    return report;
  }

  protected override toErrorJson(err: unknown): unknown {
    const base = super.toErrorJson(err) as object;
    return err instanceof DoctorFailedError ? { ...err.report, ...base } : base;
  }
}

function checkNode(): DoctorCheck {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return { name: 'node', ok, status: ok ? 'pass' : 'fail', detail: `v${process.versions.node}${ok ? '' : ` (needs >= ${MIN_NODE.join('.')})`}` };
}

function checkMode(mode: Mode, config: { kafkaBrokers?: string[]; redisUrl?: string; databaseUrl?: string }): DoctorCheck {
  if (mode === 'embedded') return { name: 'mode', ok: true, status: 'pass', detail: 'embedded (no engine configured: in-memory adapters + PGlite)' };
  // Services need all three engines; a partial setup would silently split state.
  const missing = (['kafkaBrokers', 'redisUrl', 'databaseUrl'] as const).filter((k) => !config[k]?.length).map(envName);
  return missing.length
    ? { name: 'mode', ok: false, status: 'fail', detail: `external, but ${missing.join(', ')} not set (external mode needs all three engines)` }
    : { name: 'mode', ok: true, status: 'pass', detail: 'external (Kafka, Redis, PostgreSQL)' };
}

/** An engine left unset is fine in embedded mode; in external mode the `mode` check reports it. */
async function engineCheck(
  name: string,
  mode: Mode,
  probe: (() => Promise<{ ok: boolean; detail: string; latencyMs: number }>) | undefined,
  embeddedStandIn: string,
): Promise<DoctorCheck> {
  if (!probe) return { name, ok: true, status: 'info', detail: mode === 'embedded' ? `not configured (embedded: ${embeddedStandIn})` : 'not configured' };
  const r = await probe();
  return { name, ok: r.ok, status: r.ok ? 'pass' : 'fail', detail: r.detail, latencyMs: r.latencyMs };
}

/** Only `greenlane infra up` needs Docker, so its absence is reported, never failed. */
async function checkDocker(timeoutMs: number): Promise<DoctorCheck> {
  const info = (detail: string, ok: boolean): DoctorCheck => ({ name: 'docker', ok, status: ok ? 'pass' : 'info', detail });
  try {
    const { stdout } = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: timeoutMs, stdin: 'ignore' });
    return info(`available (server ${stdout.trim()})`, true);
  } catch (err) {
    const e = err as { code?: string; timedOut?: boolean };
    if (e.code === 'ENOENT') return info('missing (optional: only `greenlane infra up` needs it)', false);
    return info(`client only: daemon ${e.timedOut ? 'did not answer in time' : 'unreachable'} (optional: only \`greenlane infra up\` needs it)`, false);
  }
}

/** Writable, or creatable: the nearest existing ancestor must be writable. */
async function checkDataDir(dir: string): Promise<DoctorCheck> {
  let probe = dir;
  while (!(await exists(probe)) && dirname(probe) !== probe) probe = dirname(probe);
  try {
    if (!(await stat(probe)).isDirectory()) throw new Error(`${probe} is not a directory`);
    await access(probe, constants.W_OK);
    return { name: 'data dir', ok: true, status: 'pass', detail: probe === dir ? `${dir} (writable)` : `${dir} (will be created; ${probe} is writable)` };
  } catch (err) {
    return { name: 'data dir', ok: false, status: 'fail', detail: `${dir}: ${(err as Error).message}` };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
