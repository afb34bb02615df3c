import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  candidatesFor,
  clockTime,
  defaultPolicy,
  deferralFloorPct,
  expectedWaitMin,
  holdMsFor,
  holdRenewalMs,
  isCritical,
  planDeferral,
  reachKm,
  resolvePolicy,
  scoreStations,
  wantsCharge,
  forecastHoursFor,
  topUpBelowPct,
  wantsTopUp,
} from '../../../src/domain/booking-policy.js';
import { forecast, rawPriceAt } from '../../../src/domain/pricing.js';
import { parseStations } from '../../../src/config/stations-file.js';
import type { Station } from '../../../src/ports/fleet-state.js';
import type { PricePoint } from '../../../src/ports/price-source.js';

const pack = { capacityKwh: 75, whPerKm: 180, maxChargeKw: 150 };
const station = (id: string, lat: number, lon: number, ports = 2, powerKw = 150): Station => ({ id, name: id, lat, lon, ports, powerKw });
const H = 3_600_000;
const point = (timestamp: number, price: number): PricePoint => ({ timestamp, price_per_kwh: price, grid_load: 'Low', energy_source: 'Grid', hour: 0 });

describe('booking policy', () => {
  it('range is battery × capacity / consumption', () => {
    expect(reachKm(pack, 30)).toBeCloseTo(125);
    expect(reachKm(pack, 1, 2)).toBe(0);
  });

  it('thresholds: request below 30 %, critical below 15 %', () => {
    expect([wantsCharge(29.9), wantsCharge(30)]).toEqual([true, false]);
    expect([isCritical(14.9), isCritical(15)]).toEqual([true, false]);
  });

  it('hold = drive time + grace, capped at 20 minutes', () => {
    // 1 km straight → 1.3 km road at 18 km/h = 4.33 min, + 5 min grace.
    expect(holdMsFor(1)).toBeCloseTo((5 + (1.3 / 18) * 60) * 60_000, -2);
    expect(holdMsFor(50)).toBe(20 * 60_000);
    expect(holdMsFor(0)).toBe(5 * 60_000);
  });

  it('a renewed hold covers the drive at 1.5x the estimate plus grace, capped at 20 minutes', () => {
    expect(holdRenewalMs(1)).toBeCloseTo((5 + 1.5 * (1.3 / 18) * 60) * 60_000, -2);
    expect(holdRenewalMs(0)).toBe(5 * 60_000);
    expect(holdRenewalMs(10)).toBe(20 * 60_000);
  });

  it('keeps far reachable stations among the candidates (the most urgent car may need them)', () => {
    const car = { lat: 40.75, lon: -73.99, battery: 10 };
    const scored = scoreStations({ car, stations: [station('near', 40.751, -73.99), station('far', 40.8, -73.99)], pack }); // far: ~5.6 km, a 24 min drive
    expect(candidatesFor(scored, { maxCandidates: 5 }).map((c) => [c.stationId, c.holdMs])).toEqual([['near', scored[0].holdMs], ['far', 20 * 60_000]]);
    // Each candidate carries its drive, so a port freed there goes to the queued car that arrives soonest (issue 10).
    expect(candidatesFor(scored).map((c) => c.driveMs)).toEqual(scored.map((x) => Math.round(x.driveMin * 60_000)));
  });

  it('expected wait grows with the queue and shrinks with ports', () => {
    expect(expectedWaitMin({ id: 'a', ports: 2, holds: 1, charging: 0, queueLength: 0 }, 30)).toBe(0);
    expect(expectedWaitMin({ id: 'a', ports: 2, holds: 2, charging: 0, queueLength: 3 }, 30)).toBe(60);
    expect(expectedWaitMin({ id: 'a', ports: 4, holds: 2, charging: 2, queueLength: 3 }, 30)).toBe(30);
  });

  it('keeps only reachable stations and ranks by drive time, wait and charge speed', () => {
    const car = { lat: 40.75, lon: -73.99, battery: 25 };
    const near = station('near', 40.751, -73.99);
    const nearButFull = station('full', 40.7505, -73.99);
    const slow = station('slow', 40.752, -73.99, 2, 50);
    const far = station('far', 41.9, -73.99); // ~128 km: beyond 25 % of 75 kWh at 180 Wh/km
    const status = new Map([['full', { id: 'full', ports: 2, holds: 2, charging: 0, queueLength: 4 }]]);
    const scored = scoreStations({ car, stations: [far, slow, nearButFull, near], status, pack });
    expect(scored.map((s) => s.station.id)).toEqual(['near', 'slow', 'full']);
    expect(scored[2].free).toBe(false);
    const cands = candidatesFor(scored, { maxCandidates: 2 });
    expect(cands.map((c) => c.stationId)).toEqual(['near', 'slow']);
    expect(cands[0].holdMs).toBe(scored[0].holdMs);
  });

  it('an almost empty car reaches only what its range allows', () => {
    const scored = scoreStations({ car: { lat: 40.75, lon: -73.99, battery: 2.5 }, stations: [station('a', 40.755, -73.99), station('b', 40.8, -73.99)], pack });
    // 0.5 % usable of 75 kWh = 2.08 km: a (0.56 km × 1.3) is in, b (5.6 km) is not.
    expect(scored.map((s) => s.station.id)).toEqual(['a']);
  });

  it('defers a healthy car to the cheapest safe window and says why', () => {
    const now = Date.UTC(2026, 0, 1, 18, 0);
    const forecast = [point(now + H, 0.3), point(now + 2 * H, 0.2), point(now + 8 * H, 0.1)];
    const params = resolvePolicy({ deferral: { drainPctPerHour: 4, safetyMarginPct: 5 } });
    const d = planDeferral({ battery: 29, nowMs: now, currentPrice: 0.4, forecast, params });
    // At 4 %/h: 20:00 leaves 21 % (≥ 15 + 5), 02:00 would leave −3 %: the 20:00 window is the cheapest safe one.
    expect(d).toMatchObject({ deferUntil: now + 2 * H, pricePerKwh: 0.2, savingsPerKwh: 0.2, reason: 'deferred to 20:00, saves $0.20/kWh' });
  });

  it('with an 8 h horizon, moves a car that can wait to the cheap night window (a car at 60 % at 17:30 to 01:00)', () => {
    const now = Date.UTC(2026, 0, 1, 17, 30);
    const params = resolvePolicy({ deferral: { maxDeferHours: 8 } });
    // Peak prices until midnight, the cheap window from 01:00 (every 15 min over 8 h, as the coordinator's forecast).
    const forecast = Array.from({ length: 32 }, (_, i) => now + (i + 1) * 15 * 60_000).map((t) => point(t, t >= now + 7.5 * H ? 0.12 : 0.38));
    const d = planDeferral({ battery: 60, nowMs: now, currentPrice: 0.39, forecast, params });
    expect(d).toMatchObject({ deferUntil: now + 7.5 * H, pricePerKwh: 0.12, reason: 'deferred to 01:00, saves $0.27/kWh' });
    // The default horizon (4 h) does not reach it: the car charges now.
    expect(planDeferral({ battery: 60, nowMs: now, currentPrice: 0.39, forecast })).toBeNull();
    // A car asking below the request threshold may be deferred too (it keeps working until the window or the floor).
    expect(planDeferral({ battery: 28, nowMs: now, currentPrice: 0.39, forecast, params })?.deferUntil).toBe(now + 7.5 * H);
    // Never a critical car, however large the saving.
    expect(planDeferral({ battery: defaultPolicy.criticalPct - 0.5, nowMs: now, currentPrice: 0.39, forecast, params })).toBeNull();
    // Nor a car whose battery would fall below the floor (critical + safety margin) before the window.
    expect(planDeferral({ battery: 21, nowMs: now, currentPrice: 0.39, forecast, params })).toBeNull();
    expect(deferralFloorPct()).toBe(defaultPolicy.criticalPct + defaultPolicy.deferral.safetyMarginPct);
  });

  it('never defers a critical car, nor for a tiny saving', () => {
    const now = Date.UTC(2026, 0, 1, 18, 0);
    const forecast = [point(now + H, 0.38)];
    expect(planDeferral({ battery: 14, nowMs: now, currentPrice: 0.4, forecast: [point(now + H, 0.1)] })).toBeNull();
    expect(planDeferral({ battery: 29, nowMs: now, currentPrice: 0.4, forecast })).toBeNull();
    expect(planDeferral({ battery: 29, nowMs: now, currentPrice: 0.4, forecast: [point(now + H, 0.1)], params: resolvePolicy({ deferral: { enabled: false } }) })).toBeNull();
  });

  it('formats window times in the configured zone', () => {
    expect(clockTime(Date.UTC(2026, 0, 1, 2, 15))).toBe('02:15');
    expect(clockTime(Date.UTC(2026, 0, 1, 2, 15), 'America/New_York')).toBe('21:15');
    expect(clockTime(Date.UTC(2026, 0, 1, 2, 15), 'Not/AZone')).toBe('02:15');
    expect(defaultPolicy.maxHoldMs).toBe(20 * 60_000);
  });
});

describe('candidates on the shipped Manhattan stations', () => {
  const manhattan = parseStations(JSON.parse(readFileSync(new URL('../../../deploy/stations/manhattan.json', import.meta.url), 'utf8')));
  const pack = { capacityKwh: 75, whPerKm: 180 };

  it('offers every reachable station, the 50 kW ones too, so a queued car can be promoted at any of them', () => {
    const scored = scoreStations({ car: { lat: 40.7538, lon: -74.0012, battery: 25 }, stations: manhattan, pack });
    const ids = candidatesFor(scored).map((c) => c.stationId);
    expect(ids).toHaveLength(manhattan.length);
    expect(ids).toEqual(expect.arrayContaining(['ST-TRIBECA', 'ST-KIPS-BAY']));
  });

  it('ranks a free 50 kW station first when the faster ones nearby are full with queues', () => {
    const status = new Map(manhattan.map((s) => [s.id, { id: s.id, ports: s.ports, holds: s.ports, charging: 0, queueLength: 4 }]));
    status.set('ST-TRIBECA', { id: 'ST-TRIBECA', ports: 3, holds: 2, charging: 0, queueLength: 0 });
    const scored = scoreStations({ car: { lat: 40.7195, lon: -74.0089, battery: 25 }, stations: manhattan, status, pack });
    expect(candidatesFor(scored)[0].stationId).toBe('ST-TRIBECA');
  });
});

// Issue 10: deferral alone parked the day's energy into the night; cars top up before they are low.
describe('cheap-hour and before-the-peak top-ups', () => {
  const day = Date.UTC(2026, 0, 15);
  const at = (h: number) => day + h * H;
  const open = (h: number) => topUpBelowPct({ nowMs: at(h), currentPrice: rawPriceAt(at(h), undefined, 'UTC'), forecast: forecast(at(h), 24, 15, undefined, 'UTC') });

  it('tops up every car below 70 % in the night trough, the cars below 50 % before the evening rise, none in the peak', () => {
    expect([open(1), open(3), open(5)]).toEqual([70, 70, 70]);
    expect([open(14.5), open(15.5)]).toEqual([50, 50]);
    expect([open(18), open(19), open(21)]).toEqual([0, 0, 0]);
    expect(wantsTopUp(60, open(3))).toBe(true);
    expect(wantsTopUp(60, open(15.5))).toBe(false);
    // A low car asks anyway (wantsCharge); a charged car gains too little.
    expect([wantsTopUp(25, 70), wantsTopUp(75, 70)]).toEqual([false, false]);
  });

  it('opens no top-up without a forecast covering the lookahead, or when disabled', () => {
    const now = at(3);
    expect(topUpBelowPct({ nowMs: now, currentPrice: 0.1, forecast: forecast(now, 6, 15, undefined, 'UTC') })).toBe(0);
    expect(topUpBelowPct({ nowMs: now, currentPrice: 0.1, forecast: forecast(now, 24, 15, undefined, 'UTC'), params: resolvePolicy({ topUp: { enabled: false } }) })).toBe(0);
    expect(forecastHoursFor()).toBe(24);
  });
});
