import { readFileSync } from 'node:fs';
import { ExitCode, exitCodeForSignal } from './exit-codes.js';

export interface ShutdownOptions {
  /** How long the first signal may drain before the process is forced out. */
  deadlineMs?: number;
  log?: (msg: string) => void;
  exit?: (code: number) => void;
}

export type ShutdownHandler = (signal: NodeJS.Signals) => Promise<void>;

/**
 * First SIGINT/SIGTERM runs `drain` with a deadline; a second signal, or the deadline,
 * forces exit. Returns a function that unregisters the handlers.
 */
export function onShutdown(drain: ShutdownHandler, opts: ShutdownOptions = {}): () => void {
  const { deadlineMs = 10_000, log = (m) => process.stderr.write(m + '\n'), exit = (c) => process.exit(c) } = opts;
  let draining = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = exitCodeForSignal(signal);
    if (draining) {
      log(`Second ${signal}: forcing exit.`);
      exit(code);
      return;
    }
    draining = true;
    log(`${signal} received: draining (up to ${Math.round(deadlineMs / 1000)} s; press Ctrl-C again to force).`);
    const timer = setTimeout(() => {
      log('Drain deadline passed: forcing exit.');
      exit(code);
    }, deadlineMs);
    timer.unref();
    drain(signal).then(
      () => {
        clearTimeout(timer);
        exit(code);
      },
      (err) => {
        clearTimeout(timer);
        log(`Drain failed: ${(err as Error).message}`);
        exit(code);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const unwatch = stopWhenOrphanedByNpm();
  return () => {
    unwatch();
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** The parent this process started under, read when the CLI loads: a signal to npx during a slow start (PGlite's first init) still counts. */
const START_PARENT = process.ppid;

/** A process as /proc shows it: its parent and its start time (which tells a reused pid apart); undefined once it is gone or off Linux. */
function procStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
    return fields[0] === 'Z' ? undefined : { ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** The npm process this one runs under (npm → sh -c → node, or npm → node), if /proc shows one. */
function npmAncestor(): { pid: number; start: string } | undefined {
  let pid = START_PARENT;
  for (let depth = 0; depth < 3 && pid > 1; depth++) {
    const stat = procStat(pid);
    if (!stat) return undefined;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (/(^|[/\0])(npm|npx)(-cli\.js)?(\0|$)/.test(cmd) || cmd.startsWith('npm ')) return { pid, start: stat.start };
    pid = stat.ppid;
  }
  return undefined;
}

/**
 * Started through `npx`/`npm exec`, this process runs under `npm → sh -c → node`. npm passes a
 * SIGTERM/SIGINT on to the shell, and the shell exits without passing it on; a SIGKILL to npm
 * reaches neither. Either way this process would be left running, still holding its ports. So
 * under npm, losing the parent (re-parented once the shell is gone) or the npm process itself
 * (/proc, on Linux) counts as a SIGTERM. Returns a function that stops watching.
 */
export function stopWhenOrphanedByNpm(intervalMs = 500): () => void {
  if (!process.env.npm_command) return () => {};
  let npm: { pid: number; start: string } | undefined;
  try {
    npm = npmAncestor();
  } catch {
    npm = undefined; // no /proc: the parent check alone
  }
  const timer = setInterval(() => {
    const npmGone = npm !== undefined && procStat(npm.pid)?.start !== npm.start;
    if (process.ppid === START_PARENT && !npmGone) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Resolves when the first SIGINT/SIGTERM arrives; for commands that run until interrupted. */
export function untilSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  // process.on, not once: with no listener left, execa's signal-exit would re-raise the signal.
  const handler = () => ac.abort();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * Resolves with the exit code of the first SIGINT/SIGTERM; a second SIGINT exits at once (for a
 * supervisor whose children already got SIGTERM). Under npx, losing the parent counts as SIGTERM.
 */
export function firstSignal(): Promise<number> {
  return new Promise((resolve) => {
    const unwatch = stopWhenOrphanedByNpm();
    const done = (signal: NodeJS.Signals) => {
      unwatch();
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      process.once('SIGINT', () => process.exit(ExitCode.sigint));
      resolve(exitCodeForSignal(signal));
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
