import { describe, expect, it } from 'vitest';
import { toBookingResponse } from '../../../../src/grpc/booking-codec.js';
import type { Booking, Transition } from '../../../../src/ports/reservations.js';
import { decisionForCancel, decisionForResult } from '../../../../src/services/coordination/decisions.js';
import { completedEvent, criticalEvent, decisionFromEvent, decisionsFromRecords, failedEvent, transitionEvent } from '../../../../src/services/coordination/event-codec.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const booking = (over: Partial<Booking> = {}): Booking => ({
  bookingId: 'bk-1', carId: 'CAR-1', status: 'held', stationId: 'A', candidates: [{ stationId: 'A', score: 1 }], holdMs: 60_000, battery: 20, critical: false,
  createdAt: T0, updatedAt: T0, queuedAt: null, confirmedAt: T0, expiresAt: T0 + 60_000, chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, ...over,
});

describe('event codec', () => {
  it('a confirmation carries the hold and its decision round-trips to a BookingResponse', () => {
    const t: Transition = { type: 'confirmed', at: T0, booking: booking(), promoted: true };
    const e = transitionEvent(t, 'coord-1', { price_rate: 0.3 });
    expect(e).toMatchObject({ event_id: 'bk-1:booking_confirmed', event_type: 'booking_confirmed', station_id: 'A', expires_at: T0 + 60_000, promoted: true, origin_instance: 'coord-1', price_rate: 0.3 });
    expect(e.message).toMatch(/^promoted: port held at A until /);
    const d = decisionFromEvent(e)!;
    expect(d).toMatchObject({ bookingId: 'bk-1', carId: 'CAR-1', status: 'confirmed', priceRate: 0.3, expiresAt: T0 + 60_000, eventType: 'booking_confirmed' });
    expect(toBookingResponse(d)).toMatchObject({ status: 'BOOKING_CONFIRMED', booking_id: 'bk-1', price_rate: 0.3 });
  });

  it('a queued car without a station names its first candidate; an ended booking its reason', () => {
    const queued = transitionEvent({ type: 'queued', at: T0, booking: booking({ status: 'queued', stationId: null }), position: 3 }, 'c');
    expect(queued).toMatchObject({ station_id: 'A', queue_position: 3, reason: 'no_free_port' });
    const cancelled = transitionEvent({ type: 'cancelled', at: T0, booking: booking({ status: 'cancelled', endReason: 'cancelled:lost_contact' }) }, 'c');
    expect(cancelled).toMatchObject({ event_type: 'booking_cancelled', reason: 'cancelled:lost_contact', message: 'booking cancelled (cancelled:lost_contact)' });
  });

  it('a completed session is priced over its span from the start battery to the last reported one', () => {
    const b = booking({ status: 'completed', chargingStartedAt: T0, startBattery: 20, endReason: 'completed:target_reached' });
    const e = completedEvent({ type: 'charging_completed', at: T0 + 3_600_000, booking: b }, 'c', { endBattery: 60, capacityKwh: 75, price: () => 0.2 });
    expect(e).toMatchObject({ session_id: 'bk-1', start_time: T0, end_time: T0 + 3_600_000, start_battery: 20, end_battery: 60, kwh: 30, cost: 6, price_rate: 0.2, reason: 'completed:target_reached' });
  });

  it('failures and critical batteries', () => {
    const failed = failedEvent({ carId: 'CAR-1', bookingId: 'bk-9', battery: 5 }, T0, 'no_reachable_station', 'c');
    expect(failed).toMatchObject({ event_type: 'booking_failed', message: 'no station within the remaining range' });
    expect(failed).not.toHaveProperty('station_id');
    const crit = criticalEvent({ event_id: 'x', event_type: 'telemetry', car_id: 'CAR-1', timestamp: T0, lat: 1, lon: 2, battery: 9, velocity: 0 }, 'c');
    expect(crit).toMatchObject({ event_id: `CAR-1:battery_critical:${T0}`, battery: 9, lat: 1, lon: 2 });
    expect(decisionFromEvent(crit)).toBeNull();
  });

  it('routes only decisions other instances took', () => {
    const mine = transitionEvent({ type: 'confirmed', at: T0, booking: booking(), promoted: false }, 'me');
    const theirs = transitionEvent({ type: 'confirmed', at: T0, booking: booking({ bookingId: 'bk-2' }), promoted: false }, 'them');
    const records = [mine, theirs].map((e) => ({ value: JSON.stringify(e) }));
    expect(decisionsFromRecords([...records, { value: '{not json' }], 'me').map((d) => d.bookingId)).toEqual(['bk-2']);
  });
});

describe('decisions', () => {
  it('answers a reservation: failed, queued with its position, or the existing booking', () => {
    expect(decisionForResult({ status: 'failed', reason: 'unknown_station', transitions: [] }, { carId: 'C', bookingId: 'b' }, T0)).toMatchObject({ status: 'failed', message: 'cannot book: unknown_station' });
    expect(decisionForResult({ status: 'queued', position: 2, booking: booking({ status: 'queued' }), replayed: false, transitions: [] }, { carId: 'C', bookingId: 'b' }, T0)).toMatchObject({ status: 'queued', queuePosition: 2 });
    expect(decisionForResult({ status: 'duplicate', existing: booking(), transitions: [] }, { carId: 'C', bookingId: 'b' }, T0).message).toBe('already has booking bk-1 (held)');
  });

  it('answers a cancellation', () => {
    expect(decisionForCancel({ ok: false, reason: 'not_found', transitions: [] }, { carId: 'C' }, T0)).toMatchObject({ status: 'failed', carId: 'C', reason: 'not_found', message: 'nothing to cancel: not_found' });
    expect(decisionForCancel({ ok: true, booking: booking({ status: 'cancelled' }), transitions: [] }, { bookingId: 'bk-1' }, T0)).toMatchObject({ status: 'cancelled', bookingId: 'bk-1' });
  });
});
