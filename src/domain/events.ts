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
