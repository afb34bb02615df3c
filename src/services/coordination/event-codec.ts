import type { Decision, DecisionStatus } from '../../domain/booking-request.js';
import { sessionMaths, type PriceFn } from '../../domain/charging.js';
import type { BookingEvent, EventType, TelemetryEvent } from '../../domain/events.js';
import type { Booking, Transition } from '../../ports/reservations.js';
import type { BookingRow } from '../../ports/store.js';

/** The booking events that carry a decision for the car, and the decision's status. */
const statusOfEvent: Partial<Record<EventType, DecisionStatus>> = {
  booking_confirmed: 'confirmed',
  booking_queued: 'queued',
  booking_failed: 'failed',
  booking_expired: 'expired',
  booking_cancelled: 'cancelled',
  charging_started: 'charging',
  charging_completed: 'completed',
};

export const BOOKING_EVENT_TYPES: ReadonlySet<string> = new Set<string>(Object.keys(statusOfEvent));

/**
 * A decision is a pure function of its booking event, so any ingestion instance that holds the
 * car's stream can deliver it from the bus, whoever took it.
 */
export function decisionFromEvent(e: BookingEvent): Decision | null {
  const status = statusOfEvent[e.event_type];
  if (!status || !e.booking_id) return null;
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    bookingId: e.booking_id,
    carId: e.car_id,
    stationId: e.station_id ?? '',
    status,
    message: s(e.message) || status,
    timestamp: e.timestamp,
    priceRate: n(e.price_rate),
    queuePosition: n(e.queue_position),
    expiresAt: n(e.expires_at),
    reason: s(e.reason),
    eventType: e.event_type,
  };
}

/** Decisions in bus records taken by other instances (unparsable records and other events are skipped). */
export function decisionsFromRecords(records: { value: string }[], instanceId: string): Decision[] {
  const out: Decision[] = [];
  for (const r of records) {
    let e: BookingEvent;
    try {
      e = JSON.parse(r.value) as BookingEvent;
    } catch {
      continue;
    }
    if (!BOOKING_EVENT_TYPES.has(e.event_type) || e.origin_instance === instanceId) continue;
    const d = decisionFromEvent(e);
    if (d) out.push(d);
  }
  return out;
}

function eventTypeOf(t: Transition): BookingEvent['event_type'] {
  return t.type === 'confirmed' || t.type === 'queued' || t.type === 'expired' || t.type === 'cancelled' ? `booking_${t.type}` : t.type;
}

/**
 * A transition's event id: one per booking and step, so the same transition published twice (the
 * outbox relay retrying, two relays overlapping) carries the same id and the worker keeps one row.
 */
export function transitionEventId(t: Transition): string {
  return `${t.booking.bookingId}:${eventTypeOf(t)}`;
}

/** The booking event of a reservation transition; `extra` adds or overrides fields (price, session). */
export function transitionEvent(t: Transition, instanceId: string, extra: Record<string, unknown> = {}): BookingEvent {
  const b = t.booking;
  const type = eventTypeOf(t);
  const e: BookingEvent = {
    event_id: transitionEventId(t),
    event_type: type,
    car_id: b.carId,
    timestamp: t.at,
    booking_id: b.bookingId,
    station_id: b.stationId ?? firstCandidate(b),
    battery: b.battery,
    critical: b.critical,
    origin_instance: instanceId,
    message: messageFor(t),
    ...extra,
  };
  // No station yet (a queued booking without candidates): omit it, as the worker's schema wants a non-empty id.
  if (!e.station_id) delete e.station_id;
  if (t.type === 'confirmed') Object.assign(e, { expires_at: b.expiresAt, promoted: t.promoted });
  if (t.type === 'queued') Object.assign(e, { queue_position: t.position, reason: 'no_free_port' });
  if (t.type === 'expired' || t.type === 'cancelled') e.reason = b.endReason ?? t.type;
  return e;
}

/** When the session of a charging_completed transition started. */
export function sessionStartMs(t: Transition): number {
  return t.booking.chargingStartedAt ?? t.at;
}

export interface SessionFacts {
  /** The car's last reported battery; the start battery when unknown. */
  endBattery?: number;
  capacityKwh: number;
  /** The price curve over the session. */
  price: PriceFn;
}

/** charging_completed with the session's energy and cost. */
export function completedEvent(t: Transition, instanceId: string, facts: SessionFacts): BookingEvent {
  const b = t.booking;
  const startMs = sessionStartMs(t);
  const startBattery = b.startBattery ?? b.battery;
  const endBattery = facts.endBattery ?? startBattery;
  const session = sessionMaths({ startMs, endMs: t.at, startBattery, endBattery, capacityKwh: facts.capacityKwh, price: facts.price });
  return transitionEvent(t, instanceId, {
    session_id: b.bookingId,
    start_time: startMs,
    end_time: t.at,
    start_battery: startBattery,
    end_battery: endBattery,
    kwh: session.kwh,
    cost: session.cost,
    price_rate: session.avgPrice,
    duration_ms: session.durationMs,
    reason: b.endReason ?? 'completed',
  });
}

/** booking_failed for a request no reservation was tried for (no reachable or unknown station). */
export function failedEvent(ask: { carId: string; bookingId: string; stationId?: string; battery: number }, now: number, reason: string, instanceId: string): BookingEvent {
  const e: BookingEvent = {
    event_id: `${ask.bookingId}:booking_failed`,
    event_type: 'booking_failed',
    car_id: ask.carId,
    timestamp: now,
    booking_id: ask.bookingId,
    battery: ask.battery,
    reason,
    message: reason === 'no_reachable_station' ? 'no station within the remaining range' : `cannot book: ${reason}`,
    origin_instance: instanceId,
  };
  // A failure with no station named has none (the worker rejects an empty station_id; bookings.station_id is nullable).
  if (ask.stationId) e.station_id = ask.stationId;
  return e;
}

/** battery_critical for a car's telemetry. */
export function criticalEvent(e: TelemetryEvent, instanceId: string): BookingEvent {
  return {
    event_id: `${e.car_id}:battery_critical:${e.timestamp}`,
    event_type: 'battery_critical',
    car_id: e.car_id,
    timestamp: e.timestamp,
    battery: e.battery,
    lat: e.lat,
    lon: e.lon,
    origin_instance: instanceId,
  };
}

function firstCandidate(b: Booking): string | undefined {
  return b.candidates[0]?.stationId;
}

function messageFor(t: Transition): string {
  const b = t.booking;
  switch (t.type) {
    case 'confirmed':
      return `${t.promoted ? 'promoted: ' : ''}port held at ${b.stationId} until ${new Date(b.expiresAt ?? 0).toISOString()}`;
    case 'queued':
      return `all reachable ports taken; queued at position ${t.position}`;
    case 'expired':
      return `hold at ${b.stationId} expired before arrival`;
    case 'cancelled':
      return `booking cancelled (${b.endReason ?? 'requested'})`;
    case 'charging_started':
      return `charging at ${b.stationId}`;
    case 'charging_completed':
      return `charging finished at ${b.stationId} (${b.endReason ?? 'completed'})`;
  }
}

/** booking_cancelled for a booking the rebuild could not restore: the car is told to ask again. */
export function stateLostEvent(r: Pick<BookingRow, 'bookingId' | 'carId' | 'stationId'>, now: number, instanceId: string): BookingEvent {
  const e: BookingEvent = {
    event_id: `${r.bookingId}:booking_cancelled`,
    event_type: 'booking_cancelled',
    car_id: r.carId,
    timestamp: now,
    booking_id: r.bookingId,
    reason: 'state_lost',
    message: 'booking state was lost; please request again',
    origin_instance: instanceId,
  };
  if (r.stationId) e.station_id = r.stationId;
  return e;
}
