import { describe, expect, it } from 'vitest';
import { FleetStats } from '../../../src/sim/virtual/fleet-stats.js';
import { scenarioSpec } from '../../../src/sim/virtual/scenarios.js';

// Issue 10: a day that ends at midnight hides the energy a price-aware policy moves past it, so the
// day is the second of a 48 h run and only what happens in it is measured.
describe('the measured window of a virtual run', () => {
  it('the day scenario simulates a first day and measures the second; an explicit length measures from the start', () => {
    expect(scenarioSpec('day')).toMatchObject({ hours: 24, warmupHours: 24 });
    expect(scenarioSpec('day', { hours: 6 })).toMatchObject({ hours: 6, warmupHours: 0 });
    expect(scenarioSpec('herd')).toMatchObject({ warmupHours: 0 });
  });

  it('counts only the energy charged inside the window, priced over the part inside it', () => {
    const stats = new FleetStats(() => 0.2, 10_000);
    stats.session('a', 'S', 0, 5_000, 10); // before the window: not counted
    stats.session('b', 'S', 5_000, 15_000, 10); // straddles: half of it
    stats.session('c', 'S', 12_000, 14_000, 4);
    expect(stats.sessions.map((s) => [s.carId, s.kwh, s.startMs])).toEqual([['b', 5, 10_000], ['c', 4, 12_000]]);
    expect(stats.sessions[0].cost).toBeCloseTo(1, 9);
    stats.sample(9_000, 500, new Map([['S', 1]]), false, false);
    stats.sample(11_000, 300, new Map([['S', 1]]), false, false);
    expect([stats.samples, stats.peakKw]).toEqual([1, 300]);
  });
});
