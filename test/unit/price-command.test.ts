import { describe, expect, it } from 'vitest';
import type { PriceReport } from '../../src/app/price-report.js';
import { chart, renderReport } from '../../src/cli/price-chart.js';
import { parseTime } from '../../src/cli/time.js';
import { forecast, priceAt } from '../../src/domain/pricing.js';

const NOW = Date.UTC(2024, 5, 3, 12, 34, 56);

describe('greenlane price helpers', () => {
  it('reads --at as Unix ms, ISO, HH:MM or now', () => {
    expect(parseTime('now', NOW)).toBe(NOW);
    expect(parseTime('1717400000000', NOW)).toBe(1717400000000);
    expect(parseTime('2024-06-03T18:00:00Z', NOW)).toBe(Date.UTC(2024, 5, 3, 18));
    const hm = new Date(parseTime('18:30', NOW));
    expect([hm.getHours(), hm.getMinutes()]).toEqual([18, 30]);
    expect(() => parseTime('teatime', NOW)).toThrow(/Cannot read --at/);
    expect(() => parseTime('25:00', NOW)).toThrow(/Cannot read --at/);
  });

  it('charts the forecast within the width, highest bar at the peak', () => {
    const points = forecast(Date.UTC(2024, 5, 3, 0), 24, 15, undefined, 'UTC');
    const rows = chart(points, 60, false);
    expect(rows).toHaveLength(5); // 4 bar rows + time axis
    expect(rows[0]).toMatch(/^ \$0\.40 /);
    expect(rows[3]).toMatch(/^ \$0\.10 /);
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(7 + 60);
    const top = rows[0].slice(7);
    const fullAt = top.indexOf('█');
    expect(fullAt / 60).toBeGreaterThan(0.7); // 18:00 is 3/4 of the way through the day
    expect(fullAt / 60).toBeLessThan(0.8);
  });

  it('says where the price came from', () => {
    const points = forecast(NOW, 2, 15, undefined, 'UTC');
    const report: PriceReport = {
      source: 'local',
      gridUrl: 'http://127.0.0.1:8081',
      fallbackReason: 'fetch failed',
      price: priceAt(NOW, undefined, 'UTC'),
      forecast: { from: NOW, hours: 2, stepMinutes: 15, points },
      cheapest: points[0],
      dearest: points[points.length - 1],
    };
    const text = renderReport(report, 80);
    expect(text).toContain('local curve');
    expect(text).toContain('unreachable (fetch failed)');
    expect(text).toMatch(/\$0\.\d\d\/kWh/);
  });
});
