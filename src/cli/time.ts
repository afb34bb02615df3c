import { UsageError } from '../errors.js';

/** Unix ms, ISO date, HH:MM (today, local time) or "now". */
export function parseTime(input: string, now: number): number {
  const s = input.trim();
  if (s === '' || s === 'now') return now;
  if (/^\d+$/.test(s)) return Number(s);
  const hm = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (hm && Number(hm[1]) < 24 && Number(hm[2]) < 60) {
    const d = new Date(now);
    d.setHours(Number(hm[1]), Number(hm[2]), 0, 0);
    return d.getTime();
  }
  const parsed = Date.parse(s);
  if (Number.isFinite(parsed)) return parsed;
  throw new UsageError(`Cannot read --at "${input}"`, ['Use Unix milliseconds, an ISO date like 2024-06-03T18:00:00Z, HH:MM or now.']);
}
