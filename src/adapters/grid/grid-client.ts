import { z } from 'zod';
import type { PricePoint } from '../../ports/price-source.js';

/**
 * The grid service's JSON, as src/services/grid.ts serves it: GET /api/pricing answers one point,
 * GET /api/pricing/forecast a ForecastResponse. One schema for every client of the grid.
 */
export const pricePointSchema = z.object({
  timestamp: z.number(),
  price_per_kwh: z.number().finite(),
  grid_load: z.enum(['Low', 'Medium', 'High']),
  energy_source: z.enum(['Solar', 'Wind', 'Grid']),
  hour: z.number().int().min(0).max(23),
});

/** A forecast point carries the unrounded price too, for integration by clients. */
export const forecastPointSchema = pricePointSchema.extend({ price_per_kwh_exact: z.number().finite().optional() });

export const forecastSchema = z.object({
  from: z.number(),
  hours: z.number().optional(),
  step_minutes: z.number().positive(),
  time_zone: z.string().optional(),
  points: z.array(forecastPointSchema).min(1),
});

export type GridForecastPoint = z.infer<typeof forecastPointSchema>;
export type GridForecast = z.infer<typeof forecastSchema>;

/** The part of fetch() the grid client uses; fetch itself is one (src/adapters/grid/one-shot-get.ts another). */
export type GridFetch = (
  url: URL,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{ status: number; ok: boolean; json(): Promise<unknown> }>;

export interface GridClientOptions {
  /** Base URL of the grid service, e.g. http://127.0.0.1:8081. */
  gridUrl: string;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** How to GET (default: the global fetch). */
  fetchImpl?: GridFetch;
  /** Sent as Authorization: Bearer when the grid requires one (GREENLANE_GRID_TOKEN). */
  token?: string;
}

export interface ForecastQuery {
  hours: number;
  /** Start of the curve (default: the grid's now). */
  fromMs?: number;
  /** Minutes between points (default: the grid's step). */
  stepMinutes?: number;
}

export interface GridClient {
  readonly gridUrl: string;
  /** The price at an instant (default: the grid's now). */
  priceAt(atMs?: number): Promise<PricePoint>;
  forecast(q: ForecastQuery): Promise<GridForecast>;
}

/** The one HTTP client of the grid service; answers are validated, failures thrown. */
export function createGridClient(opts: GridClientOptions): GridClient {
  const fetchImpl = opts.fetchImpl ?? fetch;
  async function get(path: string, params: Record<string, number | undefined>): Promise<unknown> {
    const url = new URL(path, opts.gridUrl);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(Math.floor(v)));
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(opts.timeoutMs), headers });
    if (res.status === 401) throw new Error(`GET ${url.pathname} answered HTTP 401: the grid requires a bearer token (set GREENLANE_GRID_TOKEN to its value)`);
    if (!res.ok) throw new Error(`GET ${url.pathname} answered HTTP ${res.status}`);
    return res.json();
  }
  return {
    gridUrl: opts.gridUrl,
    priceAt: async (atMs) => pricePointSchema.parse(await get('/api/pricing', { at: atMs })),
    forecast: async (q) => forecastSchema.parse(await get('/api/pricing/forecast', { hours: q.hours, step: q.stepMinutes, from: q.fromMs })),
  };
}
