/** Exit codes (DESIGN.md §4). */
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

/** An error the user can act on: a message, the exit code and what to do next. */
export class GreenlaneError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.bug,
    readonly suggestions: string[] = [],
    readonly code = 'GREENLANE_ERROR',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends GreenlaneError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, ExitCode.usage, suggestions, 'USAGE');
  }
}

export class ConfigError extends GreenlaneError {
  constructor(message: string, suggestions: string[] = []) {
    super(message, ExitCode.config, suggestions, 'CONFIG');
  }
}

export class EngineUnreachableError extends GreenlaneError {
  constructor(engine: string, address: string, cause?: unknown, suggestions?: string[]) {
    super(
      `${engine} is unreachable at ${address}${cause ? `: ${(cause as Error).message ?? String(cause)}` : ''}`,
      ExitCode.engineUnreachable,
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
    super(message, ExitCode.externalTool, suggestions, 'EXTERNAL_TOOL');
  }
}

export class PortInUseError extends GreenlaneError {
  constructor(what: string, port: number, flag: string) {
    super(`${what} cannot listen on port ${port}: it is already in use`, ExitCode.usage, [
      `Stop whatever holds port ${port} (\`ss -ltnp | grep :${port}\`) or pass ${flag} <port>.`,
    ], 'PORT_IN_USE');
  }
}

/** Maps EADDRINUSE from a listen() into a PortInUseError naming the flag to change. */
export function asPortError(err: unknown, what: string, port: number, flag: string): unknown {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' ? new PortInUseError(what, port, flag) : err;
}
