import type { LoadedConfig } from '../config/load.js';
import { wallClockWindow, DEFAULT_TIMESTAMP_WINDOW, type TimestampWindow } from '../domain/telemetry.js';
import { ConfigError } from '../errors.js';

/**
 * What the coordinator's clock is (docs/SECURITY.md, "Clock"):
 * - `wall`: the server's clock. Telemetry dated more than GREENLANE_MAX_CLOCK_SKEW_SEC ahead is
 *   rejected at ingress, and nothing a client sends moves server time (or the Redis scripts' res:clock).
 * - `event-time`: follows the telemetry's own timestamps (a watermark), so a simulated fleet running
 *   `--speed 60` gets holds and sessions in simulated time. Any client can then move the clock forward:
 *   simulation only.
 * `auto` (the default) is event-time in an embedded dev stack and wall on real engines; event time on
 * real engines runs only when asked for by name (GREENLANE_CLOCK=event-time / --clock event-time).
 */
export type ClockMode = 'wall' | 'event-time';

export function resolveClockMode(loaded: Pick<LoadedConfig, 'config' | 'mode'>, opts: { speed?: number } = {}): ClockMode {
  const { clock } = loaded.config;
  if (clock === 'wall' || clock === 'event-time') return clock;
  if (loaded.mode === 'embedded') return 'event-time';
  if ((opts.speed ?? 1) > 1)
    throw new ConfigError(`--speed ${opts.speed} runs simulated time, which needs the event-time clock; a stack on real engines keeps the wall clock unless asked`, [
      'Pass --clock event-time (GREENLANE_CLOCK=event-time) to run simulated time on these engines — for tests only: any token holder can then move the clock forward.',
      'Or drop --speed, or run `greenlane up --sim N --speed S` embedded (no engine configured).',
    ]);
  return 'wall';
}

/** The ingress timestamp window for a clock mode: the configured skew with the wall clock, a day in event time. */
export function timestampWindowFor(mode: ClockMode, maxClockSkewSec: number): TimestampWindow {
  return mode === 'event-time' ? DEFAULT_TIMESTAMP_WINDOW : wallClockWindow(maxClockSkewSec * 1000);
}
