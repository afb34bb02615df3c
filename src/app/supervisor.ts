import chalk from 'chalk';
import { execa, type ResultPromise } from 'execa';
import type { LoadedConfig } from '../config/load.js';
import { configKeys, envName } from '../config/schema.js';
import { metricsPortFor } from '../observability/metrics.js';
import { isSea } from '../util/assets.js';
import { dialHost, SUPERVISED_ENV } from './exposure.js';
import { selfScript } from './self-command.js';

export interface ChildSpec {
  name: string;
  args: string[];
  color: (s: string) => string;
  /** An HTTP URL that answers once the child serves; the next child starts after it (or a timeout). */
  readyUrl?: (loaded: LoadedConfig) => string;
}

export interface SuperviseOptions {
  loaded: LoadedConfig;
  sim?: number;
  speed?: number;
  log: (line: string) => void;
  /** Extra env for children (tests). */
  env?: NodeJS.ProcessEnv;
  /** Resolves to stop everything, with the exit code to report (the CLI: src/cli/shutdown.ts firstSignal). */
  until: Promise<number>;
  /** Child exit codes that mean "fix your flags or config": such a child is not restarted. */
  noRestartCodes: readonly number[];
}

/** Start order; shutdown is the reverse, so ingestion stops taking telemetry before the worker drains. */
export function childSpecs(sim = 0, speed = 1): ChildSpec[] {
  const specs: ChildSpec[] = [
    // The worker and the coordinator price from the grid, so it comes up first.
    { name: 'grid', args: ['grid'], color: chalk.yellow, readyUrl: (l) => `http://${dialHost(l.config.bind)}:${l.config.gridPort}/health` },
    { name: 'worker', args: ['worker'], color: chalk.magenta },
    { name: 'ingestion', args: ['ingestion'], color: chalk.cyan, readyUrl: (l) => `http://${dialHost(l.config.bind)}:${metricsPortFor('ingestion', l.config.metricsPort)}/ready` },
  ];
  if (sim > 0) specs.push({ name: 'sim', args: ['sim', '--cars', String(sim), '--speed', String(speed), '--battery', '10-60'], color: chalk.green });
  return specs;
}

/**
 * Runs one child process per service (external mode) with prefixed, coloured logs.
 * A crashed child is restarted with exponential backoff; stop() terminates in reverse order.
 */
export async function superviseServices(opts: SuperviseOptions): Promise<number> {
  // Children run the way this process runs: the single executable itself, or bin/run.js from dist,
  // or bin/dev.js under tsx.
  // (The single executable has no package folder: its children are the executable with no script.)
  const bin = selfScript();
  const specs = childSpecs(opts.sim, opts.speed);
  const width = Math.max(...specs.map((s) => s.name.length));
  const children: Supervised[] = [];
  const stopping = opts.until;
  let stopped = false;
  void stopping.then(() => {
    stopped = true;
    for (const c of children) c.stopping = true; // no restarts from here on
  });
  opts.log(`Supervising ${specs.map((s) => s.name).join(', ')} (external mode). Ctrl-C stops them in reverse order.`);
  const killAll = () => children.forEach((c) => c.kill());
  process.once('exit', killAll); // never orphan a child if the supervisor dies
  for (const spec of specs) {
    if (stopped) break;
    const child = supervise(spec, bin, opts);
    child.width = width;
    children.push(child);
    if (spec.readyUrl) await waitForUrl(spec.readyUrl(opts.loaded), 20_000, () => stopped);
  }
  const code = await stopping;
  opts.log('Stopping services…');
  for (const child of [...children].reverse()) await child.stop();
  process.off('exit', killAll);
  return code;
}

interface Supervised {
  spec: ChildSpec;
  width: number;
  /** Set once shutdown began: an exit is then expected, not restarted. */
  stopping: boolean;
  stop(): Promise<void>;
  kill(): void;
}

function supervise(spec: ChildSpec, bin: string, opts: SuperviseOptions): Supervised {
  let proc: ResultPromise | undefined;
  let attempt = 0;
  const self: Supervised = {
    spec,
    width: spec.name.length,
    stopping: false,
    kill: () => void proc?.kill('SIGKILL'),
    async stop() {
      self.stopping = true;
      if (!proc || proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await proc.catch(() => {});
    },
  };
  const prefix = (line: string) => `${spec.color(spec.name.padEnd(self.width))} │ ${line}`;
  const launch = () => {
    const startedAt = Date.now();
    proc = execa(process.execPath, isSea() ? spec.args : [...process.execArgv, bin, ...spec.args], {
      env: { ...process.env, ...childEnv(opts.loaded), ...opts.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
      reject: false,
      all: true,
      buffer: false,
      stdin: 'ignore',
      forceKillAfterDelay: 15_000,
      // Its own process group: a terminal Ctrl-C reaches only the supervisor, which stops children in order.
      detached: true,
    });
    proc.all?.setEncoding('utf8');
    let rest = '';
    proc.all?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) opts.log(prefix(line));
    });
    proc.then((r) => {
      if (self.stopping) return;
      if (r.exitCode !== undefined && opts.noRestartCodes.includes(r.exitCode)) {
        opts.log(prefix(chalk.red(`exited with a usage/configuration error (${r.exitCode}); not restarting — fix it and run \`greenlane up\` again`)));
        return;
      }
      attempt = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      opts.log(prefix(chalk.red(`exited (${r.exitCode ?? r.signal}); restarting in ${(delay / 1000).toFixed(1)} s`)));
      setTimeout(() => !self.stopping && launch(), delay).unref();
    });
  };
  launch();
  return self;
}

/**
 * What `up` was told by flags reaches the children as GREENLANE_* variables; clients of this stack
 * (the sim, the worker's prices) follow its own ports unless an address was set explicitly.
 */
export function childEnv(loaded: LoadedConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of configKeys) {
    const value = loaded.config[key];
    if (loaded.sources[key] === 'flag' && value !== undefined) env[envName(key)] = Array.isArray(value) ? value.join(',') : String(value);
  }
  env[SUPERVISED_ENV] = '1';
  if (loaded.sources.server === 'default') env.GREENLANE_SERVER = `${dialHost(loaded.config.grpcHost ?? loaded.config.bind)}:${loaded.config.grpcPort}`;
  if (loaded.sources.gridUrl === 'default') env.GREENLANE_GRID_URL = `http://${dialHost(loaded.config.bind)}:${loaded.config.gridPort}`;
  return env;
}

/** Polls an HTTP endpoint until it answers 2xx, the timeout passes or the supervisor is stopping. */
async function waitForUrl(url: string, timeoutMs: number, cancelled: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
