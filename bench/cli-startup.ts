// CLI start-up and footprint. Prints one JSON document: each command's median wall time over N runs,
// and that time as a ratio to `node -e 0` measured in the same run (so a loaded machine still
// compares), for the npm install (bin/run.js) and the single executable (dist/greenlane-*-linux-x64).
//
//   node --import tsx bench/cli-startup.ts [--runs 7] [--binary dist/greenlane-0.1.0-linux-x64]
//   node --import tsx bench/cli-startup.ts --footprint [--minutes 5] [--sim 20] [--binary …]
//
// `price --json` is measured against a running embedded stack (`greenlane up`, started here).
// --footprint runs `greenlane up --sim N` (embedded) and samples the RSS of its process tree.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    binary: { type: 'string' },
    footprint: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '5' },
    sim: { type: 'string', default: '20' },
  },
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const binary = opts.binary ?? join(root, 'dist', `greenlane-${pkg.version}-linux-x64`);
const log = (msg: string) => process.stderr.write(`[cli-startup] ${msg}\n`);

type Cli = { name: string; argv: (args: string[]) => [string, string[]] };
const clis: Cli[] = [{ name: 'npm', argv: (a) => [process.execPath, [join(root, 'bin/run.js'), ...a]] }];
if (existsSync(binary)) clis.push({ name: 'binary', argv: (a) => [binary, a] });

function timeOnce(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  try {
    execFileSync(cmd, args, { stdio: 'ignore', env: { ...process.env, GREENLANE_LOG_LEVEL: 'silent' } });
  } catch {
    // a failing command is still timed; its failure is not what this measures
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const treeRss = (pid: number): number => {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // process gone
    }
  }
  let kb = 0;
  const walk = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
    for (const c of kids.get(p) ?? []) walk(c);
  };
  walk(pid);
  return Math.round(kb / 1024);
};

async function waitFor(url: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(url).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

function startUp(cli: Cli, args: string[]): ChildProcess {
  const [cmd, argv] = cli.argv(['up', ...args]);
  return spawn(cmd, argv, { stdio: 'ignore', env: { ...process.env, GREENLANE_LOG_LEVEL: 'warn' } });
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
  const result: Record<string, unknown> = { runs, node: process.version, binary: existsSync(binary) ? binary : null };
  const stack = startUp(clis[0]!, []);
  const stackUp = await waitFor('http://127.0.0.1:8081/health', 90_000);
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
      for (const cli of clis) for (const c of cases) (times[`${cli.name} ${c.id}`] ??= []).push(timeOnce(...cli.argv(c.args)));
    }
    const baseMs = median(base);
    result.nodeE0Ms = Math.round(baseMs);
    for (const cli of clis) {
      for (const c of cases) {
        const ms = median(times[`${cli.name} ${c.id}`]!);
        const ratio = Math.round((ms / baseMs) * 100) / 100;
        out[cli.name]![c.id] = { ms: Math.round(ms), ratio, limit: c.limit, ok: ratio <= c.limit };
      }
    }
    result.results = out;
  } finally {
    await stop(stack);
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

async function footprint(): Promise<void> {
  const cli = clis.at(-1)!;
  const minutes = Number(opts.minutes);
  const child = startUp(cli, ['--sim', opts.sim]);
  const samples: { s: number; rssMb: number }[] = [];
  const t0 = Date.now();
  try {
    while (Date.now() - t0 < minutes * 60_000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 10_000));
      samples.push({ s: Math.round((Date.now() - t0) / 1000), rssMb: treeRss(child.pid!) });
      log(`${samples.at(-1)!.s}s ${samples.at(-1)!.rssMb} MB`);
    }
  } finally {
    await stop(child);
  }
  const last = samples.at(-1)?.rssMb ?? 0;
  const peak = Math.max(0, ...samples.map((s) => s.rssMb));
  process.stdout.write(JSON.stringify({ cli: cli.name, sim: Number(opts.sim), minutes, lastRssMb: last, peakRssMb: peak, limitMb: 400, ok: last <= 400, samples }, null, 2) + '\n');
}

await (opts.footprint ? footprint() : startup());
