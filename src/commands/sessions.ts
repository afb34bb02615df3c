import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { UsageError } from '../errors.js';
import { clientFlags, engineFlags } from '../cli/flags.js';
import { duration, table } from '../cli/output.js';
import { createLogger } from '../observability/logger.js';
import type { SessionRow } from '../ports/store.js';
import { openFleetQueries } from '../app/operator-queries.js';
import { parseTime } from '../cli/time.js';

export interface SessionsReport {
  source: string;
  sessions: SessionRow[];
  totals: { sessions: number; kwh: number; cost: number; avgPricePerKwh: number | null };
}

export default class Sessions extends BaseCommand<typeof Sessions> {
  static override summary = 'Charging sessions, newest first: energy delivered (kWh), cost and the average price paid.';
  static override description = [
    'Sessions are written by the worker from charging_started / charging_completed events; an open session has no end, cost or end battery yet.',
    'Embedded mode asks the running server (ListSessions RPC, reading its PGlite); external mode reads PostgreSQL (GREENLANE_DATABASE_URL).',
    '--since takes a duration back from now (90s, 30m, 1h, 2d) or a time (Unix ms, ISO date, HH:MM).',
  ].join('\n');
  static override examples = ['<%= config.bin %> sessions', '<%= config.bin %> sessions --car CAR-001 --since 1h', '<%= config.bin %> sessions --station ST-SOHO --limit 10 --json'];
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    car: Flags.string({ summary: 'Only this car.' }),
    station: Flags.string({ summary: 'Only this station.' }),
    since: Flags.string({ summary: 'Sessions started after: a duration back (1h) or a time.' }),
    limit: Flags.integer({ summary: 'At most this many sessions.', default: 50, min: 1, max: 1000, env: 'GREENLANE_SESSIONS_LIMIT' }),
  };

  async run(): Promise<SessionsReport> {
    const f = this.flags;
    const sinceMs = f.since === undefined ? undefined : parseSince(f.since, Date.now());
    const queries = await openFleetQueries(this.cfg, { logger: createLogger({ level: this.flags['log-level'] ?? 'error', name: 'sessions' }), token: f.token, need: ['store'] });
    try {
      const sessions = await queries.listSessions({ carId: f.car, stationId: f.station, sinceMs, limit: f.limit });
      const totals = totalsOf(sessions);
      if (sessions.length === 0) this.say('No charging sessions match.');
      else {
        this.say(table(['session', 'car', 'station', 'started', 'duration', 'battery', 'kWh', 'cost', 'avg $/kWh'], sessions.map(sessionRow)));
        this.say(`${totals.sessions} sessions, ${totals.kwh.toFixed(1)} kWh, $${totals.cost.toFixed(2)}${totals.avgPricePerKwh === null ? '' : `, average $${totals.avgPricePerKwh.toFixed(3)}/kWh`}`);
      }
      return { source: queries.source, sessions, totals };
    } finally {
      await queries.close();
    }
  }
}

function sessionRow(s: SessionRow): (string | number)[] {
  const open = s.endTime === null;
  const battery = s.startBattery === null ? '' : `${s.startBattery.toFixed(0)}→${open || s.endBattery === null ? '…' : s.endBattery.toFixed(0)}%`;
  return [s.sessionId, s.carId, s.stationId, new Date(s.time).toISOString().replace('T', ' ').slice(0, 19), open ? 'charging' : duration(s.endTime! - s.time), battery, s.kwhUsage.toFixed(2), s.cost === null ? '' : `$${s.cost.toFixed(2)}`, s.priceRate ? s.priceRate.toFixed(3) : ''];
}

/** Energy-weighted average over finished sessions (what a kWh actually cost). */
export function totalsOf(sessions: SessionRow[]): SessionsReport['totals'] {
  const kwh = sessions.reduce((n, s) => n + s.kwhUsage, 0);
  const cost = sessions.reduce((n, s) => n + (s.cost ?? 0), 0);
  const paidKwh = sessions.filter((s) => s.cost !== null).reduce((n, s) => n + s.kwhUsage, 0);
  return { sessions: sessions.length, kwh, cost, avgPricePerKwh: paidKwh > 0 ? cost / paidKwh : null };
}

/** "90s", "30m", "1h", "2d" back from now, or an absolute time as `greenlane price --at` reads it. */
export function parseSince(input: string, now: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(input.trim());
  if (m) return now - Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  try {
    return parseTime(input, now);
  } catch {
    throw new UsageError(`Cannot read --since "${input}"`, ['Use a duration like 30m, 1h or 2d, or a time: Unix ms, an ISO date, HH:MM.']);
  }
}
