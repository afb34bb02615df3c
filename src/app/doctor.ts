import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LoadedConfig, Mode } from '../config/load.js';
import { envName } from '../config/schema.js';
import { GreenlaneError, type ErrorKind } from '../errors.js';
import { probeDocker } from '../adapters/docker/probe.js';
import { engineProbes, type ProbeResult } from './engines.js';

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

/** Runs every check (Node, mode, each configured engine, Docker, the data dir) at once. */
export async function runDoctorChecks(loaded: LoadedConfig, timeoutMs: number): Promise<DoctorReport> {
  const { config, mode } = loaded;
  const probes = engineProbes(config, timeoutMs);
  const checks = await Promise.all([
    checkNode(),
    checkMode(mode, config),
    engineCheck('kafka', mode, probes.kafka, 'in-memory event bus'),
    engineCheck('redis', mode, probes.redis, 'in-memory fleet state'),
    engineCheck('postgres', mode, probes.postgres, 'PGlite'),
    checkDocker(timeoutMs),
    checkDataDir(config.dataDir),
  ]);
  return { mode, checks, ok: checks.every((c) => c.status !== 'fail') };
}

/** Throws DoctorFailedError unless every check passed: engine-unreachable when an engine failed, config otherwise. */
export function assertHealthy(report: DoctorReport): void {
  if (report.ok) return;
  const engineDown = report.checks.some((c) => c.status === 'fail' && ENGINE_CHECKS.has(c.name));
  throw new DoctorFailedError(report, engineDown ? 'engine-unreachable' : 'config');
}

/** Carries the report so `--json` still shows every check when doctor fails. */
export class DoctorFailedError extends GreenlaneError {
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
  probe: (() => Promise<ProbeResult>) | undefined,
  embeddedStandIn: string,
): Promise<DoctorCheck> {
  if (!probe) return { name, ok: true, status: 'info', detail: mode === 'embedded' ? `not configured (embedded: ${embeddedStandIn})` : 'not configured' };
  const r = await probe();
  return { name, ok: r.ok, status: r.ok ? 'pass' : 'fail', detail: r.detail, latencyMs: r.latencyMs };
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

async function checkDocker(timeoutMs: number): Promise<DoctorCheck> {
  const r = await probeDocker(timeoutMs);
  return { name: 'docker', ok: r.ok, status: r.ok ? 'pass' : 'info', detail: r.detail };
}
