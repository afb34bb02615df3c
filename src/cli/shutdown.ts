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

/**
 * Started through `npx`/`npm exec`, this process runs under `npm → sh -c → node`. npm passes a
 * SIGTERM/SIGINT on to the shell, and the shell exits without passing it on, leaving this process
 * orphaned and still holding its ports. So under npm, a change of parent (re-parented once the shell
 * is gone) counts as a SIGTERM. Returns a function that stops watching.
 */
export function stopWhenOrphanedByNpm(intervalMs = 500): () => void {
  if (!process.env.npm_command) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
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
 * supervisor whose children already got SIGTERM).
 */
export function firstSignal(): Promise<number> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      process.once('SIGINT', () => process.exit(ExitCode.sigint));
      resolve(exitCodeForSignal(signal));
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
