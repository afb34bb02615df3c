/**
 * The chaos suite's moving parts: `greenlane ingestion` and `greenlane worker` as their own
 * processes (from source, as test/helpers/run-cli.ts runs the CLI), killed with SIGKILL and started
 * again; and the engines stopped and started with the repository's own scripts.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { cliArgv, repoRoot } from '../../test/helpers/run-cli.js';

const run = promisify(execFile);

export type ServiceName = 'ingestion' | 'worker';

/** What each service prints once it serves. */
const READY_LINE: Record<ServiceName, string> = { ingestion: 'Ingestion listening', worker: 'Worker consuming' };

export interface Service {
  readonly name: ServiceName;
  readonly pid: number | undefined;
  /** Starts the process; resolves once it says it serves (rejects when it exits first or the timeout passes). */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILL, no drain: what an OOM kill or a lost machine does. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (SIGKILL after the deadline). */
  stop(deadlineMs?: number): Promise<void>;
  /** The last output lines (for failure messages). */
  tail(): string;
  /** Times the service exited on its own (not killed or stopped here) and was started again. */
  readonly unexpectedExits: number;
}

export interface ServiceOptions {
  /** Every line the service prints (stdout and stderr, every incarnation) is appended there too. */
  logFile?: string;
  /** Told when the service exits on its own; it is then started again after a backoff. */
  onUnexpectedExit?: (name: ServiceName, code: number | null, signal: string | null) => void;
}

/** Every service process started here and still running: killed if this process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * One service process. Like `greenlane up`'s supervisor (src/app/supervisor.ts), a service that exits
 * on its own once it served is started again with exponential backoff (reset after 30 s of running),
 * so a crash shows up as a counted restart and a recovery time, not as silence for the rest of the run.
 */
export function createService(name: ServiceName, env: NodeJS.ProcessEnv, opts: ServiceOptions = {}): Service {
  let child: ChildProcess | undefined;
  let output = '';
  /** True while this process should be running (between start and kill9/stop). */
  let wanted = false;
  let unexpectedExits = 0;
  let attempt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-6000);
    if (opts.logFile) appendFileSync(opts.logFile, chunk);
  };
  const restartLater = () => {
    const delay = Math.min(10_000, 500 * 2 ** attempt++);
    restartTimer = setTimeout(() => {
      if (wanted) self.start().catch(() => restartLater());
    }, delay);
  };
  const watchExit = (c: ChildProcess, startedAt: number) =>
    c.once('exit', (code, signal) => {
      if (!wanted || c !== child) return;
      unexpectedExits++;
      if (Date.now() - startedAt > 30_000) attempt = 0;
      opts.onUnexpectedExit?.(name, code, signal);
      restartLater();
    });
  const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  const self: Service = {
    name,
    get pid() {
      return child?.pid;
    },
    get unexpectedExits() {
      return unexpectedExits;
    },
    async start(timeoutMs = 180_000) {
      wanted = true;
      clearTimeout(restartTimer);
      const startedAt = Date.now();
      const [node, ...argv] = cliArgv([name]);
      const c = spawn(node, argv, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      running.add(c);
      c.once('exit', () => running.delete(c));
      c.stderr!.on('data', keep);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`greenlane ${name} did not start within ${timeoutMs} ms: ${output}`)), timeoutMs);
        const onData = (chunk: Buffer) => {
          keep(chunk);
          if (output.includes(READY_LINE[name])) finish();
        };
        const onExit = (code: number | null) => finish(new Error(`greenlane ${name} exited (${code}) before serving: ${output}`));
        function finish(err?: Error): void {
          clearTimeout(timer);
          c.off('exit', onExit);
          if (err) {
            c.kill('SIGKILL');
            reject(err);
          } else resolve();
        }
        c.stdout!.on('data', onData);
        c.on('exit', onExit);
      });
      output = '';
      watchExit(c, startedAt);
    },
    async kill9() {
      wanted = false;
      clearTimeout(restartTimer);
      if (!child) return;
      const c = child;
      c.kill('SIGKILL');
      await exited(c);
    },
    async stop(deadlineMs = 15_000) {
      wanted = false;
      clearTimeout(restartTimer);
      if (!child) return;
      const c = child;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), deadlineMs);
      await exited(c);
      clearTimeout(timer);
    },
    tail: () => output,
  };
  return self;
}

export { freePort } from '../../test/helpers/net.js';

export type EngineName = 'kafka' | 'postgres' | 'redis';

/** Stops an engine (scripts/engines.sh; PostgreSQL through its cluster). Shared with other runs: keep outages short. */
export async function stopEngine(engine: EngineName): Promise<void> {
  if (engine === 'postgres') await pgCluster('stop');
  else await run('bash', [`${repoRoot}/scripts/engines.sh`, 'stop', engine], { cwd: repoRoot });
}

/** Starts an engine and waits until it answers. */
export async function startEngine(engine: EngineName): Promise<void> {
  if (engine === 'postgres') await pgCluster('start');
  else await run('bash', [`${repoRoot}/scripts/engines.sh`, 'start', engine], { cwd: repoRoot, timeout: 120_000 });
}

async function pgCluster(action: 'start' | 'stop'): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0];
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { timeout: 60_000 });
}
