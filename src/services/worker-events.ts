import { eventTypes, validateBookingEvent, type BookingEvent, type FleetEvent, type TelemetryEvent } from '../domain/events.js';
import { validateTelemetryEvent } from '../domain/telemetry.js';
import type { BookingRow, SessionRow } from '../ports/store.js';

/** What the pricing worker (src/services/worker.ts) makes of one record: an event to persist, its rows, or a DLQ reason. */

/** What the worker publishes to fleet-events.dlq for a record it cannot use. */
export interface DlqPayload {
  reason: DlqReason;
  detail: string;
  /** The record value exactly as consumed. */
  original: string;
  topic: string;
  partition: number;
  offset: string;
  failed_at: number;
}

/** store_rejected: the store refused the record itself (a data error), found by bisecting its batch. */
export type DlqReason = 'unparseable_json' | 'not_an_object' | 'unknown_event_type' | 'invalid_event' | 'store_rejected';

type Parsed = { ok: true; event: FleetEvent } | { ok: false; reason: DlqReason; detail: string };

/** Parses and validates one record value; never throws. */
export function parseEvent(value: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    return { ok: false, reason: 'unparseable_json', detail: (err as Error).message };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'not_an_object', detail: `expected a JSON object, got ${Array.isArray(json) ? 'array' : typeof json}` };
  const type = (json as { event_type?: unknown }).event_type;
  if (!eventTypes.includes(type as never)) return { ok: false, reason: 'unknown_event_type', detail: `event_type ${JSON.stringify(type)} is not one of ${eventTypes.join(', ')}` };
  // Telemetry is checked by the very rules ingress applies (src/domain/telemetry.ts), so the DLQ gets what ingress would refuse.
  if (type === 'telemetry') {
    const t = validateTelemetryEvent(json as Record<string, unknown>);
    if (!t.ok) return { ok: false, reason: 'invalid_event', detail: `${t.field}: ${t.reason}` };
    if (!t.event.event_id) t.event.event_id = legacyEventId(t.event);
    return { ok: true, event: t.event };
  }
  const b = validateBookingEvent(json as Record<string, unknown>);
  if (!b.ok) return { ok: false, reason: 'invalid_event', detail: `${b.field}: ${b.reason}` };
  return { ok: true, event: b.event };
}

/**
 * The original producers sent telemetry without event_id. A car reports one reading per
 * instant, so car_id + timestamp identifies it and keeps re-deliveries idempotent.
 */
function legacyEventId(e: Pick<TelemetryEvent, 'car_id' | 'timestamp'>): string {
  return `legacy:${e.car_id}:${e.timestamp}`;
}

// ---- mapping events to rows (extend here when new event payloads appear) ----

export interface EventRows {
  booking?: BookingRow;
  session?: SessionRow;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * Booking and charging events → rows. booking_* events become bookings rows with whatever they
 * carry; charging_started / charging_completed become charging_sessions rows when they carry a
 * session (session_id, station_id). `priceAt` prices sessions that do not state their rate.
 */
export async function rowsForEvent(e: BookingEvent, priceAt: (t: number) => Promise<number>): Promise<EventRows> {
  if (e.event_type.startsWith('booking_')) {
    return {
      booking: {
        eventId: e.event_id,
        bookingId: e.booking_id ?? e.event_id,
        carId: e.car_id,
        stationId: e.station_id ?? null,
        status: str(e.status) ?? e.event_type.slice('booking_'.length),
        time: e.timestamp,
        expiresAt: num(e.expires_at),
        // A failed booking may explain itself only in its human message.
        reason: str(e.reason) ?? (e.event_type === 'booking_failed' ? str(e.message) : null),
      },
    };
  }
  if ((e.event_type === 'charging_started' || e.event_type === 'charging_completed') && str(e.session_id) && e.station_id) {
    const completed = e.event_type === 'charging_completed';
    const start = num(e.started_at) ?? num(e.start_time) ?? e.timestamp;
    const end = completed ? (num(e.ended_at) ?? num(e.end_time) ?? e.timestamp) : null;
    const kwh = num(e.kwh_usage) ?? num(e.kwh) ?? 0;
    const cost = num(e.cost);
    const rate = num(e.price_rate) ?? (cost !== null && kwh > 0 ? cost / kwh : await priceAt(start));
    return {
      session: {
        sessionId: e.session_id as string,
        stationId: e.station_id,
        carId: e.car_id,
        time: start,
        endTime: end,
        startBattery: num(e.start_battery),
        endBattery: num(e.end_battery),
        kwhUsage: kwh,
        priceRate: rate,
        cost: cost ?? (completed ? kwh * rate : null),
      },
    };
  }
  return {};
}
