import { describe, expect, it } from 'vitest';
import { herdReport, percentile, type LoggedEvent } from '../../../src/sim/herd-report.js';

const e = (event_type: string, car: string, timestamp: number, extra: Partial<LoggedEvent> = {}): LoggedEvent => ({
  event_id: `${car}:${event_type}:${timestamp}`, event_type, car_id: car, booking_id: `b-${car}`, timestamp, ...extra,
});
const M = 60_000;

describe('herd report', () => {
  const stations = [{ id: 'A', ports: 1 }];
  const log: LoggedEvent[] = [
    e('booking_confirmed', 'c1', 0, { station_id: 'A' }),
    e('booking_queued', 'c2', 0, { station_id: 'A' }),
    e('booking_queued', 'c3', 0, { station_id: 'A' }),
    e('charging_started', 'c1', 10 * M, { station_id: 'A' }),
    e('charging_completed', 'c1', 40 * M, { station_id: 'A', kwh: 30, cost: 6 }),
    e('booking_confirmed', 'c2', 40 * M, { station_id: 'A' }),
    e('booking_expired', 'c2', 60 * M, { station_id: 'A' }),
    e('booking_confirmed', 'c3', 60 * M, { station_id: 'A' }),
    e('charging_started', 'c3', 70 * M, { station_id: 'A' }),
    e('charging_completed', 'c3', 100 * M, { station_id: 'A', kwh: 20, cost: 2 }),
    e('telemetry', 'c4', 100 * M, { battery: 0, booking_id: undefined }),
    e('charging_completed', 'c3', 100 * M, { station_id: 'A', kwh: 20, cost: 2 }), // redelivered
  ];

  it('counts outcomes, waits, prices and utilisation from the log alone', () => {
    const r = herdReport({ events: log, stations, price: (ms) => (ms < 50 * M ? 0.3 : 0.1) });
    expect(r).toMatchObject({ cars: 4, confirmed: 3, queued: 2, expired: 1, cancelled: 0, sessions: 2, stranded: 1, doubleBookings: 0 });
    expect(r.avgPricePaid).toBeCloseTo(8 / 50);
    expect(r.gridAvgPrice).toBeCloseTo(0.2);
    expect(r.utilisation).toBeCloseTo(60 / 100);
    // Waits: c1 0, c2 40 min, c3 60 min.
    expect([r.waitP50Ms, r.waitP95Ms]).toEqual([40 * M, 60 * M]);
  });

  it('double bookings come from the audit of the log', () => {
    const bad = [...log, e('booking_confirmed', 'c9', 20 * M, { station_id: 'A' })];
    expect(herdReport({ events: bad, stations }).doubleBookings).toBeGreaterThan(0);
  });

  it('percentile by nearest rank', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
  });
});
