import chalk from 'chalk';
import type { PriceReport } from '../app/price-report.js';
import type { PricePoint } from '../ports/price-source.js';
import { isTTY } from './output.js';

const BAND_COLOUR = { Low: chalk.green, Medium: chalk.yellow, High: chalk.red } as const;

const fmtTime = (ms: number) => new Date(ms).toLocaleString('sv-SE', { hour12: false }).slice(0, 16);
const fmtHm = (ms: number) => new Date(ms).toLocaleTimeString('sv-SE', { hour12: false }).slice(0, 5);
const dollars = (p: number) => `$${p.toFixed(2)}`;

/** The report as `greenlane price` prints it: the price, where it came from, the chart. */
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
