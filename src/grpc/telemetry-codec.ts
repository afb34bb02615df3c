import type { FleetEvent } from '../domain/events.js';
import type { ValidationFailure } from '../domain/telemetry.js';
import type { CarState } from '../ports/fleet-state.js';
import type { IngestionStats } from '../services/ingestion/ingestion.js';
import type { BookingResponseMsg, CarStateMsg, FleetEventMsg, StatsReplyMsg } from './proto.js';

/** Ingestion values ↔ FleetService messages (proto/fleet.proto). */

/** The BookingResponse a car gets on its stream for a CarStatus that failed validation. */
export function telemetryRejection(msg: unknown, result: ValidationFailure, now: number): BookingResponseMsg {
  const raw = (msg as { car_id?: unknown } | null)?.car_id;
  return {
    car_id: typeof raw === 'string' ? raw.slice(0, 64) : '',
    status: 'BOOKING_FAILED',
    message: `INVALID_ARGUMENT: ${result.reason}`,
    reason: `invalid_${result.field}`,
    timestamp: now,
    event_type: 'telemetry_rejected',
  };
}

/** The response acknowledging every batch of a StreamTelemetryBatch stream up to `seq` (it carries nothing else). */
export function batchAck(seq: number, now: number): BookingResponseMsg {
  return { ack_seq: seq, event_type: 'batch_ack', timestamp: now };
}

/** A bus record as a WatchEvents message (the JSON is passed through); null when it is not JSON. */
export function toFleetEventMsg(json: string): FleetEventMsg | null {
  try {
    const e = JSON.parse(json) as Partial<FleetEvent>;
    return { json, event_type: String(e.event_type ?? ''), car_id: String(e.car_id ?? ''), timestamp: Number(e.timestamp) || 0 };
  } catch {
    return null;
  }
}

export function toCarStateMsg(carId: string, car: CarState | null): CarStateMsg {
  if (!car) return { car_id: carId, latitude: 0, longitude: 0, battery_level: 0, velocity: 0, timestamp: 0, state: '', found: false };
  return {
    car_id: car.carId,
    latitude: car.lat,
    longitude: car.lon,
    battery_level: car.battery,
    velocity: car.velocity,
    timestamp: car.timestamp,
    state: car.state ?? '',
    found: true,
  };
}

export function toStatsReplyMsg(s: IngestionStats): StatsReplyMsg {
  return {
    accepted: s.accepted,
    rejected: s.rejected,
    active_streams: s.activeStreams,
    batches: s.batches,
    published: s.published,
    queued: s.queued,
    paused: s.paused,
    started_at: s.startedAt,
  };
}
