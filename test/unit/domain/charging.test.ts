import { describe, expect, it } from 'vitest';
import { averagePriceOver, chargeRateKw, energyKwh, priceFnFromPoints, sessionMaths, timeToTargetMs } from '../../../src/domain/charging.js';
import type { PricePoint } from '../../../src/ports/price-source.js';

const H = 3_600_000;
const point = (timestamp: number, price: number): PricePoint => ({ timestamp, price_per_kwh: price, grid_load: 'Low', energy_source: 'Grid', hour: 0 });

describe('charging maths', () => {
  it('charges at the lower of port and car limits', () => {
    expect(chargeRateKw(350, 150)).toBe(150);
    expect(chargeRateKw(50, 150)).toBe(50);
  });

  it('energy is the battery rise times pack capacity, never negative', () => {
    expect(energyKwh(75, 20, 80)).toBeCloseTo(45);
    expect(energyKwh(75, 80, 20)).toBe(0);
  });

  it('time to the 80 % target at a constant rate', () => {
    expect(timeToTargetMs(75, 20, 150)).toBeCloseTo(0.3 * H); // 45 kWh at 150 kW = 18 min
    expect(timeToTargetMs(75, 20, 50, 50)).toBeCloseTo(0.45 * H);
    expect(timeToTargetMs(75, 85, 50)).toBe(0);
  });

  it('integrates a changing price over the session', () => {
    const price = (ms: number) => (ms < H ? 0.4 : 0.1);
    expect(averagePriceOver(price, 0, 2 * H)).toBeCloseTo(0.25);
    const s = sessionMaths({ startMs: 0, endMs: 2 * H, startBattery: 20, endBattery: 60, capacityKwh: 75, price });
    expect(s.kwh).toBeCloseTo(30);
    expect(s.cost).toBeCloseTo(7.5);
    expect(s.avgPrice).toBeCloseTo(0.25);
    expect(s.durationMs).toBe(2 * H);
  });

  it('builds a step price function from forecast points', () => {
    const fn = priceFnFromPoints([point(2 * H, 0.3), point(0, 0.1), point(H, 0.2)]);
    expect([fn(-1), fn(0), fn(H - 1), fn(H), fn(5 * H)]).toEqual([0.1, 0.1, 0.1, 0.2, 0.3]);
  });
});
