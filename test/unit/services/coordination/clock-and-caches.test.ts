import { describe, expect, it, vi } from 'vitest';
import type { PricePoint } from '../../../../src/domain/charging.js';
import type { PriceSource } from '../../../../src/ports/price-source.js';
import { createClock, EventTimeClock } from '../../../../src/services/coordination/clock.js';
import { PriceCache } from '../../../../src/services/coordination/price-cache.js';
import { StationStatusCache } from '../../../../src/services/coordination/status-cache.js';

const point = (timestamp: number, price: number): PricePoint => ({ timestamp, price_per_kwh: price, grid_load: 'Low', energy_source: 'Grid', hour: 0 });
const logger = { warn: vi.fn() };

describe('EventTimeClock', () => {
  it('reads the wall clock until an event is later, then event time plus the wall time elapsed since', () => {
    let wall = 1_000;
    const clock = new EventTimeClock(() => wall);
    expect(clock.now()).toBe(1_000);
    clock.observe(50_000);
    expect(clock.now()).toBe(50_000);
    wall = 1_500;
    expect(clock.now()).toBe(50_500);
    clock.observe(40_000); // older events do not move the watermark back
    expect(clock.now()).toBe(50_500);
  });

  it('never falls behind the wall clock', () => {
    let wall = 10_000;
    const clock = new EventTimeClock(() => wall);
    clock.observe(5_000);
    wall = 20_000;
    expect(clock.now()).toBe(20_000);
  });

  it('a plain clock ignores events', () => {
    const clock = createClock(() => 7);
    clock.observe(1e12);
    expect(clock.now()).toBe(7);
  });
});

describe('PriceCache', () => {
  const source = (price: () => number): PriceSource & { priceAt: ReturnType<typeof vi.fn>; forecast: ReturnType<typeof vi.fn> } => ({
    priceAt: vi.fn(async (at: number) => point(at, price())),
    forecast: vi.fn(async (from: number, hours: number, step = 15) => {
      const out: PricePoint[] = [];
      for (let t = from; t <= from + hours * 3_600_000; t += step * 60_000) out.push(point(t, price()));
      return out;
    }),
  });

  it('asks the grid for the current price at most once a minute and keeps the last known price when it fails', async () => {
    let now = 0;
    let price = 0.2;
    const src = source(() => price);
    const cache = new PriceCache({ source: src, now: () => now, logger, forecastHours: 8 });
    expect(await cache.current()).toBe(0.2);
    price = 0.3;
    now = 59_999;
    expect(await cache.current()).toBe(0.2);
    now = 60_000;
    expect(await cache.current()).toBe(0.3);
    expect(src.priceAt).toHaveBeenCalledTimes(2);
    src.priceAt.mockRejectedValueOnce(new Error('grid down'));
    now = 200_000;
    expect(await cache.current()).toBe(0.3);
  });

  it('caches the forecast for five minutes; a failing grid means no forecast', async () => {
    let now = 0;
    const src = source(() => 0.1);
    const cache = new PriceCache({ source: src, now: () => now, logger, forecastHours: 2 });
    expect((await cache.forecast()).length).toBe(9);
    now = 299_999;
    await cache.forecast();
    expect(src.forecast).toHaveBeenCalledTimes(1);
    expect(src.forecast).toHaveBeenCalledWith(0, 2, 15);
    now = 300_000;
    src.forecast.mockRejectedValueOnce(new Error('grid down'));
    expect(await cache.forecast()).toEqual([]);
  });

  it('prices a span over the minute curve, or at the current price when the curve is unavailable', async () => {
    const src = source(() => 0.25);
    const cache = new PriceCache({ source: src, now: () => 0, logger, forecastHours: 8 });
    expect((await cache.over(0, 30 * 60_000))(10 * 60_000)).toBe(0.25);
    expect(src.forecast).toHaveBeenCalledWith(0, 2, 1);
    src.forecast.mockRejectedValueOnce(new Error('grid down'));
    expect((await cache.over(0, 60_000))(0)).toBe(0.25);
  });

  it('without a price source everything is free and there is no forecast', async () => {
    const cache = new PriceCache({ now: () => 0, logger, forecastHours: 8 });
    expect(cache.available).toBe(false);
    expect(await cache.current()).toBe(0);
    expect(await cache.forecast()).toEqual([]);
    expect((await cache.over(0, 1))(0)).toBe(0);
  });
});

describe('StationStatusCache', () => {
  it('reuses a read for maxAgeMs and reads again after invalidate()', async () => {
    let now = 0;
    const stationStatus = vi.fn(async () => [{ id: 'A', ports: 2, holds: 1, charging: 0, queueLength: 0 }]);
    const cache = new StationStatusCache({ stationStatus }, () => now);
    expect((await cache.get()).get('A')?.holds).toBe(1);
    now = 249;
    await cache.get();
    expect(stationStatus).toHaveBeenCalledTimes(1);
    cache.invalidate();
    await cache.get();
    expect(stationStatus).toHaveBeenCalledTimes(2);
    now = 1_000;
    await cache.get(1_000);
    expect(stationStatus).toHaveBeenCalledTimes(2);
  });
});
