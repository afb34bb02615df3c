/**
 * `greenlane infra …` against a fake `docker` / `docker-compose` on PATH that record their argv.
 *
 * How the CLI runs: a throwaway package root in a tmp dir (package.json + bin/run.js copied, `dist`
 * a symlink to the repo's src/, node_modules symlinked) started with `node --import tsx`. oclif loads
 * `dist/commands/index.js`, tsx maps it to the .ts sources and compiles only what is imported, so the
 * test neither needs `npm run build` nor races other engineers' builds wiping dist/, and a type error
 * elsewhere in the tree does not break it. Node resolves the symlink, so the compose file the CLI
 * picks is the repo's deploy/docker-compose.yml, as it is from a real install.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyFailure, parsePsJson, parsePsTable } from '../../src/adapters/docker/compose.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { runCli } from '../helpers/run-cli.js';

const repo = resolve(import.meta.dirname, '..', '..');
const composeFile = join(repo, 'deploy', 'docker-compose.yml');
const base = `-f ${composeFile} -p greenlane`;

let tmp: string;
let root: string;
let fakeBin: string;
let emptyBin: string;
let log: string;

const CORE = ['redpanda', 'console', 'redis', 'timescaledb'];
const OBS = ['prometheus', 'grafana'];
const PORTS: Record<string, [number, number]> = { redpanda: [19092, 19092], console: [8080, 8080], redis: [6379, 6379], timescaledb: [5432, 5432], prometheus: [9090, 9090], grafana: [3000, 3000] };

/** What `docker compose ps --format json` (NDJSON, Compose ≥ 2.21) prints for these services. */
function psJson(services: string[], health = 'healthy'): string {
  return services
    .map((s) => JSON.stringify({ Name: `greenlane-${s}-1`, Service: s, State: 'running', Health: health, Publishers: [{ URL: '0.0.0.0', TargetPort: PORTS[s][1], PublishedPort: PORTS[s][0], Protocol: 'tcp' }, { URL: '::', TargetPort: PORTS[s][1], PublishedPort: PORTS[s][0], Protocol: 'tcp' }] }))
    .join('\n');
}

/** What v1 `docker-compose ps` prints. */
const PS_TABLE = `        Name                      Command                  State                    Ports
--------------------------------------------------------------------------------------------------------
greenlane_console_1       /app/console                     Up (healthy)   0.0.0.0:8080->8080/tcp,:::8080->8080/tcp
greenlane_redis_1         docker-entrypoint.sh redis ...   Up (healthy)   0.0.0.0:6379->6379/tcp,:::6379->6379/tcp
greenlane_redpanda_1      /entrypoint.sh redpanda st ...   Up (healthy)   0.0.0.0:19092->19092/tcp, 0.0.0.0:19644->9644/tcp
greenlane_timescaledb_1   docker-entrypoint.sh postgres    Up (healthy)   0.0.0.0:5432->5432/tcp,:::5432->5432/tcp`;

// Shell builtins only: the fakes run with PATH limited to their own directory.
const FAKE_DOCKER = `#!/bin/sh
echo "docker $*" >> "$FAKE_LOG"
if [ "$1" = compose ] && [ "$2" = version ]; then
  if [ -n "$FAKE_NO_COMPOSE_V2" ]; then echo "docker: unknown command: docker compose" >&2; exit 1; fi
  echo "Docker Compose version v2.29.7"; exit 0
fi
if [ -n "$FAKE_DAEMON_DOWN" ]; then
  echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1
fi
case " $* " in
  *" up "*)
    if [ -n "$FAKE_PORT_TAKEN" ]; then
      echo "Error response from daemon: driver failed programming external connectivity on endpoint greenlane-redis-1: Bind for 0.0.0.0:6379 failed: port is already allocated" >&2; exit 1
    fi
    echo " Container greenlane-redis-1  Started" >&2 ;;
  *" config --services "*)
    echo redpanda; echo console; echo redis; echo timescaledb
    case " $* " in *" --profile observability "*) echo prometheus; echo grafana ;; esac ;;
  *" ps "*) printf '%s\\n' "$FAKE_PS" ;;
  *" logs "*)
    echo "redis-1  | Ready to accept connections tcp"
    case " $* " in *" --follow "*) exec /bin/sleep 30 ;; esac ;;
  *" down "*) echo " Container greenlane-redis-1  Removed" >&2 ;;
esac
exit 0
`;

const FAKE_DOCKER_COMPOSE = `#!/bin/sh
echo "docker-compose $*" >> "$FAKE_LOG"
case " $* " in
  *" version "*) echo "docker-compose version 1.29.2, build unknown" ;;
  *" config --services "*) echo redpanda; echo console; echo redis; echo timescaledb ;;
  *" ps "*) printf '%s\\n' "$FAKE_PS_TABLE" ;;
  *" up "*) echo "Creating greenlane_redis_1 ... done" >&2 ;;
esac
exit 0
`;

function writeExecutable(path: string, text: string) {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'greenlane-infra-'));
  root = join(tmp, 'pkg');
  mkdirSync(join(root, 'bin'), { recursive: true });
  cpSync(join(repo, 'package.json'), join(root, 'package.json'));
  cpSync(join(repo, 'bin', 'run.js'), join(root, 'bin', 'run.js'));
  // The package ships the command manifest (npm run build writes it); without it the lazy registry
  // cannot tell `infra logs redis` (an argument) from a command id.
  cpSync(join(repo, 'oclif.manifest.json'), join(root, 'oclif.manifest.json'));
  symlinkSync(join(repo, 'src'), join(root, 'dist'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  fakeBin = join(tmp, 'fake-bin');
  emptyBin = join(tmp, 'empty-bin');
  mkdirSync(fakeBin);
  mkdirSync(emptyBin);
  writeExecutable(join(fakeBin, 'docker'), FAKE_DOCKER);
  log = join(tmp, 'argv.log');
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  rmSync(log, { force: true });
  rmSync(join(fakeBin, 'docker-compose'), { force: true });
});

interface Fake {
  path?: string;
  env?: Record<string, string>;
}

function greenlane(args: string[], fake: Fake = {}): ResultPromise<{ reject: false }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: fake.path ?? fakeBin, FAKE_LOG: log, FAKE_PS: psJson([...CORE, ...OBS]), FAKE_PS_TABLE: PS_TABLE, ...fake.env };
  delete env.GREENLANE_COMPOSE_FILE;
  delete env.FORCE_COLOR;
  return runCli(args, { env, extendEnv: false, reject: false, timeout: 90_000 }, { root, entry: 'run' });
}

const recorded = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

describe('greenlane infra with Compose v2 (`docker compose`)', () => {
  it('up: starts the stack detached, then polls health', async () => {
    const r = await greenlane(['infra', 'up']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual([
      'docker compose version',
      `docker compose ${base} up -d`,
      `docker compose ${base} config --services`,
      `docker compose ${base} --profile observability ps --all --format json`,
    ]);
    expect(r.stdout).toMatch(/redis\s+running\s+healthy\s+6379->6379\/tcp/);
    expect(r.stdout).toContain('GREENLANE_KAFKA_BROKERS=localhost:19092');
  });

  it('up --profile observability: enables the profile and waits for Prometheus and Grafana too', async () => {
    const r = await greenlane(['infra', 'up', '--profile', 'observability', '--json']);
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual([
      'docker compose version',
      `docker compose ${base} --profile observability up -d`,
      `docker compose ${base} --profile observability config --services`,
      `docker compose ${base} --profile observability ps --all --format json`,
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.compose).toBe('v2');
    expect(out.services.map((s: { service: string }) => s.service).sort()).toEqual([...CORE, ...OBS].sort());
  });

  it('up: keeps polling while a service is starting and times out with exit 5 naming it', async () => {
    const starting = psJson(CORE).replace(/"Service":"redis","State":"running","Health":"healthy"/, '"Service":"redis","State":"running","Health":"starting"');
    const r = await greenlane(['infra', 'up', '--timeout', '2'], { env: { FAKE_PS: starting } });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain('Timed out after 2 s waiting for: redis (running, starting)');
    expect(r.stderr).toContain('greenlane infra logs redis');
    expect(recorded().filter((l) => l.includes(' ps ')).length).toBeGreaterThanOrEqual(2);
  });

  it('up: a host port already taken → exit 5 naming the port and the service', async () => {
    const r = await greenlane(['infra', 'up'], { env: { FAKE_PORT_TAKEN: '1' } });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain('Host port 6379 needed by redis is already in use');
    expect(r.stderr).toContain('ss -ltnp | grep :6379');
  });

  it('down --volumes --yes: removes every profile and the volumes', async () => {
    const r = await greenlane(['infra', 'down', '--volumes', '--yes']);
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual(['docker compose version', `docker compose ${base} --profile observability down --volumes`]);
    expect(r.stdout).toContain('volumes deleted');
  });

  it('down --volumes without --yes off a terminal: refuses with exit 2 and runs nothing', async () => {
    const r = await greenlane(['infra', 'down', '--volumes']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(recorded().some((l) => l.includes(' down'))).toBe(false);
  });

  it('status --json: parses `ps --format json` into service, state, health, ports', async () => {
    const r = await greenlane(['infra', 'status', '--json']);
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual(['docker compose version', `docker compose ${base} --profile observability ps --all --format json`]);
    const out = JSON.parse(r.stdout);
    expect(out.services).toContainEqual({ service: 'redis', name: 'greenlane-redis-1', state: 'running', health: 'healthy', ports: ['6379->6379/tcp'] });
    expect(out.services).toHaveLength(6);
  });

  it('logs redis: streams the service logs', async () => {
    const r = await greenlane(['infra', 'logs', 'redis']);
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual(['docker compose version', `docker compose ${base} --profile observability logs redis`]);
    expect(r.stdout).toContain('Ready to accept connections');
  });

  it('logs -f --tail 5: follows until SIGINT, then stops cleanly', async () => {
    const child = greenlane(['infra', 'logs', 'redis', '-f', '--tail', '5']);
    await new Promise<void>((done) => child.stdout.on('data', (d: Buffer) => d.toString().includes('Ready to accept') && done()));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(recorded()).toContain(`docker compose ${base} --profile observability logs --follow --tail 5 redis`);
  });
});

describe('greenlane infra falling back to Compose v1 (`docker-compose`)', () => {
  it('up: uses docker-compose when `docker compose version` fails, and parses the v1 ps table', async () => {
    writeExecutable(join(fakeBin, 'docker-compose'), FAKE_DOCKER_COMPOSE);
    const r = await greenlane(['infra', 'up', '--json'], { env: { FAKE_NO_COMPOSE_V2: '1' } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(recorded()).toEqual([
      'docker compose version',
      'docker-compose version',
      `docker-compose ${base} up -d`,
      `docker-compose ${base} config --services`,
      `docker-compose ${base} --profile observability ps`,
    ]);
    const out = JSON.parse(r.stdout);
    expect(out.compose).toBe('v1');
    expect(out.services).toContainEqual({ service: 'redpanda', name: 'greenlane_redpanda_1', state: 'running', health: 'healthy', ports: ['19092->19092/tcp', '19644->9644/tcp'] });
  });
});

describe('greenlane infra without a usable Docker', () => {
  it('Docker not installed: exit 5 with the next steps', async () => {
    const r = await greenlane(['infra', 'up'], { path: emptyBin });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain('Docker is not installed');
    expect(r.stderr).toContain('https://docs.docker.com/engine/install/');
    expect(r.stderr).toContain('`greenlane up` (embedded mode');
  });

  it('daemon not running: exit 5 telling how to start it or run embedded', async () => {
    const r = await greenlane(['infra', 'up'], { env: { FAKE_DAEMON_DOWN: '1' } });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain('The Docker daemon is not running');
    expect(r.stderr).toContain('systemctl start docker');
    expect(r.stderr).toContain('`greenlane up` (embedded mode');
  });

  it('daemon not running with --json: the error envelope carries exit code and suggestions', async () => {
    const r = await greenlane(['infra', 'status', '--json'], { env: { FAKE_DAEMON_DOWN: '1' } });
    expect(r.exitCode).toBe(5);
    const out = JSON.parse(r.stdout);
    expect(out.error).toMatchObject({ code: 'EXTERNAL_TOOL', exitCode: 5 });
    expect(out.error.suggestions.join(' ')).toContain('greenlane up');
  });
});

describe('compose output parsing', () => {
  it('accepts the JSON array that Compose < 2.21 prints', () => {
    const arr = JSON.stringify([{ Name: 'greenlane-redis-1', Service: 'redis', State: 'running', Health: '', Publishers: null }]);
    expect(parsePsJson(arr)).toEqual([{ service: 'redis', name: 'greenlane-redis-1', state: 'running', health: '', ports: [] }]);
    expect(parsePsJson('')).toEqual([]);
  });

  it('reads health and exit states from the v1 table', () => {
    const table = `Name   Command   State   Ports
------------------------------
greenlane_redis_1         redis-server   Up (health: starting)   0.0.0.0:6379->6379/tcp
greenlane_console_1       /app/console   Exit 1
greenlane_timescaledb_1   docker-entrypoint.sh postgres   Up   `;
    expect(parsePsTable(table)).toEqual([
      { service: 'redis', name: 'greenlane_redis_1', state: 'running', health: 'starting', ports: ['6379->6379/tcp'] },
      { service: 'console', name: 'greenlane_console_1', state: 'exited', health: '', ports: [] },
      { service: 'timescaledb', name: 'greenlane_timescaledb_1', state: 'running', health: '', ports: [] },
    ]);
  });

  it('names the port from the "address already in use" wording too', () => {
    const e = classifyFailure('docker compose up', { exitCode: 1, stdout: '', stderr: 'Error response from daemon: Ports are not available: exposing port TCP 0.0.0.0:5432 -> 0.0.0.0:0: listen tcp 0.0.0.0:5432: bind: address already in use' });
    expect(exitCodeFor(e)).toBe(5);
    expect(e.message).toBe('Host port 5432 needed by timescaledb is already in use.');
  });

  it('recognises v1 failing to reach the daemon and permission problems', () => {
    expect(classifyFailure('x', { exitCode: 1, stdout: '', stderr: "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))" }).message).toContain('daemon is not running');
    expect(classifyFailure('x', { exitCode: 1, stdout: '', stderr: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock' }).message).toContain('Permission denied');
  });
});
