import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { isSea } from '../util/assets.js';

export type { Logger };

/**
 * Logs go to stderr so stdout stays free for --json output and the TUI. Pretty on a TTY.
 * `silent` is used by tests and by commands whose screen is owned by a TUI.
 */
export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? 'info';
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty && level !== 'silent' && isSea()) {
    // The single executable has no module files for pino's transport worker: pretty-print in-process.
    return pino({ level, name: opts.name }, pinoPretty({ destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  if (pretty && level !== 'silent') {
    return pino({
      level,
      name: opts.name,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, name: opts.name }, pino.destination({ fd: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
