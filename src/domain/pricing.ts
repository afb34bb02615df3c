import type { PricePoint } from './charging.js';

/**
 * The time-of-use price curve (pure, no I/O).
 *
 * Shape: an asymmetric daily cosine. From the trough (02:00) the price rises along half a cosine
 * for 16 h to the peak (18:00), then falls along another half cosine for 8 h back to the trough.
 * Both halves meet with zero slope, so the curve is smooth (C¹) and has exactly one minimum and
 * one maximum per day: base − amplitude = $0.10 at 02:00, base + amplitude = $0.40 at 18:00.
 * (The original's formula actually peaked at noon although its text said 18:00; we follow the text.)
 *
 * Solar: the original's 10 % discount applies from 08:00 to 18:00. Applied as a step it would jump
 * by up to 4 cents at 18:00, so it fades in over the first and out over the last `solarRampMinutes`
 * of the window (linear): the full 10 % holds 08:30–17:30 and the curve stays continuous. The
 * `energy_source` label is still Solar for every minute of 08:00–17:59, Wind 19:00–22:59, Grid
 * otherwise, as in the original.
 *
 * Time zone: hours are wall-clock hours in `tz` — 'local' (the machine's zone, the default, as the
 * original did), 'UTC', a fixed offset like '+02:00', or an IANA name like 'Europe/Paris'. With a
 * DST zone the curve follows the wall clock, so it jumps once at each DST change.
 *
 * Prices are clamped to [floor, ceiling] ($0.10–$0.40 by default) and rounded to cents in the
 * PricePoint; `rawPriceAt` keeps the unrounded value for averaging and cost integration.
 */
export interface PricingParams {
  /** Midpoint of the daily swing, $/kWh. */
  base: number;
  /** Half the daily swing, $/kWh. */
  amplitude: number;
  /** Hour of the daily maximum (0–24, fractional allowed). */
  peakHour: number;
  /** Hour of the daily minimum (0–24, fractional allowed). */
  troughHour: number;
  /** Fraction taken off during the solar window (0.1 = 10 %). */
  solarDiscount: number;
  solarStartHour: number;
  solarEndHour: number;
  /** Minutes over which the solar discount fades in and out at the window's edges. */
  solarRampMinutes: number;
  /** Hard bounds on the price, $/kWh. */
  floor: number;
  ceiling: number;
}

export const defaultPricingParams: Readonly<PricingParams> = Object.freeze({
  base: 0.25,
  amplitude: 0.15,
  peakHour: 18,
  troughHour: 2,
  solarDiscount: 0.1,
  solarStartHour: 8,
  solarEndHour: 18,
  solarRampMinutes: 30,
  floor: 0.1,
  ceiling: 0.4,
});

/** 'local' | 'UTC' | '+HH:MM' / '-HH:MM' | an IANA zone name. */
export type TimeZone = string;

const WIND_START_HOUR = 19;
const WIND_END_HOUR = 23;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Fills defaults and rejects parameters that would make the curve meaningless. */
export function resolvePricingParams(partial: Partial<PricingParams> = {}): PricingParams {
  const p = { ...defaultPricingParams, ...stripUndefined(partial) };
  const bad = (why: string) => {
    throw new RangeError(`Invalid pricing parameters: ${why}`);
  };
  for (const [k, v] of Object.entries(p)) if (!Number.isFinite(v)) bad(`${k} must be a finite number`);
  if (p.amplitude < 0) bad('amplitude must be ≥ 0');
  if (p.floor > p.ceiling) bad('floor must be ≤ ceiling');
  if (p.solarDiscount < 0 || p.solarDiscount >= 1) bad('solarDiscount must be in [0, 1)');
  if (mod(p.peakHour - p.troughHour, 24) === 0) bad('peakHour and troughHour must differ');
  if (p.solarRampMinutes < 0) bad('solarRampMinutes must be ≥ 0');
  return p;
}

/** The unrounded price at an instant, $/kWh. */
export function rawPriceAt(atMs: number, params?: Partial<PricingParams>, tz?: TimeZone): number {
  return priceAtHour(hourOfDay(atMs, tz), resolvePricingParams(params));
}

/** The original grid JSON for an instant: price rounded to cents, band, source and hour. */
export function priceAt(atMs: number, params?: Partial<PricingParams>, tz?: TimeZone): PricePoint {
  const p = resolvePricingParams(params);
  const h = hourOfDay(atMs, tz);
  return pricePoint(atMs, priceAtHour(h, p), h, p);
}

/** Builds a PricePoint from an unrounded price and the fractional local hour it was taken at. */
export function pricePoint(atMs: number, rawPrice: number, localHour: number, params: PricingParams = defaultPricingParams): PricePoint {
  const price = roundCents(rawPrice);
  const hour = Math.floor(localHour) % 24;
  return { timestamp: atMs, price_per_kwh: price, grid_load: loadBand(price), energy_source: energySource(hour, params), hour };
}

/** The original bands: High above $0.35, Medium above $0.25, else Low (on the rounded price). */
export function loadBand(price: number): PricePoint['grid_load'] {
  return price > 0.35 ? 'High' : price > 0.25 ? 'Medium' : 'Low';
}

/** Solar 08–17:59, Wind 19–22:59, Grid otherwise (the original's labels). */
export function energySource(hour: number, params: PricingParams = defaultPricingParams): PricePoint['energy_source'] {
  if (inWindow(hour, params.solarStartHour, params.solarEndHour)) return 'Solar';
  if (inWindow(hour, WIND_START_HOUR, WIND_END_HOUR)) return 'Wind';
  return 'Grid';
}

export function roundCents(price: number): number {
  return Math.round(price * 100) / 100;
}

/** The curve from `fromMs` to `fromMs + hours` inclusive, one point every `stepMinutes`. */
export function forecast(fromMs: number, hours: number, stepMinutes = 15, params?: Partial<PricingParams>, tz?: TimeZone): PricePoint[] {
  if (!(hours > 0) || !(stepMinutes > 0)) throw new RangeError('hours and stepMinutes must be > 0');
  const p = resolvePricingParams(params);
  const stepMs = stepMinutes * 60_000;
  const n = Math.ceil((hours * HOUR_MS) / stepMs);
  const points: PricePoint[] = [];
  for (let i = 0; i <= n; i++) {
    const t = fromMs + i * stepMs;
    const h = hourOfDay(t, tz);
    points.push(pricePoint(t, priceAtHour(h, p), h, p));
  }
  return points;
}

/** Time-averaged unrounded price over [fromMs, toMs] (trapezoid rule, ≤ 1-minute steps). */
export function averagePrice(fromMs: number, toMs: number, params?: Partial<PricingParams>, tz?: TimeZone): number {
  const p = resolvePricingParams(params);
  if (!(toMs > fromMs)) return priceAtHour(hourOfDay(fromMs, tz), p);
  const steps = Math.min(Math.ceil((toMs - fromMs) / 60_000), 200_000);
  const dt = (toMs - fromMs) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const weight = i === 0 || i === steps ? 0.5 : 1;
    sum += weight * priceAtHour(hourOfDay(fromMs + i * dt, tz), p);
  }
  return sum / steps;
}

/** Dollars spent drawing a constant `kw` over [fromMs, toMs] at the curve's prices. */
export function integrateCost(fromMs: number, toMs: number, kw: number, params?: Partial<PricingParams>, tz?: TimeZone): number {
  if (!(toMs > fromMs)) return 0;
  return averagePrice(fromMs, toMs, params, tz) * kw * ((toMs - fromMs) / HOUR_MS);
}

/** The unrounded price at a fractional wall-clock hour (0 ≤ h < 24). */
export function priceAtHour(h: number, p: PricingParams): number {
  const raw = p.base + p.amplitude * dailyShape(h, p);
  const discounted = raw * (1 - p.solarDiscount * solarWeight(h, p));
  return Math.min(p.ceiling, Math.max(p.floor, discounted));
}

/** −1 at the trough, +1 at the peak, half cosines in between (zero slope at both ends). */
function dailyShape(h: number, p: PricingParams): number {
  const rise = mod(p.peakHour - p.troughHour, 24);
  const sinceTrough = mod(h - p.troughHour, 24);
  if (sinceTrough <= rise) return -Math.cos((Math.PI * sinceTrough) / rise);
  return Math.cos((Math.PI * (sinceTrough - rise)) / (24 - rise));
}

/** 1 inside the solar window, ramping linearly from 0 over its first and last solarRampMinutes. */
function solarWeight(h: number, p: PricingParams): number {
  if (!inWindow(h, p.solarStartHour, p.solarEndHour)) return 0;
  const ramp = p.solarRampMinutes / 60;
  if (ramp === 0) return 1;
  const sinceStart = mod(h - p.solarStartHour, 24);
  const untilEnd = mod(p.solarEndHour - h, 24);
  return Math.min(1, sinceStart / ramp, untilEnd / ramp);
}

function inWindow(h: number, start: number, end: number): boolean {
  return mod(h - start, 24) < mod(end - start, 24);
}

// ---- time zones ----

const OFFSET_RE = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** DST changes fall on quarter hours, so the offset is cached per 15-minute bucket. */
const offsetCache = new Map<string, { bucket: number; offsetMin: number }>();

/** Throws a RangeError naming the accepted forms when `tz` is not a usable time zone. */
export function assertTimeZone(tz: TimeZone): void {
  if (tz === 'local' || /^(utc|z|gmt)$/i.test(tz) || OFFSET_RE.test(tz)) return;
  try {
    formatterFor(tz);
  } catch {
    throw new RangeError(`Unknown time zone "${tz}": use local, UTC, an offset like +02:00 or an IANA name like Europe/Paris`);
  }
}

/** Minutes to add to UTC to get wall-clock time in `tz` at `atMs`. */
export function utcOffsetMinutes(atMs: number, tz: TimeZone = 'local'): number {
  if (tz === 'local') return -new Date(atMs).getTimezoneOffset();
  if (/^(utc|z|gmt)$/i.test(tz)) return 0;
  const fixed = OFFSET_RE.exec(tz);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3] ?? 0));
  const bucket = Math.floor(atMs / 900_000);
  const cached = offsetCache.get(tz);
  if (cached?.bucket === bucket) return cached.offsetMin;
  const offsetMin = ianaOffsetMinutes(bucket * 900_000, tz);
  offsetCache.set(tz, { bucket, offsetMin });
  return offsetMin;
}

/** Fractional wall-clock hour in `tz`, 0 ≤ h < 24. */
export function hourOfDay(atMs: number, tz: TimeZone = 'local'): number {
  const wall = atMs + utcOffsetMinutes(atMs, tz) * 60_000;
  return mod(wall, DAY_MS) / HOUR_MS;
}

function ianaOffsetMinutes(atMs: number, tz: string): number {
  const parts = Object.fromEntries(formatterFor(tz).formatToParts(new Date(atMs)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((wall - Math.floor(atMs / 1000) * 1000) / 60_000);
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
