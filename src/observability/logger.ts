import pino, { type Logger } from 'pino';

import { redactUrl } from '../util/redact.js';

export type { Logger };

const SECRET_FIELDS = ['token', 'apiToken', 'apiTokens', 'operatorTokens', 'tokenSecret', 'secret', 'password'];
const URL_FIELDS = ['url', 'redisUrl', 'databaseUrl', 'gridUrl'];

/** Log fields never printed in clear: tokens and secrets masked, passwords in URLs masked (top level and one level down). */
export const LOG_REDACT = {
  paths: [...SECRET_FIELDS, ...URL_FIELDS].flatMap((f) => [f, `*.${f}`]),
  censor: (value: unknown): unknown => (typeof value === 'string' && value.includes('://') ? redactUrl(value) : '****'),
};

/**
 * Logs go to stderr so stdout stays free for --json output and the TUI. Pretty on a TTY.
 * `silent` is used by tests and by commands whose screen is owned by a TUI.
 */
export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? 'info';
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty && level !== 'silent') {
    return pino({
      level,
      name: opts.name,
      redact: LOG_REDACT,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, name: opts.name, redact: LOG_REDACT }, pino.destination({ fd: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
