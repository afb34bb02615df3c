import { describe, expect, it } from 'vitest';
import { validateBookingRequest } from '../../../src/domain/booking-request.js';

describe('validateBookingRequest', () => {
  it('reads the original four fields, treating proto3 zero values as unset', () => {
    expect(validateBookingRequest({ car_id: 'CAR-1', station_id: '', expected_arrival: 0, battery_level: 0 }, 'request')).toEqual({ ok: true, value: { carId: 'CAR-1' } });
    expect(validateBookingRequest({ car_id: 'CAR-1', station_id: 'ST-A', expected_arrival: 1_764_000_000_000, battery_level: 22.5, booking_id: 'bk-1', latitude: 40.7, longitude: -73.9 }, 'request')).toEqual({
      ok: true,
      value: { carId: 'CAR-1', stationId: 'ST-A', expectedArrival: 1_764_000_000_000, battery: 22.5, bookingId: 'bk-1', lat: 40.7, lon: -73.9 },
    });
  });

  it('names the first invalid field', () => {
    const field = (msg: object, kind: 'request' | 'cancel' = 'request') => {
      const r = validateBookingRequest(msg, kind);
      return r.ok ? null : r.field;
    };
    expect(field({})).toBe('car_id');
    expect(field({ car_id: 'CAR 1' })).toBe('car_id');
    expect(field({ car_id: 'x'.repeat(65) })).toBe('car_id');
    expect(field({ car_id: 'CAR-1', battery_level: 100.5 })).toBe('battery_level');
    expect(field({ car_id: 'CAR-1', battery_level: Number.NaN })).toBe('battery_level');
    expect(field({ car_id: 'CAR-1', station_id: 'ST A' })).toBe('station_id');
    expect(field({ car_id: 'CAR-1', expected_arrival: 1.5 })).toBe('expected_arrival');
    expect(field({ car_id: 'CAR-1', latitude: 40.7, longitude: 200 })).toBe('longitude');
    expect(field({ car_id: 'CAR-1', booking_id: 'bad id' })).toBe('booking_id');
  });

  it('cancel accepts a booking id alone, but needs one of the two', () => {
    expect(validateBookingRequest({ booking_id: 'bk-CAR-1-1' }, 'cancel')).toEqual({ ok: true, value: { bookingId: 'bk-CAR-1-1' } });
    expect(validateBookingRequest({}, 'cancel')).toMatchObject({ ok: false, field: 'car_id', reason: 'car_id or booking_id is required' });
  });
});
