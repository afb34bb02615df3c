import { afterAll, describe, expect, it } from 'vitest';
import { acquirePglite, createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import type { BookingEvent } from '../../src/domain/events.js';
import type { Booking, Transition } from '../../src/ports/reservations.js';
import { completedEvent, criticalEvent, failedEvent, transitionEvent } from '../../src/services/coordination/event-codec.js';
import { parseEvent, rowsForEvent } from '../../src/services/worker-events.js';
import { testNamespace } from '../helpers/infra.js';

// A valid event the coordinator produces must be accepted by its own consumer (src/services/worker.ts):
// each one is built by src/services/coordination/event-codec.ts, parsed as the worker parses a record
// (src/services/worker-events.ts) and stored.
const shared = await acquirePglite(undefined);
afterAll(() => shared.release());

const T0 = 1_764_000_000_000;
const booking = (over: Partial<Booking> = {}): Booking => ({
  bookingId: 'bk-1', carId: 'CAR-1', status: 'held', stationId: 'ST-A', candidates: [{ stationId: 'ST-A', score: 1 }], holdMs: 60_000,
  battery: 22, critical: false, createdAt: T0, updatedAt: T0, queuedAt: null, confirmedAt: T0, expiresAt: T0 + 60_000,
  chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, ...over,
});

function everyEvent(): Record<string, BookingEvent> {
  const queued = booking({ status: 'queued', stationId: null, confirmedAt: null, expiresAt: null, queuedAt: T0 });
  const t = (tr: Transition) => transitionEvent(tr, 'coord-1');
  return {
    booking_confirmed: t({ type: 'confirmed', at: T0, booking: booking(), promoted: false }),
    booking_queued: t({ type: 'queued', at: T0, booking: queued, position: 3 }),
    booking_queued_no_candidate: t({ type: 'queued', at: T0, booking: { ...queued, candidates: [] }, position: 1 }),
    booking_expired: t({ type: 'expired', at: T0, booking: booking({ status: 'expired', endedAt: T0, endReason: 'expired' }) }),
    booking_cancelled: t({ type: 'cancelled', at: T0, booking: booking({ status: 'cancelled', endReason: 'cancelled:requested' }) }),
    booking_cancelled_while_queued: t({ type: 'cancelled', at: T0, booking: { ...queued, candidates: [], status: 'cancelled', endReason: 'cancelled:lost_contact' } }),
    charging_started: t({ type: 'charging_started', at: T0, booking: booking({ status: 'charging', chargingStartedAt: T0, startBattery: 22 }) }),
    charging_completed: completedEvent(
      { type: 'charging_completed', at: T0 + 1_800_000, booking: booking({ status: 'completed', chargingStartedAt: T0, startBattery: 22, endReason: 'completed:target_reached' }) },
      'coord-1',
      { endBattery: 80, capacityKwh: 75, price: () => 0.3 },
    ),
    booking_failed_no_station: failedEvent({ carId: 'CAR-1', bookingId: 'bk-2', battery: 3 }, T0, 'no_reachable_station', 'coord-1'),
    booking_failed_unknown_station: failedEvent({ carId: 'CAR-1', bookingId: 'bk-3', stationId: 'NOPE', battery: 20 }, T0, 'unknown_station', 'coord-1'),
    battery_critical: criticalEvent({ event_id: 'x', event_type: 'telemetry', car_id: 'CAR-1', lat: 40.75, lon: -73.98, battery: 9, velocity: 0, timestamp: T0 }, 'coord-1'),
  };
}

describe('every event the coordinator emits is accepted by the worker', () => {
  it('each event type is built here', () => {
    const types = new Set(Object.values(everyEvent()).map((e) => e.event_type));
    expect([...types].sort()).toEqual(['battery_critical', 'booking_cancelled', 'booking_confirmed', 'booking_expired', 'booking_failed', 'booking_queued', 'charging_completed', 'charging_started']);
  });

  for (const [name, event] of Object.entries(everyEvent())) {
    it(`${name}: parses, maps to rows and is stored`, async () => {
      const parsed = parseEvent(JSON.stringify(event));
      expect(parsed).toMatchObject({ ok: true });
      if (!parsed.ok || parsed.event.event_type === 'telemetry') return;
      const rows = await rowsForEvent(parsed.event, async () => 0.3);
      if (event.event_type.startsWith('booking_')) expect(rows.booking).toBeDefined();
      if (event.event_type === 'charging_completed') expect(rows.session).toBeDefined();
      const store = await createPgliteStore({ schema: testNamespace('events') });
      try {
        await store.migrate();
        if (rows.booking) expect(await store.insertBookings([rows.booking])).toBe(1);
        if (rows.session) expect(await store.insertSessions([rows.session])).toBe(1);
      } finally {
        await store.close();
      }
    });
  }
});
