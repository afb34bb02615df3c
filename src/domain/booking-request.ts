import { CAR_ID_PATTERN } from './telemetry.js';

/**
 * A car's request for a port, or for cancelling its booking: a BookingRequest (RequestBooking /
 * CancelBooking) that passed validation, or what a car low on charge asks through its telemetry.
 * Unset fields are absent; the coordinator fills the car's position and battery from its last telemetry.
 */
export interface BookingRequest {
  carId?: string;
  /** A preferred station; absent lets the policy choose. */
  stationId?: string;
  /** Idempotency key; derived from the car and expected arrival when absent. */
  bookingId?: string;
  /** Unix ms; sets the hold to arrival + grace (capped). */
  expectedArrival?: number;
  battery?: number;
  lat?: number;
  lon?: number;
  /** Skip price-aware deferral (an explicit request means "now"). Default true for RPCs. */
  noDefer?: boolean;
}

/** What a car is told about its booking (on its stream, as a BookingResponse). */
export type DecisionStatus = 'confirmed' | 'queued' | 'failed' | 'expired' | 'cancelled' | 'charging' | 'completed' | 'deferred';

/** The coordinator's answer to a booking request, or news of the booking later on. */
export interface Decision {
  bookingId: string;
  carId: string;
  stationId: string;
  status: DecisionStatus;
  message: string;
  timestamp: number;
  /** $/kWh when the decision was taken (the session average for `completed`). */
  priceRate: number;
  queuePosition: number;
  expiresAt: number;
  /** Machine-readable reason (no_reachable_station, expired, cancelled:requested…) or the deferral text. */
  reason: string;
  eventType: string;
}

export type BookingRequestField = 'car_id' | 'station_id' | 'booking_id' | 'expected_arrival' | 'battery_level' | 'latitude' | 'longitude';

export type BookingRequestCheck = { ok: true; value: BookingRequest } | { ok: false; field: BookingRequestField; reason: string };

export const STATION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const BOOKING_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Checks a BookingRequest as decoded by proto-loader (proto3 defaults: 0 and '' mean unset).
 * `request` needs a car; `cancel` needs a car or a booking id. The first failing field is reported.
 */
export function validateBookingRequest(msg: unknown, kind: 'request' | 'cancel'): BookingRequestCheck {
  const m = (typeof msg === 'object' && msg !== null ? msg : {}) as Record<string, unknown>;
  const fail = (field: BookingRequestField, reason: string): BookingRequestCheck => ({ ok: false, field, reason });
  const value: BookingRequest = {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');

  const carId = text(m.car_id);
  const bookingId = text(m.booking_id);
  if (carId && !CAR_ID_PATTERN.test(carId)) return fail('car_id', 'car_id must be 1–64 characters of A-Z a-z 0-9 _ -');
  if (!carId && kind === 'request') return fail('car_id', 'car_id is required');
  if (!carId && !bookingId) return fail('car_id', 'car_id or booking_id is required');
  if (bookingId && !BOOKING_ID_PATTERN.test(bookingId)) return fail('booking_id', 'booking_id must be 1–128 characters of A-Z a-z 0-9 _ . : -');
  if (carId) value.carId = carId;
  if (bookingId) value.bookingId = bookingId;

  const stationId = text(m.station_id);
  if (stationId && !STATION_ID_PATTERN.test(stationId)) return fail('station_id', 'station_id must be 1–64 characters of A-Z a-z 0-9 _ . : -');
  if (stationId) value.stationId = stationId;

  const arrival = m.expected_arrival ?? 0;
  if (typeof arrival !== 'number' || !Number.isInteger(arrival) || arrival < 0) return fail('expected_arrival', 'expected_arrival must be Unix ms (0 = unset)');
  if (arrival > 0) value.expectedArrival = arrival;

  const battery = m.battery_level ?? 0;
  if (typeof battery !== 'number' || !Number.isFinite(battery) || battery < 0 || battery > 100) return fail('battery_level', `battery_level must be within 0..100 (got ${String(battery)})`);
  // 0 is proto3's "unset": the server then uses the car's last telemetry.
  if (battery > 0) value.battery = battery;

  const position = positionOf(m.latitude, m.longitude);
  if (!position.ok) return fail(position.field, position.reason);
  Object.assign(value, position.value);
  return { ok: true, value };
}

type PositionCheck = { ok: true; value: { lat?: number; lon?: number } } | { ok: false; field: 'latitude' | 'longitude'; reason: string };

/** Both or neither; (0, 0) counts as unset, since clients without proto3 `optional` cannot leave them out. */
function positionOf(lat: unknown, lon: unknown): PositionCheck {
  const given = (v: unknown) => v !== undefined && v !== null && v !== 0;
  if (!given(lat) && !given(lon)) return { ok: true, value: {} };
  for (const [field, v, max] of [['latitude', lat, 90], ['longitude', lon, 180]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > max) return { ok: false, field, reason: `${field} must be within -${max}..${max} when a position is given` };
  }
  return { ok: true, value: { lat: lat as number, lon: lon as number } };
}
