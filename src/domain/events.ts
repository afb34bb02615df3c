import { z } from 'zod';

/** Event types on the fleet-events topic (as served by WatchEvents: FleetEventMessage in proto/fleet.proto). */
export const TOPIC_EVENTS = 'fleet-events';
export const TOPIC_DLQ = 'fleet-events.dlq';
export const WORKER_GROUP = 'pricing-worker-group';

export const eventTypes = [
  'telemetry',
  'booking_confirmed',
  'booking_queued',
  'booking_failed',
  'booking_expired',
  'booking_cancelled',
  'charging_started',
  'charging_completed',
  'battery_critical',
] as const;
export type EventType = (typeof eventTypes)[number];

interface EventBase {
  event_id: string;
  event_type: EventType;
  car_id: string;
  /** Event time, Unix ms. */
  timestamp: number;
}

/** The original flat telemetry shape, plus event_id. */
export interface TelemetryEvent extends EventBase {
  event_type: 'telemetry';
  lat: number;
  lon: number;
  battery: number;
  velocity: number;
}

export interface BookingEvent extends EventBase {
  event_type: Exclude<EventType, 'telemetry'>;
  booking_id?: string;
  station_id?: string;
  [extra: string]: unknown;
}

export type FleetEvent = TelemetryEvent | BookingEvent;

/** Applies the namespace prefix that isolates tests and tenants. */
export function topicName(namespace: string, topic: string): string {
  return namespace ? `${namespace}.${topic}` : topic;
}

/**
 * The latest event time the store can hold: PostgreSQL timestamptz is written from an ISO string,
 * and JS Date formats four-digit years only up to 9999 (beyond 8.64e15 ms it throws RangeError).
 */
export const EVENT_TIME_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** PostgreSQL text cannot hold U+0000; a string carrying it would fail its whole batch at the store. */
export function hasNul(s: string): boolean {
  return s.includes('\u0000');
}

/** A path to the first string with a NUL or the first non-finite number anywhere in a value, else undefined. */
function unstorable(v: unknown, path: string): { path: string; message: string } | undefined {
  if (typeof v === 'string') return hasNul(v) ? { path, message: 'must not contain a NUL character' } : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : { path, message: 'must be a finite number' };
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, child] of Object.entries(v)) {
    const bad = unstorable(child, path ? `${path}.${k}` : k);
    if (bad) return bad;
  }
  return undefined;
}

const eventTime = z
  .number()
  .refine(Number.isFinite, 'must be a finite number')
  .refine((v) => v > 0, 'must be positive Unix ms')
  .refine((v) => v <= EVENT_TIME_MAX_MS, `must be at most ${EVENT_TIME_MAX_MS} (year 9999, Unix ms)`);
/** Times a booking or charging event may carry besides its timestamp; the worker stores them when they are numbers. */
const optionalTime = z.unknown().refine((v) => typeof v !== 'number' || (v > 0 && v <= EVENT_TIME_MAX_MS), `must be Unix ms within 1970..9999`);

const bookingEventSchema = z.looseObject({
  event_id: z.string().min(1).max(200),
  event_type: z.enum(eventTypes.filter((t) => t !== 'telemetry') as [BookingEvent['event_type'], ...BookingEvent['event_type'][]]),
  car_id: z.string().min(1).max(64),
  timestamp: eventTime,
  booking_id: z.string().min(1).optional(),
  station_id: z.string().min(1).optional(),
  expires_at: optionalTime.optional(),
  started_at: optionalTime.optional(),
  start_time: optionalTime.optional(),
  ended_at: optionalTime.optional(),
  end_time: optionalTime.optional(),
});

export type BookingEventResult = { ok: true; event: BookingEvent } | { ok: false; field: string; reason: string };

/**
 * The one schema of a booking or charging event read from the bus: its base fields, and nothing the
 * store cannot hold (a NUL in any string, a non-finite number, a time beyond year 9999).
 */
export function validateBookingEvent(json: Record<string, unknown>): BookingEventResult {
  const result = bookingEventSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, field: issue.path.join('.') || '(root)', reason: issue.message };
  }
  const bad = unstorable(json, '');
  if (bad) return { ok: false, field: bad.path || '(root)', reason: bad.message };
  return { ok: true, event: result.data as BookingEvent };
}
