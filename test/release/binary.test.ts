// The single executable as a user gets it: copied alone into an empty directory and run with a PATH
// that holds no node (an empty folder), an empty HOME and no node_modules anywhere above it.
// Uses dist/greenlane-<version>-linux-x64 when GREENLANE_BINARY names it or it exists; builds it
// otherwise (`npm run build:binary`, a few minutes).
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect, freePort, sleep } from '../helpers/net.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

let work: string;
let exe: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const built = process.env.GREENLANE_BINARY ?? join(root, 'dist', `greenlane-${pkg.version}-linux-x64`);
  if (!existsSync(built)) await run('npm', ['run', 'build:binary'], { cwd: root, maxBuffer: 64 << 20 });
  work = await mkdtemp(join(tmpdir(), 'greenlane-binary-'));
  const home = join(work, 'home');
  const emptyPath = join(work, 'no-node');
  const dir = join(work, 'app');
  await Promise.all([home, emptyPath, dir].map((d) => mkdir(d, { recursive: true })));
  exe = join(dir, 'greenlane');
  await copyFile(built, exe);
  await run('chmod', ['+x', exe]);
  env = { PATH: emptyPath, HOME: home, TMPDIR: join(work, 'tmp') };
  await mkdir(env.TMPDIR!, { recursive: true });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const greenlane = (args: string[]) => run(exe, args, { cwd: join(work, 'app'), env, maxBuffer: 16 << 20, timeout: 240_000 });

describe('the single executable, alone in an empty directory', () => {
  it('finds no node on its PATH', async () => {
    await expect(run('node', ['-v'], { env })).rejects.toThrow();
  });

  it('--version names the build in oclif format', async () => {
    const { stdout } = await greenlane(['--version']);
    expect(stdout).toMatch(/^greenlane\/\d+\.\d+\.\d+ \(\w+\) linux-x64 node-v\d+\./);
  });

  it('--help lists the commands', async () => {
    const { stdout } = await greenlane(['--help']);
    for (const id of ['up', 'sim', 'tail', 'smoke', 'doctor']) expect(stdout).toContain(id);
  });

  it('smoke --json runs the embedded stack end to end (PGlite from embedded assets)', async () => {
    const { stdout } = await greenlane(['smoke', '--json']);
    const report = JSON.parse(stdout) as { ok: boolean; mode: string; persisted: number; failures: unknown[] };
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ ok: true, mode: 'embedded' });
    expect(report.persisted).toBeGreaterThan(0);
  });

  it("carries Ink's text-measure caches bounded (scripts/sea/ink-bound-plugin.mjs), not Ink's own", async () => {
    const bytes = await readFile(exe);
    for (const name of ['boundedMeasureText', 'boundedWrapText']) expect(bytes.includes(name), name).toBe(true);
  });

  it('store:init creates a fresh data dir for the embedded store (what up runs before opening one)', async () => {
    const dir = join(work, 'store-init', 'pglite');
    await greenlane(['store:init', dir]);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
  });

  it('doctor reports embedded mode healthy', async () => {
    const { stdout } = await greenlane(['doctor']);
    expect(stdout).toContain('embedded');
  });
});

describe('the single executable serves the web map from its own assets', () => {
  it('up: the page and its script come from the executable, byte for byte the built ones', async () => {
    const ports = { grpc: await freePort(), grid: await freePort(), metrics: await freePort(), web: await freePort() };
    const up = spawn(exe, ['up', '--ephemeral'], {
      cwd: join(work, 'app'),
      env: {
        ...env,
        GREENLANE_GRPC_PORT: String(ports.grpc),
        GREENLANE_GRID_PORT: String(ports.grid),
        GREENLANE_METRICS_PORT: String(ports.metrics),
        GREENLANE_WEB_PORT: String(ports.web),
        GREENLANE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    up.stdout.on('data', (b: Buffer) => (out += b.toString()));
    up.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const deadline = Date.now() + 180_000;
      while (!out.includes('GreenLane is up') && up.exitCode === null && Date.now() < deadline) await sleep(250);
      expect(out).toContain(`web        http://127.0.0.1:${ports.web}/`);
      const base = `http://127.0.0.1:${ports.web}`;
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      const js = await fetch(`${base}/${script}`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
      // The same bytes `npm run build:web` produced (the executable was built from this checkout).
      const built = await readFile(join(root, 'dist/web/public', script!));
      expect(Buffer.from(await js.arrayBuffer()).equals(built)).toBe(true);
    } finally {
      const exited = new Promise((r) => up.once('exit', r));
      if (up.exitCode === null) up.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (up.exitCode === null) up.kill('SIGKILL');
    }
    expect(await canConnect(ports.web)).toBe(false);
  }, 300_000);
});
