import type { FleetEvent, TelemetryEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import type { LiveStationRow } from '../sources/station-rows.js';
import type { StationTruth, StationView } from './types.js';

export type BookingEvent = Exclude<FleetEvent, TelemetryEvent>;
type AssignmentState = 'held' | 'charging' | 'queued';

/** Where a booking event leaves its car: at a port, in the queue, or nowhere (released). */
export function assignmentOf(eventType: BookingEvent['event_type']): AssignmentState | 'release' | undefined {
  switch (eventType) {
    case 'booking_confirmed':
      return 'held';
    case 'booking_queued':
      return 'queued';
    case 'charging_started':
      return 'charging';
    case 'charging_completed':
    case 'booking_expired':
    case 'booking_cancelled':
    case 'booking_failed':
      return 'release';
    default:
      return undefined;
  }
}

/**
 * Station occupancy (ports taken, queue, last price) from booking and charging events, and from
 * live answers when there are any. Occupancy follows each car's latest booking state, so repeated
 * events never double count. Bounded: stations past maxStations are ignored.
 */
export class StationOccupancy {
  private readonly stations = new Map<string, StationView>();
  private readonly assignments = new Map<string, { stationId: string; state: AssignmentState }>();
  truth: StationTruth = 'events';

  constructor(private readonly maxStations: number) {}

  /** Applies a booking or charging event. */
  apply(e: BookingEvent): void {
    const stationId = e.station_id ?? this.assignments.get(e.car_id)?.stationId;
    if (stationId && typeof e.price_rate === 'number') {
      const s = this.stationFor(stationId);
      if (s) s.priceRate = e.price_rate;
    }
    const next = assignmentOf(e.event_type);
    if (next === 'release') this.release(e.car_id);
    else if (next && stationId) this.assign(e.car_id, stationId, next);
  }

  /** Frees whatever the car held or queued for. */
  release(carId: string): void {
    const a = this.assignments.get(carId);
    if (!a) return;
    const s = this.stations.get(a.stationId);
    if (s) {
      if (a.state === 'queued') s.queue = Math.max(0, s.queue - 1);
      else s.taken = Math.max(0, s.taken - 1);
    }
    this.assignments.delete(carId);
  }

  /** Names, positions and port counts from the station list; occupancy is kept. */
  setStations(list: Station[]): void {
    for (const st of list.slice(0, this.maxStations)) {
      const s = this.stations.get(st.id) ?? { id: st.id, name: st.name, ports: 0, taken: 0, queue: 0 };
      Object.assign(s, { name: st.name, lat: st.lat, lon: st.lon, ports: st.ports });
      this.stations.set(st.id, s);
    }
  }

  /** Live occupancy (holds + sessions, queue, price) replaces what events inferred so far. */
  setLive(rows: LiveStationRow[]): void {
    // Assignments stay: a car seen booking since the start still frees its port when its event comes.
    for (const row of rows.slice(0, this.maxStations)) {
      const s = this.stationFor(row.id);
      if (!s) continue;
      Object.assign(s, { name: row.name, lat: row.lat, lon: row.lon, ports: row.ports, taken: row.holds + row.charging, queue: row.queueLength, offline: Boolean(row.offline) });
      if (row.pricePerKwh > 0) s.priceRate = row.pricePerKwh;
    }
    this.truth = 'live';
  }

  /** Copies of every station, for a snapshot. */
  views(): StationView[] {
    return [...this.stations.values()].map((s) => ({ ...s }));
  }

  private assign(carId: string, stationId: string, state: AssignmentState): void {
    this.release(carId);
    const s = this.stationFor(stationId);
    if (!s) return;
    if (state === 'queued') s.queue++;
    else s.taken++;
    this.assignments.set(carId, { stationId, state });
  }

  private stationFor(id: string): StationView | undefined {
    let s = this.stations.get(id);
    if (!s && this.stations.size < this.maxStations) {
      s = { id, name: id, ports: 0, taken: 0, queue: 0 };
      this.stations.set(id, s);
    }
    return s;
  }
}
