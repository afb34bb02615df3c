import { createGridClient } from '../adapters/grid/grid-client.js';
import { oneShotGet } from '../adapters/grid/one-shot-get.js';
import { forecast as localForecast, priceAt as localPriceAt, type PricingParams } from '../domain/pricing.js';
import type { PricePoint } from '../ports/price-source.js';

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

export interface PriceReportOptions {
  gridUrl: string;
  /** Bearer token the grid requires (GREENLANE_GRID_TOKEN). */
  gridToken?: string;
  at: number;
  hours: number;
  /** The local curve, read only when the grid does not answer. */
  curve: () => { params: PricingParams; tz: string };
}

const STEP_MINUTES = 15;

/** The price at an instant and the coming hours: from the grid, or from the local curve (saying why) when it does not answer. */
export async function priceReport(opts: PriceReportOptions): Promise<PriceReport> {
  return fromGrid(opts).catch((err: Error) => fromLocal(opts, err.message));
}

async function fromGrid({ gridUrl, gridToken, at, hours }: PriceReportOptions): Promise<PriceReport> {
  // Asked once, then the command exits: no fetch() and no keep-alive (src/adapters/grid/one-shot-get.ts).
  const grid = createGridClient({ gridUrl, timeoutMs: 1_500, token: gridToken, fetchImpl: oneShotGet });
  const [price, body] = await Promise.all([grid.priceAt(at), grid.forecast({ hours, stepMinutes: STEP_MINUTES, fromMs: at })]);
  const points = body.points.map(({ timestamp, price_per_kwh, grid_load, energy_source, hour }) => ({ timestamp, price_per_kwh, grid_load, energy_source, hour }));
  return withExtremes({ source: 'grid', gridUrl, price, forecast: { from: body.from, hours, stepMinutes: body.step_minutes, points } });
}

function fromLocal({ gridUrl, at, hours, curve }: PriceReportOptions, reason: string): PriceReport {
  const stepMs = STEP_MINUTES * 60_000;
  const from = Math.floor(at / stepMs) * stepMs;
  const { params, tz } = curve();
  const points = localForecast(from, hours, STEP_MINUTES, params, tz);
  return withExtremes({
    source: 'local',
    gridUrl,
    fallbackReason: reason,
    price: localPriceAt(at, params, tz),
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
