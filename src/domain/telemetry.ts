import { randomUUID } from 'node:crypto';
import { EVENT_TIME_MAX_MS, hasNul, type TelemetryEvent } from './events.js';

/** A CarStatus that passed validation. Same shape as the gRPC message. */
export interface CarStatusValue {
  car_id: string;
  latitude: number;
  longitude: number;
  battery_level: number;
  velocity: number;
  timestamp: number;
}

/** Why a reading was refused: the first failing field (CarStatus name) and a sentence for the sender. */
export interface ValidationFailure {
  ok: false;
  field: keyof CarStatusValue;
  reason: string;
}

export type ValidationResult = { ok: true; value: CarStatusValue } | ValidationFailure;

/**
 * How far event time may be from the server clock. The past bound catches seconds-instead-of-ms
 * and replays of stale data. The future bound is the allowed clock skew: 5 minutes with the wall
 * clock (production: a client cannot date telemetry ahead), a day in event-time mode so that
 * `greenlane sim --speed` (simulated time runs ahead of the wall clock) works for
 * `speed × duration ≤ 24 h` while a clock off by years is still rejected.
 */
export interface TimestampWindow {
  pastMs: number;
  futureMs: number;
}

const DAY = 24 * 3600 * 1000;
/** The event-time (simulation) window. */
export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = { pastMs: 7 * DAY, futureMs: DAY };
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** The wall-clock window: at most `skewMs` ahead of the server (GREENLANE_MAX_CLOCK_SKEW_SEC). */
export const wallClockWindow = (skewMs = DEFAULT_MAX_CLOCK_SKEW_MS): TimestampWindow => ({ pastMs: 7 * DAY, futureMs: skewMs });

export const CAR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const VELOCITY_MAX_KMH = 400;

/** The bounded fields of a reading: their CarStatus (ingress) and TelemetryEvent (bus) names and limits. */
const ranges: { field: keyof CarStatusValue; eventField: keyof TelemetryEvent; min: number; max: number }[] = [
  { field: 'latitude', eventField: 'lat', min: -90, max: 90 },
  { field: 'longitude', eventField: 'lon', min: -180, max: 180 },
  { field: 'battery_level', eventField: 'battery', min: 0, max: 100 },
  { field: 'velocity', eventField: 'velocity', min: 0, max: VELOCITY_MAX_KMH },
];

type ReadingCheck = { ok: true } | ValidationFailure;

/**
 * The one set of rules for a telemetry reading, whatever its field names: ingress checks CarStatus
 * messages with it (validateCarStatus) and the worker checks bus events with it (validateTelemetryEvent),
 * so both accept and reject the same readings. `get` reads a field by its CarStatus name.
 */
function checkReading(get: (field: keyof CarStatusValue) => unknown): ReadingCheck {
  const carId = get('car_id');
  if (typeof carId !== 'string' || carId.length === 0) return { ok: false, field: 'car_id', reason: 'car_id is required' };
  if (!CAR_ID_PATTERN.test(carId)) return { ok: false, field: 'car_id', reason: 'car_id must be 1–64 characters of A-Z a-z 0-9 _ -' };
  for (const { field, min, max } of ranges) {
    const v = get(field);
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, field, reason: `${field} must be a finite number` };
    if (v < min || v > max) return { ok: false, field, reason: `${field} must be within ${min}..${max} (got ${v})` };
  }
  const ts = get('timestamp');
  if (typeof ts !== 'number' || !Number.isFinite(ts) || !Number.isInteger(ts) || ts <= 0)
    return { ok: false, field: 'timestamp', reason: 'timestamp must be a positive integer (Unix ms)' };
  // The store (timestamptz via an ISO string) and JS Date format only years up to 9999: beyond, a record is poison.
  if (ts > EVENT_TIME_MAX_MS) return { ok: false, field: 'timestamp', reason: `timestamp must be at most ${EVENT_TIME_MAX_MS} (year 9999, Unix ms)` };
  return { ok: true };
}

/** Checks one CarStatus; the first failing field is reported. Pure: the clock is passed in. */
export function validateCarStatus(msg: unknown, nowMs: number, window: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW): ValidationResult {
  if (typeof msg !== 'object' || msg === null) return { ok: false, field: 'car_id', reason: 'message is empty' };
  const m = msg as Record<string, unknown>;
  const check = checkReading((field) => m[field]);
  if (!check.ok) return check;
  const ts = m.timestamp as number;
  if (ts < nowMs - window.pastMs) return { ok: false, field: 'timestamp', reason: `timestamp is more than ${fmtWindow(window.pastMs)} in the past (Unix ms expected)` };
  if (ts > nowMs + window.futureMs) return { ok: false, field: 'timestamp', reason: `timestamp is more than ${fmtWindow(window.futureMs)} in the future` };
  return {
    ok: true,
    value: {
      car_id: m.car_id as string,
      latitude: m.latitude as number,
      longitude: m.longitude as number,
      battery_level: m.battery_level as number,
      velocity: m.velocity as number,
      timestamp: ts,
    },
  };
}

export type TelemetryEventResult = { ok: true; event: TelemetryEvent } | { ok: false; field: string; reason: string };

const eventFieldOf = new Map<keyof CarStatusValue, keyof TelemetryEvent>([['car_id', 'car_id'], ['timestamp', 'timestamp'], ...ranges.map((r) => [r.field, r.eventField] as const)]);

/**
 * Checks a telemetry event read from the bus (the flat JSON of toTelemetryEvent) with the reading
 * rules of ingress; `field` names the event's own field (lat, battery, …). The arrival-time window
 * of validateCarStatus is not applied: it judges the clock at arrival, which ingress already did.
 * event_id may be missing (original producers). Returns only the known fields.
 */
export function validateTelemetryEvent(json: Record<string, unknown>): TelemetryEventResult {
  const id = json.event_id;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200)) return { ok: false, field: 'event_id', reason: 'event_id must be a string of 1–200 characters' };
  if (typeof id === 'string' && hasNul(id)) return { ok: false, field: 'event_id', reason: 'event_id must not contain a NUL character' };
  if (json.event_type !== 'telemetry') return { ok: false, field: 'event_type', reason: 'event_type must be "telemetry"' };
  const check = checkReading((field) => json[eventFieldOf.get(field)!]);
  if (!check.ok) return { ok: false, field: eventFieldOf.get(check.field)!, reason: check.reason };
  const event: TelemetryEvent = {
    event_id: id as string,
    event_type: 'telemetry',
    car_id: json.car_id as string,
    lat: json.lat as number,
    lon: json.lon as number,
    battery: json.battery as number,
    velocity: json.velocity as number,
    timestamp: json.timestamp as number,
  };
  if (id === undefined) delete (event as Partial<TelemetryEvent>).event_id;
  return { ok: true, event };
}

function fmtWindow(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** The original flat telemetry JSON (the CarStatus of test/fixtures/original-fleet.proto, in bus field names) plus a unique event_id. */
export function toTelemetryEvent(value: CarStatusValue, eventId: string = randomUUID()): TelemetryEvent {
  return {
    event_id: eventId,
    event_type: 'telemetry',
    car_id: value.car_id,
    lat: value.latitude,
    lon: value.longitude,
    battery: value.battery_level,
    velocity: value.velocity,
    timestamp: value.timestamp,
  };
}
