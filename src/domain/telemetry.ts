import { randomUUID } from 'node:crypto';
import type { TelemetryEvent } from './events.js';

/** A CarStatus that passed validation. Same shape as the gRPC message. */
export interface CarStatusValue {
  car_id: string;
  latitude: number;
  longitude: number;
  battery_level: number;
  velocity: number;
  timestamp: number;
}

export type ValidationResult = { ok: true; value: CarStatusValue } | { ok: false; field: keyof CarStatusValue; reason: string };

/**
 * How far event time may be from the server clock. The past bound catches seconds-instead-of-ms
 * and replays of stale data; the future bound is a day so that `greenlane sim --speed` (simulated
 * time runs ahead of the wall clock) works for `speed × duration ≤ 24 h` while a clock off by
 * years is still rejected. Real deployments can tighten it.
 */
export interface TimestampWindow {
  pastMs: number;
  futureMs: number;
}

const DAY = 24 * 3600 * 1000;
export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = { pastMs: 7 * DAY, futureMs: DAY };

export const CAR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const VELOCITY_MAX_KMH = 400;

const ranges: [keyof CarStatusValue, number, number][] = [
  ['latitude', -90, 90],
  ['longitude', -180, 180],
  ['battery_level', 0, 100],
  ['velocity', 0, VELOCITY_MAX_KMH],
];

/** Checks one CarStatus; the first failing field is reported. Pure: the clock is passed in. */
export function validateCarStatus(msg: unknown, nowMs: number, window: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW): ValidationResult {
  if (typeof msg !== 'object' || msg === null) return { ok: false, field: 'car_id', reason: 'message is empty' };
  const m = msg as Record<string, unknown>;
  const carId = m.car_id;
  if (typeof carId !== 'string' || carId.length === 0) return { ok: false, field: 'car_id', reason: 'car_id is required' };
  if (!CAR_ID_PATTERN.test(carId)) return { ok: false, field: 'car_id', reason: 'car_id must be 1–64 characters of A-Z a-z 0-9 _ -' };
  for (const [field, min, max] of ranges) {
    const v = m[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, field, reason: `${field} must be a finite number` };
    if (v < min || v > max) return { ok: false, field, reason: `${field} must be within ${min}..${max} (got ${v})` };
  }
  const ts = m.timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || !Number.isInteger(ts) || ts <= 0)
    return { ok: false, field: 'timestamp', reason: 'timestamp must be a positive integer (Unix ms)' };
  if (ts < nowMs - window.pastMs) return { ok: false, field: 'timestamp', reason: `timestamp is more than ${fmtWindow(window.pastMs)} in the past (Unix ms expected)` };
  if (ts > nowMs + window.futureMs) return { ok: false, field: 'timestamp', reason: `timestamp is more than ${fmtWindow(window.futureMs)} in the future` };
  return {
    ok: true,
    value: {
      car_id: carId,
      latitude: m.latitude as number,
      longitude: m.longitude as number,
      battery_level: m.battery_level as number,
      velocity: m.velocity as number,
      timestamp: ts,
    },
  };
}

function fmtWindow(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${Math.round(ms / 1000)} s`;
}

/** The original flat telemetry JSON (ORIGINAL-CONTRACT.md) plus a unique event_id. */
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
