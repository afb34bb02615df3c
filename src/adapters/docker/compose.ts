import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { ExternalToolError } from '../../errors.js';
import { assetPath } from '../../util/assets.js';

/**
 * Drives deploy/docker-compose.yml through the Docker CLI. Prefers Compose v2
 * (`docker compose`) and falls back to the standalone v1 `docker-compose`.
 * Every failure becomes an ExternalToolError (exit 5) that says what to do next.
 */

/** Compose project name: fixed so `greenlane infra …` finds the stack from any directory. */
export const COMPOSE_PROJECT = 'greenlane';
/** Profiles `status`, `logs` and `down` always include, so they see every service that may run. */
export const ALL_PROFILES = ['observability'] as const;

/** Host ports the stack publishes, to name the service in a "port already allocated" error. */
const KNOWN_PORTS: Record<number, string> = {
  19092: 'redpanda (Kafka API)',
  19644: 'redpanda (admin API)',
  8080: 'console',
  6379: 'redis',
  5432: 'timescaledb',
  9090: 'prometheus',
  3000: 'grafana',
};

const NO_DOCKER_NEXT_STEPS = [
  'Run GreenLane without Docker: `greenlane up` (embedded mode: in-memory engines and PGlite, nothing to install).',
  'Or, in a GreenLane checkout, start local engines without Docker (`bash scripts/engines.sh start all`) and run in external mode.',
];

export type ComposeFlavor = 'v2' | 'v1';

/** How to invoke Compose: `docker compose …` (v2) or `docker-compose …` (v1). */
export interface ComposeCli {
  flavor: ComposeFlavor;
  command: string;
  /** Arguments before the compose arguments: ['compose'] for v2, [] for v1. */
  prefix: string[];
}

export interface ComposeTarget {
  /** Compose file; defaults to the package's deploy/docker-compose.yml. */
  file?: string;
  project?: string;
  /** Already-detected CLI (detectCompose() runs otherwise). */
  cli?: ComposeCli;
  env?: NodeJS.ProcessEnv;
}

export interface ServiceStatus {
  service: string;
  /** Container name. */
  name: string;
  /** running, exited, restarting, paused, created, … */
  state: string;
  /** healthy, unhealthy, starting, or '' when the service has no healthcheck. */
  health: string;
  /** Published ports as "host->container/proto". */
  ports: string[];
}

/** deploy/docker-compose.yml of this package (with deploy/ written out by the single executable). */
export function defaultComposeFile(): string {
  return assetPath('deploy/docker-compose.yml');
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; echoStderr?: boolean } = {}): Promise<RunResult & { missing: boolean }> {
  const r = await execa(command, args, {
    reject: false,
    stdin: 'ignore',
    env: opts.env,
    extendEnv: opts.env === undefined,
    stderr: opts.echoStderr ? ['pipe', 'inherit'] : 'pipe',
  });
  return {
    missing: r.code === 'ENOENT',
    exitCode: r.exitCode ?? 1,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
  };
}

/** Finds Compose: `docker compose version` (v2) first, then `docker-compose version` (v1). */
export async function detectCompose(env?: NodeJS.ProcessEnv): Promise<ComposeCli> {
  const v2 = await run('docker', ['compose', 'version'], { env });
  if (!v2.missing && v2.exitCode === 0) return { flavor: 'v2', command: 'docker', prefix: ['compose'] };
  const v1 = await run('docker-compose', ['version'], { env });
  if (!v1.missing && v1.exitCode === 0) return { flavor: 'v1', command: 'docker-compose', prefix: [] };
  if (v2.missing && v1.missing) {
    throw new ExternalToolError('Docker is not installed (neither `docker` nor `docker-compose` is on PATH).', [
      'Install Docker with Compose v2: https://docs.docker.com/engine/install/ (or `apt-get install docker.io docker-compose`).',
      ...NO_DOCKER_NEXT_STEPS,
    ]);
  }
  if (v1.missing) {
    throw new ExternalToolError('Docker Compose is not installed: `docker compose version` failed and `docker-compose` is not on PATH.', [
      'Install the Compose plugin: https://docs.docker.com/compose/install/linux/ (or `apt-get install docker-compose`).',
      ...NO_DOCKER_NEXT_STEPS,
    ]);
  }
  // A v1 binary that exists but fails even `version` is broken; report its own words.
  throw classifyFailure('docker-compose version', v1);
}

/** Maps a failed Compose run to an ExternalToolError with the next step. */
export function classifyFailure(what: string, r: RunResult): ExternalToolError {
  const out = `${r.stderr}\n${r.stdout}`;
  if (/permission denied[^\n]*docker(\.sock| daemon)/i.test(out)) {
    return new ExternalToolError('Permission denied talking to the Docker daemon.', [
      'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or use rootless Docker.',
      ...NO_DOCKER_NEXT_STEPS,
    ]);
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|Couldn't connect to Docker daemon|Error while fetching server API version/i.test(out)) {
    return new ExternalToolError('The Docker daemon is not running (or DOCKER_HOST points nowhere).', [
      'Start Docker (`sudo systemctl start docker`, or open Docker Desktop), then run `greenlane infra up` again.',
      ...NO_DOCKER_NEXT_STEPS,
    ]);
  }
  const port = /:(\d{1,5})(?::\s*bind:| failed:)[^\n]*?(?:port is already allocated|address already in use)/i.exec(out);
  if (port || /port is already allocated|address already in use/i.test(out)) {
    const n = port ? Number(port[1]) : undefined;
    const who = n && KNOWN_PORTS[n] ? ` needed by ${KNOWN_PORTS[n]}` : '';
    return new ExternalToolError(n ? `Host port ${n}${who} is already in use.` : 'A host port the stack needs is already in use.', [
      n ? `Find and stop whatever holds it: \`ss -ltnp | grep :${n}\` (a local service, or another compose project).` : 'Find what holds the port: `ss -ltnp`.',
      'If local engines already run on these ports, skip Docker and point GreenLane at them (external mode), or run `greenlane up` in embedded mode.',
    ]);
  }
  const tail = out.trim().split('\n').slice(-8).join('\n');
  return new ExternalToolError(`\`${what}\` failed (exit ${r.exitCode})${tail ? `:\n${tail}` : ''}`, [
    'Check the output above; `greenlane infra status` and `greenlane infra logs <service>` show the stack state.',
  ]);
}

interface Resolved {
  cli: ComposeCli;
  base: string[];
  env?: NodeJS.ProcessEnv;
}

async function resolveTarget(t: ComposeTarget, profiles: readonly string[]): Promise<Resolved> {
  const file = t.file ?? defaultComposeFile();
  if (!existsSync(file)) throw new ExternalToolError(`Compose file not found: ${file}`, ['Pass --compose-file <path> or reinstall greenlane (deploy/ ships with the package).']);
  const cli = t.cli ?? (await detectCompose(t.env));
  const base = [...cli.prefix, '-f', file, '-p', t.project ?? COMPOSE_PROJECT, ...profiles.flatMap((p) => ['--profile', p])];
  return { cli, base, env: t.env };
}

async function compose(r: Resolved, args: string[], echoStderr = false): Promise<RunResult> {
  const result = await run(r.cli.command, [...r.base, ...args], { env: r.env, echoStderr });
  if (result.missing) {
    await detectCompose(r.env); // throws "Docker is not installed" with next steps
    throw new ExternalToolError(`\`${r.cli.command}\` is no longer on PATH.`, NO_DOCKER_NEXT_STEPS);
  }
  if (result.exitCode !== 0) throw classifyFailure(`${r.cli.command} ${[...r.cli.prefix, ...args].join(' ')}`, result);
  return result;
}

export interface UpOptions extends ComposeTarget {
  /** Start only these services (and their dependencies). */
  services?: string[];
  /** Extra profiles to enable, e.g. ['observability']. */
  profiles?: string[];
  /** Wait until every started service is running and healthy. */
  wait?: boolean;
  timeoutMs?: number;
  /** Show Compose's own progress (image pulls) on stderr. */
  echo?: boolean;
  onPoll?: (statuses: ServiceStatus[]) => void;
}

/** `compose up -d`, then (with wait) polls until healthy. Returns the final statuses. */
export async function composeUp(opts: UpOptions = {}): Promise<ServiceStatus[]> {
  const profiles = opts.profiles ?? [];
  const r = await resolveTarget(opts, profiles);
  await compose(r, ['up', '-d', ...(opts.services ?? [])], opts.echo);
  const target = { ...opts, cli: r.cli };
  if (!opts.wait) return composeStatus(target);
  const services = opts.services?.length ? opts.services : await composeServices({ ...target, profiles });
  return waitHealthy(opts.timeoutMs ?? 180_000, { ...target, services });
}

export interface DownOptions extends ComposeTarget {
  /** Also delete the named volumes (all data). */
  volumes?: boolean;
}

/** `compose down` with every profile, so Prometheus and Grafana go too. */
export async function composeDown(opts: DownOptions = {}): Promise<void> {
  const r = await resolveTarget(opts, ALL_PROFILES);
  await compose(r, ['down', ...(opts.volumes ? ['--volumes'] : [])]);
}

/** Service names Compose would start with these profiles. */
export async function composeServices(opts: ComposeTarget & { profiles?: string[] } = {}): Promise<string[]> {
  const r = await resolveTarget(opts, opts.profiles ?? []);
  const { stdout } = await compose(r, ['config', '--services']);
  return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** One row per container of the project, stopped ones included. */
export async function composeStatus(opts: ComposeTarget = {}): Promise<ServiceStatus[]> {
  const r = await resolveTarget(opts, ALL_PROFILES);
  if (r.cli.flavor === 'v2') {
    const { stdout } = await compose(r, ['ps', '--all', '--format', 'json']);
    return parsePsJson(stdout);
  }
  const { stdout } = await compose(r, ['ps']);
  return parsePsTable(stdout, opts.project ?? COMPOSE_PROJECT);
}

interface PsJsonRow {
  Name?: string;
  Service?: string;
  State?: string;
  Health?: string;
  Status?: string;
  Publishers?: { URL?: string; TargetPort?: number; PublishedPort?: number; Protocol?: string }[] | null;
}

/** `docker compose ps --format json`: a JSON array (Compose < 2.21) or one object per line (newer). */
export function parsePsJson(stdout: string): ServiceStatus[] {
  const text = stdout.trim();
  if (!text) return [];
  const rows: PsJsonRow[] = text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return rows.map((row) => ({
    service: row.Service ?? row.Name ?? '',
    name: row.Name ?? '',
    state: (row.State ?? '').toLowerCase(),
    health: (row.Health ?? '').toLowerCase(),
    ports: unique((row.Publishers ?? []).filter((p) => p.PublishedPort).map((p) => `${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'}`)),
  }));
}

const V1_ROW = /^(\S+)\s{2,}.*?\s{2,}(Up(?: \((?:healthy|unhealthy|health: starting)\))?|Exit -?\d+|Restarting|Paused|Ghost)(?:\s{2,}(.*?))?\s*$/;

/** `docker-compose ps` (v1): a text table of Name, Command, State, Ports. */
export function parsePsTable(stdout: string, project = COMPOSE_PROJECT): ServiceStatus[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^-{5,}/.test(l.trim()));
  const statuses: ServiceStatus[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = V1_ROW.exec(line.trimEnd());
    if (!m) continue;
    const [, name, stateText, ports = ''] = m;
    const health = /\((healthy|unhealthy)\)/.exec(stateText)?.[1] ?? (stateText.includes('health: starting') ? 'starting' : '');
    statuses.push({
      service: name.replace(new RegExp(`^${project}[_-]`), '').replace(/[_-]\d+$/, ''),
      name,
      state: stateText.startsWith('Up') ? 'running' : stateText.startsWith('Exit') ? 'exited' : stateText.toLowerCase(),
      health,
      ports: unique([...ports.matchAll(/:(\d+)->(\d+)\/(\w+)/g)].map(([, host, container, proto]) => `${host}->${container}/${proto}`)),
    });
  }
  return statuses;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

export interface LogsOptions extends ComposeTarget {
  service?: string;
  follow?: boolean;
  tail?: number;
  /** Abort (e.g. on Ctrl-C) stops the log stream; the promise then resolves. */
  signal?: AbortSignal;
}

/** Streams `compose logs` to this process's stdout/stderr until it ends or `signal` aborts. */
export async function composeLogs(opts: LogsOptions = {}): Promise<void> {
  const r = await resolveTarget(opts, ALL_PROFILES);
  const args = [...r.base, 'logs', ...(opts.follow ? ['--follow'] : []), ...(opts.tail !== undefined ? ['--tail', String(opts.tail)] : []), ...(opts.service ? [opts.service] : [])];
  const child = execa(r.cli.command, args, {
    reject: false,
    stdin: 'ignore',
    stdout: 'inherit',
    stderr: ['pipe', 'inherit'],
    env: r.env,
    extendEnv: r.env === undefined,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 3000,
  });
  const result = await child;
  // Ctrl-C on a terminal reaches Compose too (same process group): an interrupted stream is a clean stop.
  if (opts.signal?.aborted || result.signal === 'SIGINT' || result.exitCode === 130) return;
  if (result.exitCode !== 0) throw classifyFailure(`${r.cli.command} ${[...r.cli.prefix, 'logs'].join(' ')}`, { exitCode: result.exitCode ?? 1, stdout: '', stderr: String(result.stderr ?? '') });
}

export interface WaitOptions extends ComposeTarget {
  /** Services that must be up; default: every container the project has. */
  services?: string[];
  intervalMs?: number;
  onPoll?: (statuses: ServiceStatus[]) => void;
}

/** Healthy = running and, when it has a healthcheck, healthy. */
export function isReady(s: ServiceStatus): boolean {
  return s.state === 'running' && (s.health === '' || s.health === 'healthy');
}

/** Polls composeStatus until every expected service is ready; fails fast when one exits. */
export async function waitHealthy(timeoutMs: number, opts: WaitOptions = {}): Promise<ServiceStatus[]> {
  const cli = opts.cli ?? (await detectCompose(opts.env));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await composeStatus({ ...opts, cli });
    const expected = opts.services?.length ? opts.services : unique(all.map((s) => s.service));
    const rows = all.filter((s) => expected.includes(s.service));
    opts.onPoll?.(rows);
    const dead = rows.find((s) => s.state === 'exited' || s.state === 'dead');
    if (dead) {
      throw new ExternalToolError(`Service ${dead.service} exited while starting.`, [`See why: \`greenlane infra logs ${dead.service}\`.`, ...NO_DOCKER_NEXT_STEPS.slice(0, 1)]);
    }
    const pending = expected.filter((svc) => !rows.some((s) => s.service === svc && isReady(s)));
    if (expected.length > 0 && pending.length === 0) return rows;
    if (Date.now() >= deadline) {
      const detail = pending.map((svc) => {
        const s = rows.find((x) => x.service === svc);
        return s ? `${svc} (${s.state}${s.health ? `, ${s.health}` : ''})` : `${svc} (no container)`;
      });
      throw new ExternalToolError(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for: ${detail.join(', ')}.`, [
        `Inspect them: \`greenlane infra logs ${pending[0] ?? ''}\`; \`greenlane infra status\` shows health.`,
        'Slow first start (image pulls)? Retry with a longer --timeout.',
      ]);
    }
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
  }
}
