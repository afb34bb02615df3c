import { describe, expect, it } from 'vitest';
import {
  assertTimeZone,
  averagePrice,
  forecast,
  hourOfDay,
  integrateCost,
  priceAt,
  rawPriceAt,
  resolvePricingParams,
  utcOffsetMinutes,
} from '../../src/domain/pricing.js';

const UTC = 'UTC';
const DAY = 86_400_000;
const MIN = 60_000;
/** Monday 2024-01-01 00:00 UTC. */
const T0 = Date.UTC(2024, 0, 1);
const at = (h: number, m = 0, day = 0) => T0 + day * DAY + h * 3_600_000 + m * MIN;

function weekPerMinute(): { t: number; raw: number }[] {
  const out = [];
  for (let t = T0; t < T0 + 7 * DAY; t += MIN) out.push({ t, raw: rawPriceAt(t, undefined, UTC) });
  return out;
}

describe('pricing curve', () => {
  const week = weekPerMinute();

  it('peaks at 18:00 at $0.40 and bottoms at 02:00 at $0.10 every day', () => {
    for (let day = 0; day < 7; day++) {
      const dayPoints = week.slice(day * 1440, (day + 1) * 1440);
      const max = dayPoints.reduce((a, b) => (b.raw > a.raw ? b : a));
      const min = dayPoints.reduce((a, b) => (b.raw < a.raw ? b : a));
      expect(max.t).toBe(at(18, 0, day));
      expect(min.t).toBe(at(2, 0, day));
      expect(max.raw).toBeCloseTo(0.4, 10);
      expect(min.raw).toBeCloseTo(0.1, 10);
    }
  });

  it('stays within $0.10–$0.40 over a week sampled per minute', () => {
    for (const { raw } of week) {
      expect(raw).toBeGreaterThanOrEqual(0.1);
      expect(raw).toBeLessThanOrEqual(0.4);
    }
  });

  it('is continuous: adjacent minutes differ by less than half a cent, solar edges included', () => {
    let worst = 0;
    for (let i = 1; i < week.length; i++) worst = Math.max(worst, Math.abs(week[i].raw - week[i - 1].raw));
    expect(worst).toBeLessThan(0.005);
    expect(worst).toBeGreaterThan(0); // it moves every minute: not hourly steps
    // Not hourly steps: two instants inside the same hour price differently.
    expect(rawPriceAt(at(14, 5), undefined, UTC)).not.toBe(rawPriceAt(at(14, 55), undefined, UTC));
  });

  it('applies the full 10 % solar discount inside the window and none outside', () => {
    const undiscounted = (h: number, m = 0) => rawPriceAt(at(h, m), { solarDiscount: 0 }, UTC);
    expect(rawPriceAt(at(12), undefined, UTC)).toBeCloseTo(undiscounted(12) * 0.9, 12);
    expect(rawPriceAt(at(9), undefined, UTC)).toBeCloseTo(undiscounted(9) * 0.9, 12);
    expect(rawPriceAt(at(7, 59), undefined, UTC)).toBe(undiscounted(7, 59));
    expect(rawPriceAt(at(18), undefined, UTC)).toBe(undiscounted(18));
    expect(rawPriceAt(at(20), undefined, UTC)).toBe(undiscounted(20));
  });

  it('labels sources and bands like the original', () => {
    const src = (h: number, m = 0) => priceAt(at(h, m), undefined, UTC).energy_source;
    expect([src(7, 59), src(8), src(17, 59), src(18), src(18, 59), src(19), src(22, 59), src(23), src(3)]).toEqual([
      'Grid', 'Solar', 'Solar', 'Grid', 'Grid', 'Wind', 'Wind', 'Grid', 'Grid',
    ]);
    const p18 = priceAt(at(18), undefined, UTC);
    expect(p18).toEqual({ timestamp: at(18), price_per_kwh: 0.4, grid_load: 'High', energy_source: 'Grid', hour: 18 });
    expect(priceAt(at(2), undefined, UTC)).toMatchObject({ price_per_kwh: 0.1, grid_load: 'Low', hour: 2 });
    for (const { t } of week.filter((_, i) => i % 37 === 0)) {
      const p = priceAt(t, undefined, UTC);
      expect(p.grid_load).toBe(p.price_per_kwh > 0.35 ? 'High' : p.price_per_kwh > 0.25 ? 'Medium' : 'Low');
      expect(Math.round(p.price_per_kwh * 100)).toBeCloseTo(p.price_per_kwh * 100, 9);
    }
  });

  it('rounds to cents for the API and keeps the unrounded value', () => {
    const t = at(10, 17);
    const raw = rawPriceAt(t, undefined, UTC);
    expect(priceAt(t, undefined, UTC).price_per_kwh).toBe(Math.round(raw * 100) / 100);
    expect(raw).not.toBe(Math.round(raw * 100) / 100);
  });

  it('honours parameters and rejects nonsense', () => {
    expect(rawPriceAt(at(21), { peakHour: 21, troughHour: 5, solarDiscount: 0 }, UTC)).toBeCloseTo(0.4, 10);
    expect(rawPriceAt(at(5), { peakHour: 21, troughHour: 5 }, UTC)).toBeCloseTo(0.1, 10);
    expect(rawPriceAt(at(18), { base: 0.3, amplitude: 0.05 }, UTC)).toBeCloseTo(0.35, 10);
    expect(() => resolvePricingParams({ peakHour: 2, troughHour: 2 })).toThrow(/differ/);
    expect(() => resolvePricingParams({ solarDiscount: 1.5 })).toThrow(/solarDiscount/);
  });

  it('reads the wall clock in the configured time zone', () => {
    expect(hourOfDay(at(16), 'UTC')).toBe(16);
    expect(hourOfDay(at(16), '+02:00')).toBe(18);
    expect(hourOfDay(at(16, 30), '-05:30')).toBe(11);
    expect(utcOffsetMinutes(Date.UTC(2024, 6, 1), 'Europe/Paris')).toBe(120);
    expect(utcOffsetMinutes(Date.UTC(2024, 0, 1), 'Europe/Paris')).toBe(60);
    expect(priceAt(at(17), undefined, 'Europe/Paris')).toMatchObject({ hour: 18, price_per_kwh: 0.4 });
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(/Unknown time zone/);
    expect(() => assertTimeZone('Asia/Kolkata')).not.toThrow();
  });

  it('forecasts at the requested resolution, both ends included', () => {
    const f = forecast(at(0), 24, 15, undefined, UTC);
    expect(f).toHaveLength(97);
    expect(f[1].timestamp - f[0].timestamp).toBe(15 * MIN);
    expect(f[72]).toEqual(priceAt(at(18), undefined, UTC));
    expect(forecast(at(0), 1, 7, undefined, UTC)).toHaveLength(10); // ceil(60/7) steps + the start
  });

  it('averages over time and integrates cost', () => {
    const dayAvg = averagePrice(at(0), at(0, 0, 1), undefined, UTC);
    expect(dayAvg).toBeGreaterThan(0.2);
    expect(dayAvg).toBeLessThan(0.27);
    // A short window around the trough averages to about the trough price.
    expect(averagePrice(at(1, 59), at(2, 1), undefined, UTC)).toBeCloseTo(0.1, 4);
    // 11 kW for two hours around the peak costs about 22 kWh × ~$0.39.
    const cost = integrateCost(at(17), at(19), 11, undefined, UTC);
    expect(cost).toBeGreaterThan(22 * 0.37);
    expect(cost).toBeLessThan(22 * 0.4);
    expect(integrateCost(at(5), at(5), 11)).toBe(0);
    // Flat curve: exact.
    expect(integrateCost(at(0), at(3), 10, { amplitude: 0, solarDiscount: 0 }, UTC)).toBeCloseTo(0.25 * 30, 10);
  });
});
