import { describe, expect, it } from 'vitest';
import { auditEvents, type LoggedEvent } from '../../../src/domain/audit.js';

const ev = (event_type: string, booking_id: string, station_id: string | undefined, timestamp: number, event_id?: string): LoggedEvent => ({
  event_type, booking_id, station_id, timestamp, car_id: `car-${booking_id}`, event_id: event_id ?? `${booking_id}:${event_type}`,
});
const stations = [{ id: 'A', ports: 1 }, { id: 'B', ports: 2 }];

describe('audit replay', () => {
  it('finds no double booking when every port is released before it is taken again', () => {
    const r = auditEvents([
      ev('booking_confirmed', 'b1', 'A', 1),
      ev('charging_started', 'b1', 'A', 2),
      ev('booking_queued', 'b2', 'A', 2),
      ev('charging_completed', 'b1', 'A', 3),
      ev('booking_confirmed', 'b2', 'A', 3), // promotion stamped with the release's instant
      ev('booking_expired', 'b2', undefined, 4),
      ev('booking_confirmed', 'b3', 'A', 5),
    ], stations);
    expect(r.doubleBookings).toBe(0);
    expect(r.peak).toEqual({ A: 1 });
  });

  it('counts instants where holds + sessions exceed ports', () => {
    const r = auditEvents([
      ev('booking_confirmed', 'b1', 'A', 1),
      ev('charging_started', 'b1', 'A', 2),
      ev('booking_confirmed', 'b2', 'A', 3), // A has 1 port: overlap starts
      ev('booking_confirmed', 'b3', 'B', 4),
      ev('booking_cancelled', 'b2', 'A', 5),
    ], stations);
    expect(r.doubleBookings).toBe(1);
    expect(r.violations).toEqual([{ timestamp: 3, stationId: 'A', holds: 1, sessions: 1, ports: 1 }]);
    expect(r.peak).toEqual({ A: 2, B: 1 });
  });

  it('does not trust order on the wire: sorts by time and ignores redelivered events', () => {
    const r = auditEvents([
      ev('booking_confirmed', 'b2', 'A', 3),
      ev('booking_confirmed', 'b1', 'A', 1),
      ev('booking_expired', 'b1', 'A', 2),
      ev('booking_confirmed', 'b1', 'A', 1), // redelivered: same event_id
    ], stations);
    expect(r.doubleBookings).toBe(0);
    expect(r.duplicatesIgnored).toBe(1);
  });

  it('a station unknown to the audit is reported, not silently dropped', () => {
    expect(auditEvents([ev('booking_confirmed', 'b1', 'Z', 1)], stations).unknownStation).toBe(1);
  });
});
