import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGridClient } from '../../src/adapters/grid/grid-client.js';
import { PortInUseError } from '../../src/errors.js';
import { priceAt } from '../../src/domain/pricing.js';
import { createRegistry } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createGrid, type ForecastResponse } from '../../src/services/grid.js';

type Json = Record<string, unknown> & { error?: string };
const jsonOf = async (res: Response): Promise<Json> => (await res.json()) as Json;
const NOW = Date.UTC(2024, 5, 3, 18, 7, 30);

describe('grid service', () => {
  const registry = createRegistry(false);
  const grid = createGrid({ port: 0, host: '127.0.0.1', tz: 'UTC', logger: silentLogger, registry, now: () => NOW });
  const get = (path: string, init?: RequestInit) => fetch(grid.url + path, init);

  beforeAll(() => grid.start());
  afterAll(() => grid.stop());

  it('serves the original JSON for now', async () => {
    const res = await get('/api/pricing');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await jsonOf(res);
    expect(Object.keys(body).sort()).toEqual(['energy_source', 'grid_load', 'hour', 'price_per_kwh', 'timestamp']);
    expect(body).toEqual(priceAt(NOW, undefined, 'UTC'));
    expect(body).toMatchObject({ hour: 18, grid_load: 'High', energy_source: 'Grid' });
  });

  it('answers in the shape the one grid client validates', async () => {
    const client = createGridClient({ gridUrl: grid.url, timeoutMs: 2_000 });
    expect(await client.priceAt()).toEqual(priceAt(NOW, undefined, 'UTC'));
    const fc = await client.forecast({ hours: 2, stepMinutes: 30, fromMs: NOW });
    expect(fc).toMatchObject({ hours: 2, step_minutes: 30, time_zone: 'UTC' });
    expect(fc.points).toHaveLength(5);
    expect(fc.points.every((p) => typeof p.price_per_kwh_exact === 'number')).toBe(true);
  });

  it('the grid client rejects an answer of another shape', async () => {
    const bogus: typeof fetch = async () => new Response(JSON.stringify({ points: [] }), { status: 200 });
    await expect(createGridClient({ gridUrl: 'http://grid.invalid', timeoutMs: 100, fetchImpl: bogus }).forecast({ hours: 1 })).rejects.toThrow();
    const down: typeof fetch = async () => new Response('', { status: 503 });
    await expect(createGridClient({ gridUrl: 'http://grid.invalid', timeoutMs: 100, fetchImpl: down }).priceAt()).rejects.toThrow(/answered HTTP 503/);
  });

  it('prices any instant with ?at=', async () => {
    const t = Date.UTC(2024, 5, 4, 2, 0);
    expect(await jsonOf(await get(`/api/pricing?at=${t}`))).toEqual({ timestamp: t, price_per_kwh: 0.1, grid_load: 'Low', energy_source: 'Grid', hour: 2 });
  });

  it('answers 400 with a JSON error for a bad instant', async () => {
    for (const bad of ['tomorrow', '12abc', '1e400', '']) {
      const res = await get(`/api/pricing?at=${encodeURIComponent(bad)}`);
      if (bad === '') expect(res.status).toBe(200);
      else {
        expect(res.status).toBe(400);
        expect((await jsonOf(res)).error).toMatch(/invalid instant/);
      }
    }
  });

  it('forecasts 24 h at 15-minute resolution from the current quarter hour', async () => {
    const res = await get('/api/pricing/forecast?hours=24');
    expect(res.status).toBe(200);
    const body = (await res.json()) as ForecastResponse;
    expect(body.step_minutes).toBe(15);
    expect(body.points).toHaveLength(24 * 4 + 1);
    expect(body.from).toBe(Date.UTC(2024, 5, 3, 18, 0));
    for (let i = 1; i < body.points.length; i++) expect(body.points[i].timestamp - body.points[i - 1].timestamp).toBeLessThanOrEqual(15 * 60_000);
    expect(body.points[0]).toMatchObject(priceAt(body.from, undefined, 'UTC'));
    expect(body.points[0].price_per_kwh_exact).toBeCloseTo(0.4, 10);
    const fine = (await (await get('/api/pricing/forecast?hours=2&step=5')).json()) as ForecastResponse;
    expect(fine.points).toHaveLength(25);
  });

  it('rejects bad forecast parameters with 400', async () => {
    for (const q of ['hours=0', 'hours=169', 'hours=abc', 'step=0', 'step=7.5', 'step=61', 'from=yesterday']) {
      const res = await get(`/api/pricing/forecast?${q}`);
      expect(res.status, q).toBe(400);
      expect((await jsonOf(res)).error).toMatch(/invalid/);
    }
  });

  it('answers /health, /ready, 404 and 405', async () => {
    expect(await (await get('/health')).text()).toBe('OK');
    expect((await get('/ready')).status).toBe(200);
    const missing = await get('/api/nope');
    expect(missing.status).toBe(404);
    expect((await jsonOf(missing)).error).toMatch(/no route/);
    const post = await get('/api/pricing', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('exposes request counters and the current price on /metrics', async () => {
    await get('/api/pricing');
    const body = await (await get('/metrics')).text();
    expect(body).toMatch(/greenlane_grid_requests_total\{route="\/api\/pricing",status="200"\} \d+/);
    expect(body).toMatch(/greenlane_grid_requests_total\{route="\/api\/pricing",status="400"\} \d+/);
    expect(body).toMatch(/greenlane_grid_requests_total\{route="other",status="404"\} 1/);
    expect(body).toMatch(/greenlane_grid_price_dollars_per_kwh 0\.4\b/);
  });

  it('turns a busy port into PortInUseError naming --grid-port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const second = createGrid({ port, host: '127.0.0.1', logger: silentLogger, registry: createRegistry(false) });
    const err = await second.start().catch((e) => e);
    blocker.close();
    expect(err).toBeInstanceOf(PortInUseError);
    expect(err.suggestions.join(' ')).toContain('--grid-port');
  });
});
