import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { z } from 'zod';
import { BaseCommand } from '../cli/base-command.js';
import { UsageError } from '../errors.js';
import { isTTY } from '../cli/output.js';
import { forecast as localForecast, priceAt as localPriceAt, type PricingParams } from '../domain/pricing.js';
import type { PricePoint } from '../ports/price-source.js';
import { pricingFlags, pricingFromFlags } from './grid.js';

export interface PriceReport {
  source: 'grid' | 'local';
  gridUrl: string;
  /** Why the local curve was used, when it was. */
  fallbackReason?: string;
  price: PricePoint;
  forecast: { from: number; hours: number; stepMinutes: number; points: PricePoint[] };
  cheapest: PricePoint;
  dearest: PricePoint;
}

const pointSchema = z.object({
  timestamp: z.number(),
  price_per_kwh: z.number(),
  grid_load: z.enum(['Low', 'Medium', 'High']),
  energy_source: z.enum(['Solar', 'Wind', 'Grid']),
  hour: z.number(),
});
const forecastSchema = z.object({ from: z.number(), step_minutes: z.number(), points: z.array(pointSchema).min(1) });

const STEP_MINUTES = 15;
const BAND_COLOUR = { Low: chalk.green, Medium: chalk.yellow, High: chalk.red } as const;

export default class Price extends BaseCommand<typeof Price> {
  static override summary = 'Show the electricity price now (or at a time) and a chart of the coming hours.';
  static override description =
    'Asks the grid service (--grid-url) and falls back to the local curve, saying so, when it is unreachable. TIME is Unix ms, an ISO date, HH:MM (today, local time) or "now".';
  static override examples = ['<%= config.bin %> price', '<%= config.bin %> price --at 18:00 --hours 48', '<%= config.bin %> price --at 2024-06-03T12:00:00Z --json'];
  static override flags = {
    at: Flags.string({ summary: 'Instant to price: Unix ms, ISO date, HH:MM or now.', default: 'now' }),
    hours: Flags.integer({ summary: 'Hours of forecast to chart (1–168).', default: 24, min: 1, max: 168 }),
    'grid-url': Flags.string({ summary: 'Grid price service base URL.', env: 'GREENLANE_GRID_URL' }),
    ...pricingFlags,
  };

  async run(): Promise<PriceReport> {
    const at = parseTime(this.flags.at, Date.now());
    const gridUrl = this.cfg.config.gridUrl;
    const report = await fromGrid(gridUrl, at, this.flags.hours).catch((err: Error) => fromLocal(gridUrl, at, this.flags.hours, pricingFromFlags(this.flags), err.message));
    this.say(renderReport(report, process.stdout.columns ?? 80));
    return report;
  }
}

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

async function fromGrid(gridUrl: string, at: number, hours: number): Promise<PriceReport> {
  const get = async (path: string) => {
    const res = await fetch(new URL(path, gridUrl), { signal: AbortSignal.timeout(1_500) });
    if (!res.ok) throw new Error(`${path.split('?')[0]} answered HTTP ${res.status}`);
    return res.json();
  };
  const [price, fc] = await Promise.all([get(`/api/pricing?at=${at}`), get(`/api/pricing/forecast?hours=${hours}&step=${STEP_MINUTES}&from=${at}`)]);
  const body = forecastSchema.parse(fc);
  const points = body.points.map(({ timestamp, price_per_kwh, grid_load, energy_source, hour }) => ({ timestamp, price_per_kwh, grid_load, energy_source, hour }));
  return withExtremes({ source: 'grid', gridUrl, price: pointSchema.parse(price), forecast: { from: body.from, hours, stepMinutes: body.step_minutes, points } });
}

function fromLocal(gridUrl: string, at: number, hours: number, curve: { params: PricingParams; tz: string }, reason: string): PriceReport {
  const stepMs = STEP_MINUTES * 60_000;
  const from = Math.floor(at / stepMs) * stepMs;
  const points = localForecast(from, hours, STEP_MINUTES, curve.params, curve.tz);
  return withExtremes({
    source: 'local',
    gridUrl,
    fallbackReason: reason,
    price: localPriceAt(at, curve.params, curve.tz),
    forecast: { from, hours, stepMinutes: STEP_MINUTES, points },
  });
}

function withExtremes(r: Omit<PriceReport, 'cheapest' | 'dearest'>): PriceReport {
  const prices = r.forecast.points.map((p) => p.price_per_kwh);
  return { ...r, cheapest: middleOf(r.forecast.points, Math.min(...prices)), dearest: middleOf(r.forecast.points, Math.max(...prices)) };
}

/** Prices are rounded to cents, so an extreme spans several points: name the middle one. */
function middleOf(points: PricePoint[], price: number): PricePoint {
  const hits = points.filter((p) => p.price_per_kwh === price);
  return hits[Math.floor((hits.length - 1) / 2)];
}

const fmtTime = (ms: number) => new Date(ms).toLocaleString('sv-SE', { hour12: false }).slice(0, 16);
const fmtHm = (ms: number) => new Date(ms).toLocaleTimeString('sv-SE', { hour12: false }).slice(0, 5);
const dollars = (p: number) => `$${p.toFixed(2)}`;

export function renderReport(r: PriceReport, columns: number): string {
  const colour = isTTY();
  const band = (p: PricePoint, s: string) => (colour ? BAND_COLOUR[p.grid_load](s) : s);
  const where = r.source === 'grid' ? `from the grid at ${r.gridUrl}` : `from the local curve — grid at ${r.gridUrl} unreachable (${r.fallbackReason})`;
  const lines = [
    `Price at ${fmtTime(r.price.timestamp)}: ${band(r.price, `${dollars(r.price.price_per_kwh)}/kWh`)}  ${r.price.grid_load} load · ${r.price.energy_source}`,
    (colour ? chalk.dim : (s: string) => s)(`(${where})`),
    '',
    `Next ${r.forecast.hours} h: cheapest ${dollars(r.cheapest.price_per_kwh)} at ${fmtHm(r.cheapest.timestamp)}, dearest ${dollars(r.dearest.price_per_kwh)} at ${fmtHm(r.dearest.timestamp)}`,
    ...chart(r.forecast.points, Math.max(20, Math.min(columns - 8, 120)), colour),
  ];
  return lines.join('\n');
}

const EIGHTHS = ' ▁▂▃▄▅▆▇█';

/** A 4-row bar chart of the points, averaged into `width` columns, with a price scale and time axis. */
export function chart(points: PricePoint[], width: number, colour: boolean, height = 4): string[] {
  const cols = Math.min(width, points.length);
  const buckets = Array.from({ length: cols }, (_, c) => points.slice(Math.floor((c * points.length) / cols), Math.floor(((c + 1) * points.length) / cols)));
  const values = buckets.map((b) => b.reduce((s, p) => s + p.price_per_kwh, 0) / b.length);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const levels = values.map((v) => Math.round(((v - lo) / span) * (height * 8 - 1)) + 1);
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    const label = r === height - 1 ? dollars(hi) : r === 0 ? dollars(lo) : '';
    const bars = levels
      .map((lvl, c) => {
        const ch = EIGHTHS[Math.max(0, Math.min(8, lvl - r * 8))];
        return colour ? BAND_COLOUR[buckets[c][0].grid_load](ch) : ch;
      })
      .join('');
    rows.push(`${label.padStart(6)} ${bars}`);
  }
  const axis = Array(cols).fill(' ');
  const ticks = Math.max(2, Math.floor(cols / 12));
  for (let i = 0; i < ticks; i++) {
    const c = Math.floor((i * (cols - 5)) / (ticks - 1));
    const t = fmtHm(buckets[c][0].timestamp);
    for (let k = 0; k < t.length; k++) axis[c + k] = t[k];
  }
  rows.push(`${''.padStart(6)} ${axis.join('')}`);
  return rows;
}
