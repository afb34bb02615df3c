import { eventTypes, type EventType, type FleetEvent } from '../../domain/events.js';

const knownTypes: ReadonlySet<string> = new Set(eventTypes);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Parses a fleet-events value. Lenient on extras, strict on what the screen needs:
 * telemetry must carry numeric lat/lon/battery; unknown types are dropped (newer producers).
 */
export function parseFleetEvent(json: string): FleetEvent | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || typeof v.car_id !== 'string') return null;
  const type = (v.event_type ?? 'telemetry') as string; // the original telemetry may omit nothing, but be kind
  if (!knownTypes.has(type)) return null;
  const timestamp = isNum(v.timestamp) ? v.timestamp : Date.now();
  const event_id = typeof v.event_id === 'string' ? v.event_id : '';
  if (type === 'telemetry') {
    if (!isNum(v.lat) || !isNum(v.lon) || !isNum(v.battery)) return null;
    return { event_id, event_type: 'telemetry', car_id: v.car_id, lat: v.lat, lon: v.lon, battery: v.battery, velocity: isNum(v.velocity) ? v.velocity : 0, timestamp };
  }
  return { ...v, event_id, event_type: type as Exclude<EventType, 'telemetry'>, car_id: v.car_id, timestamp } as FleetEvent;
}
