// The single executable as a user gets it: copied alone into an empty directory and run with a PATH
// that holds no node (an empty folder), an empty HOME and no node_modules anywhere above it.
// Uses dist/greenlane-<version>-linux-x64 when GREENLANE_BINARY names it or it exists; builds it
// otherwise (`npm run build:binary`, a few minutes).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

  it('doctor reports embedded mode healthy', async () => {
    const { stdout } = await greenlane(['doctor']);
    expect(stdout).toContain('embedded');
  });
});
