import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import { asPortError } from '../errors.js';
import { bearerCheck } from '../observability/bearer.js';
import { assertTimeZone, hourOfDay, pricePoint, priceAtHour, resolvePricingParams, type PricingParams, type TimeZone } from '../domain/pricing.js';
import type { Logger } from '../observability/logger.js';
import type { PricePoint } from '../ports/price-source.js';

export interface GridOptions {
  port: number;
  /** Address to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** When set, every route but /health requires Authorization: Bearer <token> (else 401). */
  token?: string;
  /** Most points one forecast may ask for: hours × 60 / step (default FORECAST_MAX_POINTS; above: 400). */
  forecastMaxPoints?: number;
  params?: Partial<PricingParams>;
  /** Wall-clock zone of the curve (default: the machine's local time, as the original). */
  tz?: TimeZone;
  logger: Logger;
  registry: Registry;
  /** Clock, for tests. */
  now?: () => number;
}

export interface Grid {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  /** Base URL once started (the real port when port 0 was asked). */
  readonly url: string;
}

/** A forecast point: the original JSON plus the unrounded price, for integration by clients. */
export interface ForecastPoint extends PricePoint {
  price_per_kwh_exact: number;
}

export interface ForecastResponse {
  from: number;
  hours: number;
  step_minutes: number;
  time_zone: string;
  points: ForecastPoint[];
}

export const FORECAST_MAX_HOURS = 168;
export const FORECAST_DEFAULT_STEP = 15;
/** hours × 60 / step above this is refused: 168 h at 15 min (672) fits, 168 h at 1 min (10,080) does not. */
export const FORECAST_MAX_POINTS = 1000;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The grid price service: the original GET /api/pricing plus ?at=, a forecast, /health, /ready, /metrics. */
export function createGrid(opts: GridOptions): Grid {
  const params = resolvePricingParams(opts.params);
  const tz = opts.tz ?? 'local';
  assertTimeZone(tz);
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ service: 'grid' });
  const metrics = gridMetrics(opts.registry, () => priceNow(now(), params, tz).price_per_kwh);
  let server: Server | undefined;
  let url = '';
  let listening = false;

  const routeTable: Record<string, (q: URLSearchParams) => Promise<Reply> | Reply> = {
    '/api/pricing': (q) => json(priceNow(parseInstant(q.get('at'), now), params, tz)),
    '/api/pricing/forecast': (q) => json(forecastResponse(q, now, params, tz, opts.forecastMaxPoints ?? FORECAST_MAX_POINTS)),
    '/health': () => text('OK'),
    '/ready': () => (listening ? text('READY') : text('NOT READY', 503)),
    '/metrics': async () => ({ status: 200, type: opts.registry.contentType, body: await opts.registry.metrics() }),
  };
  // A Map, so that paths like /constructor never hit Object.prototype.
  const routes = new Map(Object.entries(routeTable));

  const authorized = bearerCheck(opts.token, ['/health']);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://grid');
    const handler = routes.get(parsed.pathname);
    const route = handler ? parsed.pathname : 'other';
    let reply: Reply;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') reply = { ...json({ error: `method ${req.method} not allowed` }, 405), headers: { allow: 'GET, HEAD' } };
      else if (!authorized(req, parsed.pathname)) reply = { ...json({ error: 'missing or wrong bearer token (Authorization: Bearer <GREENLANE_GRID_TOKEN>)' }, 401), headers: { 'www-authenticate': 'Bearer' } };
      else if (!handler) reply = json({ error: `no route ${parsed.pathname}`, routes: [...routes.keys()] }, 404);
      else reply = await handler(parsed.searchParams);
    } catch (err) {
      if (err instanceof HttpError) reply = json({ error: err.message }, err.status);
      else {
        log.error({ err }, 'grid request failed');
        reply = json({ error: 'internal error' }, 500);
      }
    }
    metrics.requests.inc({ route, status: String(reply.status) });
    res.writeHead(reply.status, { 'content-type': reply.type, ...reply.headers });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  return {
    async start() {
      if (server) return;
      const s = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve, reject) => {
        s.once('error', (err) => reject(asPortError(err, 'grid service', opts.port, '--grid-port')));
        s.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
      });
      server = s;
      listening = true;
      const { port } = s.address() as AddressInfo;
      const host = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
      url = `http://${host}:${port}`;
      log.info({ url, tz, params }, 'grid listening');
    },
    async stop() {
      const s = server;
      if (!s) return;
      listening = false;
      server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
    ready: () => listening,
    get url() {
      return url;
    },
  };
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const json = (value: unknown, status = 200): Reply => ({ status, type: 'application/json', body: JSON.stringify(value) });
const text = (body: string, status = 200): Reply => ({ status, type: 'text/plain; charset=utf-8', body });

function priceNow(atMs: number, params: PricingParams, tz: TimeZone): PricePoint {
  const h = hourOfDay(atMs, tz);
  return pricePoint(atMs, priceAtHour(h, params), h, params);
}

function forecastResponse(q: URLSearchParams, now: () => number, params: PricingParams, tz: TimeZone, maxPoints: number): ForecastResponse {
  const hours = parseNumber(q.get('hours'), 24, 'hours', (v) => v >= 1 && v <= FORECAST_MAX_HOURS, `a number of hours from 1 to ${FORECAST_MAX_HOURS}`);
  const step = parseNumber(q.get('step'), FORECAST_DEFAULT_STEP, 'step', (v) => Number.isInteger(v) && v >= 1 && v <= 60, 'whole minutes from 1 to 60');
  const asked = Math.ceil((hours * 60) / step);
  if (asked > maxPoints) {
    throw new HttpError(400, `forecast of ${asked} points (hours=${hours}, step=${step}) exceeds the limit of ${maxPoints} per request: use a larger step (≥ ${Math.ceil((hours * 60) / maxPoints)} min) or fewer hours`);
  }
  const stepMs = step * 60_000;
  // Points fall on round multiples of the step so every client sees the same instants.
  const from = Math.floor(parseInstant(q.get('from'), now) / stepMs) * stepMs;
  const n = Math.ceil((hours * 3_600_000) / stepMs);
  const points: ForecastPoint[] = [];
  for (let i = 0; i <= n; i++) {
    const t = from + i * stepMs;
    const h = hourOfDay(t, tz);
    const raw = priceAtHour(h, params);
    points.push({ ...pricePoint(t, raw, h, params), price_per_kwh_exact: raw });
  }
  return { from, hours, step_minutes: step, time_zone: tz, points };
}

function parseInstant(value: string | null, now: () => number): number {
  if (value === null || value === '') return now();
  const n = Number(value);
  if (!/^-?\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || Math.abs(n) > 8.64e15) {
    throw new HttpError(400, `invalid instant "${value}": expected Unix milliseconds, e.g. ${now()}`);
  }
  return Math.trunc(n);
}

function parseNumber(value: string | null, fallback: number, name: string, ok: (v: number) => boolean, expected: string): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !ok(n)) throw new HttpError(400, `invalid ${name} "${value}": expected ${expected}`);
  return n;
}

function gridMetrics(registry: Registry, currentPrice: () => number) {
  const requests =
    (registry.getSingleMetric('greenlane_grid_requests_total') as Counter<'route' | 'status'> | undefined) ??
    new Counter({ name: 'greenlane_grid_requests_total', help: 'Grid HTTP requests by route and status.', labelNames: ['route', 'status'], registers: [registry] });
  if (!registry.getSingleMetric('greenlane_grid_price_dollars_per_kwh')) {
    new Gauge({
      name: 'greenlane_grid_price_dollars_per_kwh',
      help: 'Current time-of-use price served by the grid, $/kWh.',
      registers: [registry],
      collect() {
        this.set(currentPrice());
      },
    });
  }
  return { requests };
}
