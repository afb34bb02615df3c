// The package as a user gets it: `npm pack`, a global install of the tarball into an empty prefix with
// a clean HOME, and the installed `greenlane` run from there. A file the code needs at runtime but
// `files` leaves out (a proto, a migration, a Lua script, dist itself) fails here, not for a user.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

let work: string;
let prefix: string;
let packed: string[];
let env: NodeJS.ProcessEnv;

/** The environment of someone who just installed the package: no GREENLANE_* settings, an empty HOME. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Vitest's NODE_ENV=test would also make oclif look for TypeScript sources, which a user never has.
    if (/^(GREENLANE_|XDG_|npm_|VITEST)/.test(key) || ['NODE_ENV', 'NODE_OPTIONS', 'TEST'].includes(key)) continue;
    out[key] = value;
  }
  return {
    ...out,
    HOME: home,
    // Reuse the machine's npm cache so the dependencies are not downloaded again (only the registry).
    npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
}

function greenlane(args: string[], timeout = 120_000) {
  return run(join(prefix, 'bin', 'greenlane'), args, { cwd: work, env, timeout, maxBuffer: 16 << 20 });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'greenlane-pack-'));
  prefix = join(work, 'prefix');
  const home = join(work, 'home');
  await Promise.all([mkdir(prefix), mkdir(home)]);
  env = cleanEnv(home);

  // npm pack runs `prepare`, i.e. the build, so the tarball carries a fresh dist/.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    env: { ...env, HOME: process.env.HOME },
    maxBuffer: 64 << 20,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  packed = info.files.map((f) => f.path);
  // From the temporary folder, so the repository's own .npmrc does not apply: a user's global install.
  await run('npm', ['install', '--global', '--prefix', prefix, join(work, info.filename)], { cwd: work, env, maxBuffer: 16 << 20 });
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('carries the build, the protos, the migrations and the Lua scripts, and no sources or tests', () => {
    for (const file of ['bin/run.js', 'dist/commands/index.js', 'dist/build-info.json', 'package.json', 'README.md', 'CHANGELOG.md']) {
      expect(packed).toContain(file);
    }
    // bin/dev.js runs the TypeScript sources through tsx, a devDependency: useless, and broken, installed.
    expect(packed).not.toContain('bin/dev.js');
    expect(packed.some((f) => f.startsWith('proto/') && f.endsWith('.proto'))).toBe(true);
    expect(packed.some((f) => f.startsWith('src/adapters/postgres/migrations/'))).toBe(true);
    expect(packed.some((f) => f.startsWith('src/adapters/redis/lua/'))).toBe(true);
    expect(packed.filter((f) => /^(test|bench|\.ci)\//.test(f) || (f.startsWith('src/') && f.endsWith('.ts')))).toEqual([]);
  });

  it('carries every file under src/ that is not TypeScript: the code reads those assets at runtime', async () => {
    // Embedded mode never runs the Redis Lua scripts, so smoke alone would not notice them missing.
    const entries = await readdir(join(root, 'src'), { recursive: true, withFileTypes: true });
    const assets = entries
      .filter((e) => e.isFile() && !/\.tsx?$/.test(e.name))
      .map((e) => join(e.parentPath, e.name).slice(root.length).split('\\').join('/'));
    expect(assets.length).toBeGreaterThan(0);
    expect(assets.filter((f) => !packed.includes(f))).toEqual([]);
  });

  it('installed globally, greenlane --version names the version and the commit it was built from', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const commit = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).then((r) => r.stdout.trim(), () => 'unknown');
    const { stdout } = await greenlane(['--version']);
    expect(stdout.trim()).toMatch(new RegExp(`^greenlane/${version.replaceAll('.', '\\.')} \\(${commit}\\) \\S+-\\S+ node-v\\d+\\.`));
  });

  it('installed globally, greenlane smoke --json passes end to end in embedded mode', async () => {
    const { stdout, stderr } = await greenlane(['smoke', '--json'], 240_000);
    expect(stderr).not.toMatch(/Warning:/);
    const report = JSON.parse(stdout) as { ok: boolean; mode: string; failures: unknown[] };
    expect(report).toMatchObject({ ok: true, mode: 'embedded', failures: [] });
  });

  it('installed globally, greenlane doctor finds this machine ready', async () => {
    const { stdout, stderr } = await greenlane(['doctor']);
    expect(stderr).not.toMatch(/Warning:/);
    expect(stdout).toContain('embedded');
    expect(stdout).not.toMatch(/✗/);
  });
});
