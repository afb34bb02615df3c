import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGridClient } from '../../src/adapters/grid/grid-client.js';
import { exposureProblems, isLoopback } from '../../src/app/exposure.js';
import { silentLogger } from '../../src/observability/logger.js';
import { serveMetrics } from '../../src/observability/metrics.js';
import { createGrid, type Grid } from '../../src/services/grid.js';

const GRID_TOKEN = 'grid-token-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789abc';

describe('grid: bearer token and forecast cap', () => {
  let grid: Grid;
  beforeAll(async () => {
    grid = createGrid({ port: 0, token: GRID_TOKEN, logger: silentLogger, registry: new Registry() });
    await grid.start();
  });
  afterAll(() => grid.stop());

  it('binds loopback by default', () => expect(grid.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/));

  it('answers 401 without the bearer token (or with a wrong one), /health stays open', async () => {
    expect((await fetch(`${grid.url}/api/pricing`)).status).toBe(401);
    expect((await fetch(`${grid.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${grid.url}/api/pricing`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
    expect((await fetch(`${grid.url}/health`)).status).toBe(200);
    expect((await fetch(`${grid.url}/api/pricing`, { headers: { authorization: `Bearer ${GRID_TOKEN}` } })).status).toBe(200);
  });

  it('the grid client sends the token; without it the error says which setting is missing', async () => {
    expect((await createGridClient({ gridUrl: grid.url, timeoutMs: 2_000, token: GRID_TOKEN }).priceAt()).price_per_kwh).toBeGreaterThan(0);
    await expect(createGridClient({ gridUrl: grid.url, timeoutMs: 2_000 }).priceAt()).rejects.toThrow(/401.*GREENLANE_GRID_TOKEN/);
  });

  it('refuses a forecast over 1,000 points with 400 and serves the default and 168 h at 15 min', async () => {
    const get = (q: string) => fetch(`${grid.url}/api/pricing/forecast?${q}`, { headers: { authorization: `Bearer ${GRID_TOKEN}` } });
    const big = await get('hours=168&step=1');
    expect(big.status).toBe(400);
    expect(((await big.json()) as { error: string }).error).toMatch(/10080 points .* limit of 1000/);
    expect((await get('hours=168&step=15')).status).toBe(200);
    expect((await get('')).status).toBe(200);
  });
});

describe('metrics endpoint: bearer token', () => {
  it('401 on /metrics without the token, 200 with it; /health and /ready open; loopback by default', async () => {
    const server = await serveMetrics({ registry: new Registry(), port: 0, token: METRICS_TOKEN });
    const addr = server.address() as { address: string; port: number };
    expect(addr.address).toBe('127.0.0.1');
    const base = `http://127.0.0.1:${addr.port}`;
    try {
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe('exposure warning', () => {
  const base = { bind: '127.0.0.1', grpcHost: undefined, tlsCert: undefined, metricsToken: undefined, gridToken: undefined };
  it('is silent on loopback, names each unprotected listener beyond it', () => {
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && !isLoopback('0.0.0.0')).toBe(true);
    expect(exposureProblems(base)).toEqual([]);
    const problems = exposureProblems({ ...base, bind: '0.0.0.0' });
    expect(problems.join('\n')).toMatch(/gRPC .* without TLS[\s\S]*grid .* bearer[\s\S]*metrics .* bearer/);
    expect(exposureProblems({ ...base, bind: '0.0.0.0', tlsCert: 'c.pem', gridToken: GRID_TOKEN, metricsToken: METRICS_TOKEN })).toEqual([]);
  });
});
