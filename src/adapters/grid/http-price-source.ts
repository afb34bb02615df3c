import { hourOfDay, loadBand, pricePoint, priceAtHour, resolvePricingParams, roundCents, type PricingParams, type TimeZone } from '../../domain/pricing.js';
import type { Logger } from '../../observability/logger.js';
import type { PricePoint, PriceSource } from '../../ports/price-source.js';
import { createGridClient, type GridClient } from './grid-client.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The curve computed in-process: used in embedded mode and as the last-resort fallback. */
export function createLocalPriceSource(params?: Partial<PricingParams>, tz?: TimeZone): PriceSource {
  const p = resolvePricingParams(params);
  const point = (t: number) => {
    const h = hourOfDay(t, tz);
    return pricePoint(t, priceAtHour(h, p), h, p);
  };
  return {
    stale: false,
    priceAt: async (atMs) => point(atMs),
    forecast: async (fromMs, hours, stepMinutes = 15) => stepsOf(fromMs, hours, stepMinutes).map(point),
  };
}

export interface HttpPriceSourceOptions {
  /** Base URL of the grid service, e.g. http://127.0.0.1:8081. */
  gridUrl: string;
  /** Bearer token the grid requires (GREENLANE_GRID_TOKEN), if any. */
  token?: string;
  logger: Logger;
  /** How often the curve around now is fetched again (default 5 minutes). */
  refreshMs?: number;
  fetchImpl?: typeof fetch;
  /** Hours of curve fetched per request (default 48, from an hour before the instant asked). */
  windowHours?: number;
  /** Per-request timeout (default 2 s): an outage must not stall the worker. */
  timeoutMs?: number;
  /** First retry delay after a failed fetch; doubles up to refreshMs (default 5 s). */
  retryMs?: number;
  /** Local curve used only if the grid has never answered. */
  fallbackParams?: Partial<PricingParams>;
  fallbackTz?: TimeZone;
  now?: () => number;
}

export interface HttpPriceSource extends PriceSource {
  readonly stale: boolean;
  /** Fetches the curve around now; false when the grid could not be reached. */
  refresh(): Promise<boolean>;
  stats(): { fetches: number; failures: number; segments: number; stale: boolean; servingLocal: boolean };
  close(): void;
}

/** One fetched stretch of the curve at a fixed step. */
interface Segment {
  from: number;
  stepMs: number;
  points: PricePoint[];
  exact: number[];
}

const MAX_SEGMENTS = 16;

/**
 * A PriceSource backed by the grid's forecast endpoint. Prices are interpolated from cached
 * stretches of the curve, so pricing an event costs no HTTP call; a stretch is fetched only for an
 * instant no cached stretch covers (and again every refreshMs around now). When the grid is down it
 * keeps serving the last known curve — shifted by whole days for instants outside it, the curve
 * being daily — and flags `stale`; if the grid was never reached it serves the local curve, also
 * stale. priceAt never throws.
 */
export function createHttpPriceSource(opts: HttpPriceSourceOptions): HttpPriceSource {
  const local = createLocalPriceSource(opts.fallbackParams, opts.fallbackTz);
  const cache = createSegmentCache();
  const loader = createCurveLoader(opts, cache);

  async function priceAt(atMs: number): Promise<PricePoint> {
    const cached = cache.find(atMs, false);
    if (cached) return cached;
    try {
      if (await loader.load(atMs - HOUR_MS, false)) {
        const fetched = cache.find(atMs, false);
        if (fetched) return fetched;
      }
    } catch (err) {
      loader.markStale(err);
    }
    return cache.find(atMs, true) ?? (await local.priceAt(atMs));
  }

  return {
    get stale() {
      return loader.stale;
    },
    priceAt,
    async forecast(fromMs, hours, stepMinutes = 15) {
      const out: PricePoint[] = [];
      for (const t of stepsOf(fromMs, hours, stepMinutes)) out.push(await priceAt(t));
      return out;
    },
    refresh: () => loader.refreshNow(),
    stats: () => ({ ...loader.counts, segments: cache.size, stale: loader.stale, servingLocal: loader.stale && cache.size === 0 }),
    close: () => loader.close(),
  };
}

interface SegmentCache {
  readonly size: number;
  put(seg: Segment, replaceAll: boolean): void;
  /** The price from a cached stretch; with shiftDays, also from the newest stretch shifted by whole days. */
  find(atMs: number, shiftDays: boolean): PricePoint | undefined;
}

function createSegmentCache(): SegmentCache {
  let segments: Segment[] = [];
  return {
    get size() {
      return segments.length;
    },
    put(seg, replaceAll) {
      segments = replaceAll ? [seg] : [seg, ...segments].slice(0, MAX_SEGMENTS);
    },
    find(atMs, shiftDays) {
      for (const seg of segments) {
        const p = interpolate(seg, atMs);
        if (p) return p;
      }
      if (!shiftDays || !segments.length) return undefined;
      const seg = segments[0];
      const span = seg.stepMs * (seg.points.length - 1);
      const days = Math.floor((atMs - seg.from) / DAY_MS);
      for (const k of [days, days + 1, days - 1]) {
        const shifted = atMs - k * DAY_MS;
        if (shifted >= seg.from && shifted <= seg.from + span) {
          const p = interpolate(seg, shifted);
          if (p) return { ...p, timestamp: atMs };
        }
      }
      return undefined;
    },
  };
}

interface CurveLoader {
  readonly stale: boolean;
  readonly counts: { fetches: number; failures: number };
  /** Fetches a stretch from fromMs into the cache; false when the grid could not be reached (or backoff holds). */
  load(fromMs: number, replaceAll: boolean): Promise<boolean>;
  /** Fetches the curve around now, ignoring the backoff. */
  refreshNow(): Promise<boolean>;
  markStale(err: unknown): void;
  close(): void;
}

/** Fetches stretches of the curve: one fetch at a time, backoff after failures, a periodic refresh around now. */
function createCurveLoader(opts: HttpPriceSourceOptions, cache: SegmentCache): CurveLoader {
  const client = createGridClient({ gridUrl: opts.gridUrl, timeoutMs: opts.timeoutMs ?? 2_000, fetchImpl: opts.fetchImpl, token: opts.token });
  const now = opts.now ?? Date.now;
  const refreshMs = opts.refreshMs ?? 300_000;
  const windowHours = opts.windowHours ?? 48;
  const baseRetryMs = opts.retryMs ?? 5_000;
  const log = opts.logger.child({ component: 'price-source', gridUrl: opts.gridUrl });
  let stale = false;
  let inFlight: Promise<boolean> | undefined;
  let retryAt = 0;
  let retryMs = baseRetryMs;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const counts = { fetches: 0, failures: 0 };

  function markStale(err: unknown): void {
    counts.failures++;
    retryAt = now() + retryMs;
    retryMs = Math.min(retryMs * 2, Math.max(refreshMs, baseRetryMs));
    if (!stale) log.warn({ err: (err as Error).message }, cache.size ? 'grid unreachable: serving the last known price curve (stale)' : 'grid unreachable: serving the local price curve (stale)');
    stale = true;
  }

  function markFresh(): void {
    if (stale) log.info('grid reachable again: prices are fresh');
    stale = false;
    retryMs = baseRetryMs;
    retryAt = 0;
  }

  function load(fromMs: number, replaceAll: boolean): Promise<boolean> {
    if (inFlight) return inFlight;
    if (closed || now() < retryAt) return Promise.resolve(false);
    startTimer();
    counts.fetches++;
    inFlight = fetchSegment(client, windowHours, fromMs)
      .then((seg) => {
        cache.put(seg, replaceAll);
        markFresh();
        return true;
      })
      .catch((err) => {
        markStale(err);
        return false;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  function startTimer(): void {
    if (timer || closed) return;
    timer = setInterval(() => {
      retryAt = 0; // the periodic refresh always tries
      void load(now() - HOUR_MS, true);
    }, refreshMs);
    timer.unref();
  }

  return {
    get stale() {
      return stale;
    },
    counts,
    load,
    markStale,
    refreshNow() {
      retryAt = 0;
      return load(now() - HOUR_MS, true);
    },
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

async function fetchSegment(client: GridClient, windowHours: number, fromMs: number): Promise<Segment> {
  const body = await client.forecast({ hours: windowHours, fromMs });
  // Interpolation needs a stretch, not a single point.
  if (body.points.length < 2) throw new Error(`the grid's forecast from ${body.from} has ${body.points.length} point`);
  return { from: body.from, stepMs: body.step_minutes * 60_000, points: body.points, exact: body.points.map((p) => p.price_per_kwh_exact ?? p.price_per_kwh) };
}

/** Linear interpolation inside a segment; labels come from the point at or before the instant. */
function interpolate(seg: Segment, atMs: number): PricePoint | undefined {
  const pos = (atMs - seg.from) / seg.stepMs;
  if (!(pos >= 0) || pos > seg.points.length - 1) return undefined;
  const i = Math.min(Math.floor(pos), seg.points.length - 2);
  const frac = pos - i;
  const exact = seg.exact[i] + (seg.exact[i + 1] - seg.exact[i]) * frac;
  const left = frac === 1 ? seg.points[i + 1] : seg.points[i];
  const price = roundCents(exact);
  return { timestamp: atMs, price_per_kwh: price, grid_load: loadBand(price), energy_source: left.energy_source, hour: left.hour };
}

function stepsOf(fromMs: number, hours: number, stepMinutes: number): number[] {
  if (!(hours > 0) || !(stepMinutes > 0)) throw new RangeError('hours and stepMinutes must be > 0');
  const stepMs = stepMinutes * 60_000;
  const n = Math.ceil((hours * HOUR_MS) / stepMs);
  return Array.from({ length: n + 1 }, (_, i) => fromMs + i * stepMs);
}
