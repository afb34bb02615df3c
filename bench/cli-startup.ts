// CLI start-up and footprint. Prints one JSON document: each command's median wall time over N runs,
// and that time as a ratio to `node -e 0` measured in the same run (so a loaded machine still
// compares), for the npm install (bin/run.js) and the single executable (dist/greenlane-*-linux-x64).
//
//   node --import tsx bench/cli-startup.ts [--runs 7] [--binary dist/greenlane-0.1.0-linux-x64]
//   node --import tsx bench/cli-startup.ts --footprint [--minutes 5] [--sim 20] [--binary …]
//
// `price --json` is measured against a running embedded stack (`greenlane up`, started here).
// --footprint runs `greenlane up --sim N` (embedded) for each CLI (--cli npm|binary, default both),
// samples the RSS of its process tree every 10 s and, at the end, splits the process's RSS by kind
// (bench/lib/memory.ts: wasm memory, native heap, V8 heap, mapped files, other) and names the largest.
// Stacks started here listen on free ports with a fresh data dir, beside any other running stack.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dominant, rssBreakdown, treeRssMb } from './lib/memory.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    binary: { type: 'string' },
    footprint: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '5' },
    sim: { type: 'string', default: '20' },
    cli: { type: 'string' },
  },
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const binary = opts.binary ?? join(root, 'dist', `greenlane-${pkg.version}-linux-x64`);
const log = (msg: string) => process.stderr.write(`[cli-startup] ${msg}\n`);

type Cli = { name: string; argv: (args: string[]) => [string, string[]] };
const clis: Cli[] = [{ name: 'npm', argv: (a) => [process.execPath, [join(root, 'bin/run.js'), ...a]] }];
if (existsSync(binary)) clis.push({ name: 'binary', argv: (a) => [binary, a] });

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/** Ports and a data dir for one stack, as GREENLANE_* variables its clients read too. */
async function stackEnv(): Promise<{ env: NodeJS.ProcessEnv; gridPort: number; metricsPort: number; dataDir: string }> {
  const [grpc, grid, metrics, web] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'greenlane-bench-'));
  const env = {
    ...process.env,
    GREENLANE_GRPC_PORT: String(grpc),
    GREENLANE_SERVER: `127.0.0.1:${grpc}`,
    GREENLANE_GRID_PORT: String(grid),
    GREENLANE_GRID_URL: `http://127.0.0.1:${grid}`,
    GREENLANE_METRICS_PORT: String(metrics),
    GREENLANE_WEB_PORT: String(web),
    GREENLANE_DATA_DIR: dataDir,
  };
  return { env, gridPort: grid, metricsPort: metrics, dataDir };
}

function timeOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  try {
    execFileSync(cmd, args, { stdio: 'ignore', env: { ...env, GREENLANE_LOG_LEVEL: 'silent' } });
  } catch {
    // a failing command is still timed; its failure is not what this measures
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function waitFor(url: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(url).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

function startUp(cli: Cli, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, argv] = cli.argv(['up', ...args]);
  return spawn(cmd, argv, { stdio: 'ignore', env: { ...env, GREENLANE_LOG_LEVEL: 'warn' } });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function startup(): Promise<void> {
  const runs = Number(opts.runs);
  const cases: { id: string; args: string[]; limit: number }[] = [
    { id: '--version', args: ['--version'], limit: 3 },
    { id: '--help', args: ['--help'], limit: 4 },
    { id: 'price --json', args: ['price', '--json'], limit: 6 },
  ];
  const result: Record<string, unknown> = { date: new Date().toISOString(), runs, node: process.version, binary: existsSync(binary) ? binary : null };
  const at = await stackEnv();
  const stack = startUp(clis[0]!, [], at.env);
  // PGlite's first start: seconds, minutes on a loaded machine.
  const stackUp = await waitFor(`http://127.0.0.1:${at.gridPort}/health`, 300_000);
  result.stackRunning = stackUp;
  log(`stack ${stackUp ? 'up' : 'NOT up (price falls back to the local curve)'}`);
  try {
    for (const cli of clis) timeOnce(...cli.argv(['--help'])); // warm caches (compile cache, page cache)
    const out: Record<string, Record<string, unknown>> = {};
    for (const cli of clis) out[cli.name] = {};
    const base: number[] = [];
    const times: Record<string, number[]> = {};
    for (let i = 0; i < runs; i++) {
      // interleaved, so load on the machine hits every measurement alike
      base.push(timeOnce(process.execPath, ['-e', '0']));
      for (const cli of clis) for (const c of cases) (times[`${cli.name} ${c.id}`] ??= []).push(timeOnce(...cli.argv(c.args), at.env));
    }
    const baseMs = median(base);
    result.nodeE0Ms = Math.round(baseMs);
    for (const cli of clis) {
      for (const c of cases) {
        const ms = median(times[`${cli.name} ${c.id}`]!);
        const ratio = Math.round((ms / baseMs) * 100) / 100;
        // price against no stack measures the local fallback, not the target's case: never ok.
        const valid = c.id !== 'price --json' || stackUp;
        out[cli.name]![c.id] = { ms: Math.round(ms), ratio, limit: c.limit, ok: valid && ratio <= c.limit };
      }
    }
    result.results = out;
  } finally {
    await stop(stack);
    rmSync(at.dataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/** process.memoryUsage().heapTotal of the stack, from its /metrics (prom-client's default metrics). */
async function v8HeapBytes(metricsPort: number): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
  const m = /^greenlane_process_nodejs_heap_size_total_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function footprintOf(cli: Cli): Promise<Record<string, unknown>> {
  const minutes = Number(opts.minutes);
  const at = await stackEnv();
  const child = startUp(cli, ['--sim', opts.sim], at.env);
  const samples: { s: number; rssMb: number }[] = [];
  const t0 = Date.now();
  let breakdown;
  try {
    while (Date.now() - t0 < minutes * 60_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 10_000));
      samples.push({ s: Math.round((Date.now() - t0) / 1000), rssMb: treeRssMb(child.pid!) });
      log(`${cli.name} ${samples.at(-1)!.s}s ${samples.at(-1)!.rssMb} MB`);
    }
    if (child.exitCode === null) breakdown = rssBreakdown(child.pid!, await v8HeapBytes(at.metricsPort));
  } finally {
    await stop(child);
    rmSync(at.dataDir, { recursive: true, force: true });
  }
  const last = samples.at(-1)?.rssMb ?? 0;
  const peak = Math.max(0, ...samples.map((s) => s.rssMb));
  return {
    cli: cli.name,
    lastRssMb: last,
    peakSampledRssMb: peak,
    limitMb: 400,
    ok: breakdown !== undefined && last <= 400,
    breakdown: breakdown ?? null,
    dominant: breakdown ? dominant(breakdown) : null,
    samples,
  };
}

async function footprint(): Promise<void> {
  const chosen = opts.cli ? clis.filter((c) => c.name === opts.cli) : clis;
  if (!chosen.length) throw new Error(`--cli ${opts.cli}: no such CLI here (npm, or binary once built: ${binary})`);
  const results = [];
  for (const cli of chosen) results.push(await footprintOf(cli));
  const result = { date: new Date().toISOString(), node: process.version, sim: Number(opts.sim), minutes: Number(opts.minutes), results };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

await (opts.footprint ? footprint() : startup());
