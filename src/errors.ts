/**
 * What went wrong, in terms every layer can name: src/cli/exit-codes.ts turns a kind into the
 * process exit code. `failed`: the command ran and what it checked failed (e.g. smoke); `bug`: anything unforeseen.
 */
export type ErrorKind = 'bug' | 'failed' | 'usage' | 'config' | 'engine-unreachable' | 'external-tool';

/** An error the user can act on: a message, its kind and what to do next. */
export class GreenlaneError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind = 'bug',
    readonly suggestions: string[] = [],
    readonly code = 'GREENLANE_ERROR',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends GreenlaneError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, 'usage', suggestions, 'USAGE');
  }
}

export class ConfigError extends GreenlaneError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, 'config', suggestions, 'CONFIG');
  }
}

export class EngineUnreachableError extends GreenlaneError {
  constructor(engine: string, address: string, cause?: unknown, suggestions?: string[]) {
    super(
      `${engine} is unreachable at ${address}${cause ? `: ${(cause as Error).message ?? String(cause)}` : ''}`,
      'engine-unreachable',
      suggestions ?? [
        'Start the engines with `greenlane infra up` (Docker) or `scripts/engines.sh start all`.',
        'Or unset GREENLANE_KAFKA_BROKERS, GREENLANE_REDIS_URL and GREENLANE_DATABASE_URL to run embedded.',
      ],
      'ENGINE_UNREACHABLE',
    );
  }
}

export class ExternalToolError extends GreenlaneError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, 'external-tool', suggestions, 'EXTERNAL_TOOL');
  }
}

export class PortInUseError extends GreenlaneError {
  constructor(what: string, port: number, flag: string) {
    super(`${what} cannot listen on port ${port}: it is already in use`, 'usage', [
      `Stop whatever holds port ${port} (\`ss -ltnp | grep :${port}\`) or pass ${flag} <port>.`,
    ], 'PORT_IN_USE');
  }
}

/** Maps EADDRINUSE from a listen() into a PortInUseError naming the flag to change. */
export function asPortError(err: unknown, what: string, port: number, flag: string): unknown {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? new PortInUseError(what, port, flag) : err;
}
