import chalk, { type ChalkInstance } from 'chalk';
import type { FleetEvent } from '../../domain/events.js';
import { bandIcon, bandOf, isCritical } from './bands.js';

export const CRITICAL_TEXT = '⚠ CRITICAL BATTERY!';

const pad2 = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS in local time, as the original monitor printed. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const bookingIcon: Record<string, string> = {
  booking_confirmed: '🅿',
  booking_queued: '⏳',
  booking_failed: '✖',
  booking_expired: '⌛',
  booking_cancelled: '↩',
  charging_started: '⚡',
  charging_completed: '🔋',
  battery_critical: '⚠',
};

/**
 * One line per event in the original monitor's format:
 * `[12:34:56] 🟢 CAR-001 | Battery:  85.3% | Location: (40.7234, -73.9876) | Speed:  45.2 km/h`
 * plus `⚠ CRITICAL BATTERY!` below 15 %. Booking and charging events get their own shape.
 * Pass a chalk instance with level 0 for uncoloured output.
 */
export function formatEventLine(event: FleetEvent, c: ChalkInstance = chalk): string {
  const time = c.dim(`[${clock(event.timestamp)}]`);
  if (event.event_type === 'telemetry') {
    const band = bandOf(event.battery);
    const colour = c[band];
    const line =
      `${time} ${bandIcon[band]} ${c.bold(event.car_id)} | Battery: ${colour(event.battery.toFixed(1).padStart(5) + '%')}` +
      ` | Location: (${event.lat.toFixed(4)}, ${event.lon.toFixed(4)}) | Speed: ${event.velocity.toFixed(1).padStart(5)} km/h`;
    return isCritical(event.battery) ? `${line} ${c.red.bold(CRITICAL_TEXT)}` : line;
  }
  const icon = bookingIcon[event.event_type] ?? '•';
  const parts = [`${time} ${icon} ${c.bold(event.car_id)} | ${c.cyan(event.event_type.toUpperCase())}`];
  if (event.station_id) parts.push(`station ${event.station_id}`);
  const price = event.price_rate;
  if (typeof price === 'number') parts.push(`$${price.toFixed(2)}/kWh`);
  const pos = event.queue_position;
  if (typeof pos === 'number' && pos > 0) parts.push(`queue #${pos}`);
  const reason = event.reason ?? event.message;
  if (typeof reason === 'string' && reason) parts.push(reason);
  const line = parts.join(' | ');
  if (event.event_type === 'battery_critical') return `${line} ${c.red.bold(CRITICAL_TEXT)}`;
  if (event.event_type.startsWith('charging_')) return c.magenta(line);
  return event.event_type === 'booking_failed' ? c.yellow(line) : c.cyan(line);
}

export interface SessionSummary {
  events: number;
  durationSec: number;
  eventsPerSec: number;
}

export function summarize(events: number, startedAt: number, endedAt: number): SessionSummary {
  const durationSec = Math.max(0, (endedAt - startedAt) / 1000);
  return { events, durationSec: round1(durationSec), eventsPerSec: round1(durationSec > 0 ? events / durationSec : 0) };
}

/** The original monitor's exit summary. */
export function formatSummary(s: SessionSummary): string {
  return ['', '📊 Session summary', `   Events:     ${s.events}`, `   Duration:   ${s.durationSec.toFixed(1)} s`, `   Events/s:   ${s.eventsPerSec.toFixed(1)}`].join('\n');
}

const round1 = (n: number) => Math.round(n * 10) / 10;
