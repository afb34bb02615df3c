import { join, resolve } from 'node:path';
import { execa, type Options } from 'execa';

/**
 * The one way tests run the `greenlane` CLI as a process: `node [--import tsx] <root>/bin/<entry>.js
 * …args` with the package root as the working directory.
 */

/** This repository's root (the package root the CLI runs from unless a test builds its own). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

export interface CliTarget {
  /** Package root holding bin/ (and dist/ for bin/run.js); default: this repository. */
  root?: string;
  /** 'run' = bin/run.js, the installed entry (commands from dist/); 'dev' = bin/dev.js (oclif development mode). Default 'dev'. */
  entry?: 'run' | 'dev';
  /** Load tsx first, so TypeScript sources import without a build. Default true. */
  tsx?: boolean;
}

/** The CLI's entry script for a target. */
export function cliBin(target: CliTarget = {}): string {
  return join(target.root ?? repoRoot, 'bin', `${target.entry ?? 'dev'}.js`);
}

/** The argv (node first) that runs `greenlane …args`, for spawning it some other way (e.g. in a terminal). */
export function cliArgv(args: readonly string[], target: CliTarget = {}): string[] {
  return [process.execPath, ...(target.tsx === false ? [] : ['--import', 'tsx']), cliBin(target), ...args];
}

/** Runs `greenlane …args` in the target's package root (execa options as given; cwd defaults to the root). */
export function runCli<O extends Options>(args: readonly string[], options: O, target: CliTarget = {}) {
  const [node, ...argv] = cliArgv(args, target);
  // The default cwd changes no part of the result's type.
  return execa(node, argv, { cwd: target.root ?? repoRoot, ...options } as O);
}
