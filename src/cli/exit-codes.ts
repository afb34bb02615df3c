import type { ErrorKind } from '../errors.js';

/** The CLI's exit codes (documented in README.md); only src/cli maps errors to them. */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  config: 3,
  engineUnreachable: 4,
  externalTool: 5,
  sigint: 130,
  sigterm: 143,
} as const;

const BY_KIND: Record<ErrorKind, number> = {
  bug: ExitCode.bug,
  failed: ExitCode.bug,
  usage: ExitCode.usage,
  config: ExitCode.config,
  'engine-unreachable': ExitCode.engineUnreachable,
  'external-tool': ExitCode.externalTool,
};

export function exitCodeForKind(kind: ErrorKind): number {
  return BY_KIND[kind] ?? ExitCode.bug;
}

/**
 * The exit code a failure ends the process with: a GreenLane error by its kind, an oclif error by
 * the exit it carries, anything else (a bug) 1.
 */
export function exitCodeFor(err: unknown): number {
  const e = err as { kind?: unknown; oclif?: { exit?: number } } | undefined;
  if (e && typeof e.kind === 'string' && e.kind in BY_KIND && isGreenlaneError(err)) return exitCodeForKind(e.kind as ErrorKind);
  return e?.oclif?.exit ?? ExitCode.bug;
}

/** Duck-typed so this module stays a leaf (src/errors.ts reads exitCodeForKind from here). */
function isGreenlaneError(err: unknown): boolean {
  return err instanceof Error && 'suggestions' in err && 'kind' in err;
}

/** The exit code for the signal that stopped the process. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
}
