import { describe, expect, it } from 'vitest';
import { EVENT_TIME_MAX_MS, validateBookingEvent } from '../../../src/domain/events.js';
import { validateTelemetryEvent } from '../../../src/domain/telemetry.js';
import { parseEvent } from '../../../src/services/worker-events.js';

const T = Date.UTC(2024, 5, 3, 6, 0);
const telemetry = { event_id: 'e1', event_type: 'telemetry', car_id: 'P', lat: 40.7, lon: -73.9, battery: 50, velocity: 0, timestamp: T };
const booking = { event_id: 'b1', event_type: 'booking_confirmed', car_id: 'CAR-1', timestamp: T, booking_id: 'B1', station_id: 'S1' };

describe('what the store cannot hold is refused by the one schema', () => {
  it('the year-9999 bound is what Date can still format as a four-digit year', () => {
    expect(new Date(EVENT_TIME_MAX_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it('telemetry: the timestamp from the issue (1e17 ms) and anything past year 9999', () => {
    expect(validateTelemetryEvent({ ...telemetry, timestamp: 100000000000000000 })).toMatchObject({ ok: false, field: 'timestamp', reason: expect.stringMatching(/9999/) });
    expect(validateTelemetryEvent({ ...telemetry, timestamp: EVENT_TIME_MAX_MS + 1 })).toMatchObject({ ok: false, field: 'timestamp' });
    expect(validateTelemetryEvent({ ...telemetry, timestamp: EVENT_TIME_MAX_MS }).ok).toBe(true);
  });

  it('telemetry: a NUL in car_id or event_id', () => {
    expect(validateTelemetryEvent({ ...telemetry, car_id: 'P\u0000' })).toMatchObject({ ok: false, field: 'car_id' });
    expect(validateTelemetryEvent({ ...telemetry, event_id: 'e\u00001' })).toMatchObject({ ok: false, field: 'event_id', reason: expect.stringMatching(/NUL/) });
  });

  it('booking events: timestamp and the optional times beyond 9999, NULs anywhere, non-finite numbers', () => {
    expect(validateBookingEvent(booking).ok).toBe(true);
    expect(validateBookingEvent({ ...booking, timestamp: 1e17 })).toMatchObject({ ok: false, field: 'timestamp' });
    expect(validateBookingEvent({ ...booking, expires_at: 1e17 })).toMatchObject({ ok: false, field: 'expires_at' });
    expect(validateBookingEvent({ ...booking, expires_at: T + 1000, ended_at: 'n/a' }).ok).toBe(true);
    expect(validateBookingEvent({ ...booking, car_id: 'C\u0000' })).toMatchObject({ ok: false, field: 'car_id', reason: expect.stringMatching(/NUL/) });
    expect(validateBookingEvent({ ...booking, reason: 'full\u0000' })).toMatchObject({ ok: false, field: 'reason' });
    expect(validateBookingEvent({ ...booking, extra: { deep: ['x\u0000'] } })).toMatchObject({ ok: false, field: 'extra.deep.0' });
    expect(validateBookingEvent({ ...booking, kwh: Infinity })).toMatchObject({ ok: false, field: 'kwh', reason: expect.stringMatching(/finite/) });
  });

  it('the worker applies exactly these rules (the DLQ gets invalid_event, not a store failure)', () => {
    expect(parseEvent(JSON.stringify({ ...telemetry, timestamp: 100000000000000000 }))).toMatchObject({ ok: false, reason: 'invalid_event', detail: expect.stringMatching(/^timestamp:/) });
    expect(parseEvent(JSON.stringify({ ...booking, station_id: 'S\u0000' }))).toMatchObject({ ok: false, reason: 'invalid_event', detail: expect.stringMatching(/^station_id:/) });
  });
});
