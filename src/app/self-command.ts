import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isSea } from '../util/assets.js';
import { packagePath } from '../util/package-root.js';

const CLI_SCRIPT = /bin[/\\](run|dev)\.js$/;

/** The script this process was started with, links resolved (npm installs `greenlane` as a link to bin/run.js). */
function startScript(): string {
  try {
    return realpathSync(process.argv[1] ?? '');
  } catch {
    return process.argv[1] ?? '';
  }
}

/** True when this process is the greenlane CLI (the single executable or bin/run.js, bin/dev.js), not a host such as a test runner. */
export function isCliProcess(): boolean {
  return isSea() || CLI_SCRIPT.test(startScript());
}

/**
 * The script this program runs from: bin/run.js from dist, or bin/dev.js under tsx, as this
 * process was started, else the package's bin/run.js. The single executable has none ('').
 */
export function selfScript(): string {
  if (isSea()) return '';
  const script = startScript();
  return CLI_SCRIPT.test(script) ? script : packagePath('bin', 'run.js');
}

/** The command line that runs this program again with `args`. */
export function selfCommandLine(args: string[]): [string, string[]] {
  // (The single executable takes its arguments after its own path, with no script.)
  return [process.execPath, isSea() ? args : [...process.execArgv, selfScript(), ...args]];
}

/**
 * Runs this program with `args` to completion; rejects with its stderr when it fails. (Not ended
 * if this process exits first: `store:init` half done would leave a data dir PGlite cannot open.)
 */
export function runSelf(args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<void> {
  const [file, argv] = selfCommandLine(args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: opts.timeoutMs, env: opts.env ?? process.env, maxBuffer: 4 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')}: ${String(stderr).trim().split('\n').slice(-3).join(' ') || err.message}`));
      else resolve();
    });
  });
}
