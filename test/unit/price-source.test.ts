import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpPriceSource, createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { priceAt, rawPriceAt } from '../../src/domain/pricing.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import { createGrid, type Grid } from '../../src/services/grid.js';

const NOW = Date.UTC(2024, 5, 3, 12, 0);
const MIN = 60_000;

function countingFetch() {
  const calls: string[] = [];
  const impl: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };
  return { calls, impl };
}

async function startGrid(port = 0): Promise<Grid> {
  const grid = createGrid({ port, host: '127.0.0.1', tz: 'UTC', logger: silentLogger, registry: createRegistry(false), now: () => NOW });
  await grid.start();
  return grid;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('http price source', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('fetches the curve once and answers many instants from the cache, matching the grid', async () => {
    const grid = await startGrid();
    cleanup.push(() => grid.stop());
    const { calls, impl } = countingFetch();
    const src = createHttpPriceSource({ gridUrl: grid.url, logger: silentLogger, fetchImpl: impl, now: () => NOW });
    cleanup.push(() => src.close());

    // Concurrent first calls share one fetch.
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => src.priceAt(NOW + i * MIN)));
    expect(first).toHaveLength(50);
    let worst = 0;
    for (let i = 0; i < 2000; i++) {
      const t = NOW + i * 37 * MIN + 12_345; // odd instants, off the 15-minute grid
      if (t > NOW + 46 * 3_600_000) break;
      const p = await src.priceAt(t);
      const ref = priceAt(t, undefined, 'UTC');
      expect(p.timestamp).toBe(t);
      expect(Math.abs(p.price_per_kwh - ref.price_per_kwh)).toBeLessThanOrEqual(0.01);
      expect(p.energy_source).toBe(ref.energy_source);
      expect(p.hour).toBe(ref.hour);
      worst = Math.max(worst, Math.abs(p.price_per_kwh - rawPriceAt(t, undefined, 'UTC')));
    }
    expect(worst).toBeLessThan(0.0051); // interpolation error is far below the cent rounding
    expect(calls).toHaveLength(1);
    expect(src.stale).toBe(false);
  });

  it('fetches another stretch only for an instant outside the cached one', async () => {
    const grid = await startGrid();
    cleanup.push(() => grid.stop());
    const { calls, impl } = countingFetch();
    const src = createHttpPriceSource({ gridUrl: grid.url, logger: silentLogger, fetchImpl: impl, now: () => NOW });
    cleanup.push(() => src.close());
    await src.priceAt(NOW);
    const lastWeek = NOW - 7 * 86_400_000;
    for (let i = 0; i < 100; i++) await src.priceAt(lastWeek + i * MIN);
    expect(calls).toHaveLength(2);
    expect((await src.priceAt(lastWeek)).price_per_kwh).toBe(priceAt(lastWeek, undefined, 'UTC').price_per_kwh);
  });

  it('keeps serving the last known curve, flagged stale, when the grid goes down', async () => {
    const grid = await startGrid();
    const port = Number(new URL(grid.url).port);
    const { calls, impl } = countingFetch();
    const src = createHttpPriceSource({ gridUrl: grid.url, logger: silentLogger, fetchImpl: impl, now: () => NOW, timeoutMs: 500 });
    cleanup.push(() => src.close());
    const before = await src.priceAt(NOW + 90 * MIN);
    await grid.stop();

    expect(await src.refresh()).toBe(false);
    expect(src.stale).toBe(true);
    expect(await src.priceAt(NOW + 90 * MIN)).toEqual(before);
    // Far outside the cached stretch: the last known (daily) curve shifted by whole days.
    const nextMonth = NOW + 30 * 86_400_000 + 90 * MIN;
    expect(await src.priceAt(nextMonth)).toEqual({ ...before, timestamp: nextMonth });
    const fetchesDuringOutage = calls.length;
    for (let i = 0; i < 500; i++) await src.priceAt(nextMonth + i * MIN);
    expect(calls.length - fetchesDuringOutage).toBeLessThanOrEqual(1); // backoff: no fetch per event
    expect(src.stats()).toMatchObject({ stale: true, servingLocal: false });

    // The grid comes back on the same port: a refresh clears the flag.
    const back = await startGrid(port);
    cleanup.push(() => back.stop());
    expect(await src.refresh()).toBe(true);
    expect(src.stale).toBe(false);
  });

  it('falls back to the local curve, flagged stale, if the grid was never reachable; never throws', async () => {
    const port = await freePort();
    const src = createHttpPriceSource({ gridUrl: `http://127.0.0.1:${port}`, logger: silentLogger, fallbackTz: 'UTC', timeoutMs: 500 });
    cleanup.push(() => src.close());
    const p = await src.priceAt(NOW);
    expect(p).toEqual(priceAt(NOW, undefined, 'UTC'));
    expect(src.stale).toBe(true);
    expect(src.stats().servingLocal).toBe(true);
    const f = await src.forecast(NOW, 2, 15);
    expect(f).toHaveLength(9);
  });

  it('treats a garbled grid answer as an outage', async () => {
    const bogus: typeof fetch = async () => new Response(JSON.stringify({ nope: true }), { status: 200 });
    const src = createHttpPriceSource({ gridUrl: 'http://grid.invalid', logger: silentLogger, fetchImpl: bogus, fallbackTz: 'UTC' });
    cleanup.push(() => src.close());
    expect(await src.priceAt(NOW)).toEqual(priceAt(NOW, undefined, 'UTC'));
    expect(src.stale).toBe(true);
  });
});

describe('local price source', () => {
  it('answers the pure curve and is never stale', async () => {
    const src = createLocalPriceSource(undefined, 'UTC');
    expect(await src.priceAt(NOW)).toEqual(priceAt(NOW, undefined, 'UTC'));
    expect(await src.forecast(NOW, 24)).toHaveLength(97);
    expect(src.stale).toBe(false);
  });
});
