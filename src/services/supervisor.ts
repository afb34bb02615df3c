import chalk from 'chalk';
import { execa, type ResultPromise } from 'execa';
import type { LoadedConfig } from '../config/load.js';
import { packagePath } from '../util/package-root.js';

export interface ChildSpec {
  name: string;
  args: string[];
  color: (s: string) => string;
}

export interface SuperviseOptions {
  loaded: LoadedConfig;
  sim?: number;
  speed?: number;
  log: (line: string) => void;
  /** Extra env for children (tests). */
  env?: NodeJS.ProcessEnv;
  /** Resolves to stop everything (default: first SIGINT/SIGTERM). */
  until?: Promise<void>;
}

/** Start order; shutdown is the reverse, so ingestion stops taking telemetry before the worker drains. */
export function childSpecs(sim = 0, speed = 1): ChildSpec[] {
  const specs: ChildSpec[] = [
    { name: 'grid', args: ['grid'], color: chalk.yellow },
    { name: 'worker', args: ['worker'], color: chalk.magenta },
    { name: 'ingestion', args: ['ingestion'], color: chalk.cyan },
  ];
  if (sim > 0) specs.push({ name: 'sim', args: ['sim', '--cars', String(sim), '--speed', String(speed)], color: chalk.green });
  return specs;
}

/**
 * Runs one child process per service (external mode) with prefixed, coloured logs.
 * A crashed child is restarted with exponential backoff; stop() terminates in reverse order.
 */
export async function superviseServices(opts: SuperviseOptions): Promise<void> {
  const bin = packagePath('bin', 'run.js');
  const children = childSpecs(opts.sim, opts.speed).map((spec) => supervise(spec, bin, opts));
  const width = Math.max(...children.map((c) => c.spec.name.length));
  children.forEach((c) => (c.width = width));
  opts.log(`Supervising ${children.map((c) => c.spec.name).join(', ')} (external mode). Ctrl-C stops them in reverse order.`);
  await (opts.until ?? firstSignal());
  opts.log('Stopping services…');
  for (const child of [...children].reverse()) await child.stop();
}

interface Supervised {
  spec: ChildSpec;
  width: number;
  stop(): Promise<void>;
}

function supervise(spec: ChildSpec, bin: string, opts: SuperviseOptions): Supervised {
  let proc: ResultPromise | undefined;
  let stopping = false;
  let attempt = 0;
  const self: Supervised = {
    spec,
    width: spec.name.length,
    async stop() {
      stopping = true;
      if (!proc || proc.exitCode !== null) return;
      proc.kill('SIGTERM', { forceKillAfterDelay: 15_000 } as never);
      await proc.catch(() => {});
    },
  };
  const prefix = (line: string) => `${spec.color(spec.name.padEnd(self.width))} │ ${line}`;
  const launch = () => {
    const startedAt = Date.now();
    proc = execa(process.execPath, [bin, ...spec.args], { env: { ...process.env, ...opts.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' }, reject: false, all: true, buffer: false, stdin: 'ignore' });
    proc.all?.setEncoding('utf8');
    let rest = '';
    proc.all?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) opts.log(prefix(line));
    });
    proc.then((r) => {
      if (stopping) return;
      if (r.exitCode === 2 || r.exitCode === 3) {
        opts.log(prefix(chalk.red(`exited with a usage/configuration error (${r.exitCode}); not restarting — fix it and run \`greenlane up\` again`)));
        return;
      }
      attempt = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      opts.log(prefix(chalk.red(`exited (${r.exitCode ?? r.signal}); restarting in ${(delay / 1000).toFixed(1)} s`)));
      setTimeout(() => !stopping && launch(), delay).unref();
    });
  };
  launch();
  return self;
}

function firstSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      // A second signal forces: children got SIGTERM already, so exit now.
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
