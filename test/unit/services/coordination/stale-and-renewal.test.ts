import { describe, expect, it, vi } from 'vitest';
import { resolvePolicy } from '../../../../src/domain/booking-policy.js';
import { driveMinutes } from '../../../../src/domain/drive-time.js';
import type { Booking } from '../../../../src/ports/reservations.js';
import { HoldRenewal } from '../../../../src/services/coordination/hold-renewal.js';
import { nearestStations } from '../../../../src/services/coordination/nearest.js';
import { StaleCars } from '../../../../src/services/coordination/stale-cars.js';

const logger = { info: vi.fn(), debug: vi.fn() };

describe('StaleCars', () => {
  it('judges nothing before running staleAfterWallMs, then cuts at the older of both windows', () => {
    let wall = 0;
    let clock = 1_000_000;
    const stale = new StaleCars({ reservations: { touch: vi.fn(), expireStale: vi.fn() }, now: () => clock, staleAfterMs: 600_000, staleAfterWallMs: 60_000, logger, wall: () => wall });
    expect(stale.cutoff()).toBeUndefined();
    wall = 30_000;
    clock = 1_300_000;
    expect(stale.cutoff()).toBeUndefined();
    wall = 60_000;
    clock = 2_000_000; // a fast clock: the wall window decides
    expect(stale.cutoff()).toBe(1_000_000);
    wall = 1_000_000;
    clock = 2_100_000;
    expect(stale.cutoff()).toBe(1_500_000);
  });

  it('touches a car at most once per window fraction', async () => {
    let wall = 0;
    let clock = 0;
    const touch = vi.fn(async () => undefined);
    const stale = new StaleCars({ reservations: { touch, expireStale: vi.fn() }, now: () => clock, staleAfterMs: 600_000, staleAfterWallMs: 60_000, logger, wall: () => wall });
    await stale.touch(['A']);
    wall = 10_000;
    clock = 60_000;
    await stale.touch(['A', 'B']);
    expect(touch.mock.calls).toEqual([[['A'], 0], [['A', 'B'], 60_000]]);
    await stale.touch(['A', 'B']);
    expect(touch).toHaveBeenCalledTimes(2);
  });
});

describe('HoldRenewal', () => {
  const policy = resolvePolicy();
  const held = (expiresAt: number): Booking =>
    ({ bookingId: 'bk-1', carId: 'C', status: 'held', stationId: 'A', expiresAt }) as Booking;

  it('renews only while the car keeps approaching, and only by a real step', async () => {
    const extendHold = vi.fn(async () => ({ ok: true, transitions: [] }));
    const renewal = new HoldRenewal({ reservations: { extendHold }, now: () => 0, policy, logger });
    await renewal.renew('C', held(0), 3);
    expect(extendHold).toHaveBeenCalledTimes(1);
    await renewal.renew('C', held(0), 2.95); // not 100 m closer
    expect(extendHold).toHaveBeenCalledTimes(1);
    await renewal.renew('C', held(policy.maxHoldMs), 2.5); // would not move the expiry a minute
    expect(extendHold).toHaveBeenCalledTimes(1);
    renewal.forget('C');
    await renewal.renew('C', held(0), 2.5);
    expect(extendHold).toHaveBeenCalledTimes(2);
  });
});

describe('nearestStations', () => {
  const A = { id: 'A', name: 'A', lat: 40.75, lon: -73.99, ports: 2, powerKw: 100 };
  const B = { id: 'B', name: 'B', lat: 40.76, lon: -73.99, ports: 1, powerKw: 100 };

  it('orders by distance, estimates the drive with the one drive model and counts free ports', async () => {
    const status = { get: async () => new Map([['A', { id: 'A', ports: 2, holds: 1, charging: 1, queueLength: 4 }]]) };
    const rows = await nearestStations({ stations: [B, A], status, drive: resolvePolicy() }, 40.75, -73.99);
    expect(rows.map((r) => r.station.id)).toEqual(['A', 'B']);
    expect(rows[0]).toMatchObject({ freePorts: 0, holds: 1, charging: 1, queueLength: 4, driveMin: 0 });
    expect(rows[1].driveMin).toBe(driveMinutes(rows[1].distanceKm));
    const available = await nearestStations({ stations: [B, A], status, drive: resolvePolicy() }, 40.75, -73.99, { available: true });
    expect(available.map((r) => r.station.id)).toEqual(['B']);
  });
});
