// `npx greenlane up` stopped the way a process manager or CI stops it (SIGTERM to the outer npm
// process only) and the way a terminal does (Ctrl-C: SIGINT to the whole foreground process group).
// npm runs `sh -c greenlane …` and passes a SIGTERM on to the shell only, which exits without passing
// it on, so GreenLane notices it lost its parent (src/cli/shutdown.ts) and drains as on SIGTERM.
// Nothing may stay behind: no greenlane node process, no port still listening.
// (A lone SIGINT to the npm process never reaches GreenLane: npm passes it to the shell, and dash
// waits for its child before acting on a SIGINT. Only npm itself could fix that.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, freePort, sleep } from '../helpers/net.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let work: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  // bin/run.js runs the build; the release tier may start before anything built it.
  if (!existsSync(join(root, 'dist/commands/lazy.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}, 600_000);

afterAll(async () => {
  // The whole group (npm, the shell, greenlane) of a case that failed half way.
  for (const p of started) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every live descendant of pid, with its command line. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      out.push({ pid: c, cmd: readCmd(c) });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** The environment of a user's shell: none of vitest's or an outer npm's variables, no GREENLANE_* settings. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(GREENLANE_|npm_|VITEST)/.test(k) || ['NODE_ENV', 'NODE_OPTIONS', 'TEST'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

describe('npx greenlane up (embedded), one signal to the outer npx process', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'greenlane-npx-'));
  });

  const cases = [
    { signal: 'SIGTERM', to: 'the npx process', group: false },
    { signal: 'SIGINT', to: "npx's process group (Ctrl-C in a terminal)", group: true },
  ] as const;
  for (const { signal, to, group } of cases) {
    it(`${signal} to ${to}: every greenlane process exits and every port is free within seconds`, async () => {
      const ports = { grpc: await freePort(), grid: await freePort(), metrics: await freePort(), web: await freePort() };
      const env = {
        ...userEnv(),
        GREENLANE_DATA_DIR: join(work, signal),
        GREENLANE_GRPC_PORT: String(ports.grpc),
        GREENLANE_GRID_PORT: String(ports.grid),
        GREENLANE_METRICS_PORT: String(ports.metrics),
        GREENLANE_WEB_PORT: String(ports.web),
        GREENLANE_LOG_LEVEL: 'warn',
      };
      // From the checkout, as the README's first command: npx runs the project's own bin.
      const npx = spawn('npx', ['greenlane', 'up', '--sim', '2'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      started.push(npx);
      let out = '';
      npx.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      npx.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      // PGlite's first start: seconds, minutes on a loaded machine.
      const deadline = Date.now() + 300_000;
      while (!out.includes('GreenLane is up') && npx.exitCode === null && Date.now() < deadline) await sleep(250);
      expect(out).toContain('GreenLane is up');
      for (const port of Object.values(ports)) expect(await canConnect(port)).toBe(true);

      const tree = descendants(npx.pid!);
      // npm → sh -c "greenlane up …" → node …/greenlane up …
      const greenlane = tree.filter((p) => /^\S*node \S*greenlane up --sim 2$/.test(p.cmd));
      expect(greenlane, JSON.stringify(tree)).toHaveLength(1);

      if (group) process.kill(-npx.pid!, signal);
      else npx.kill(signal);
      const stopBy = Date.now() + 20_000; // the drain may take up to 15 s; normally 1–3
      while (Date.now() < stopBy && tree.some((p) => alive(p.pid))) await sleep(200);
      expect(tree.filter((p) => alive(p.pid)).map((p) => p.cmd)).toEqual([]);
      expect(alive(npx.pid!)).toBe(false);
      for (const port of Object.values(ports)) expect(await canConnect(port)).toBe(false);
    }, 400_000);
  }
});
