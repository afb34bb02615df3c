import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { StationStatus } from '../../ports/reservations.js';

export interface CoordinatorMetrics {
  bookings: Counter<'status'>;
  deferrals: Counter;
  holds: Gauge<'station'>;
  sessions: Gauge<'station'>;
  queue: Gauge<'station'>;
  rebuilds: Counter;
  outboxDepth: Gauge;
  outboxRefusals: Counter;
}

/** Registers once per registry (several coordinators may share one in tests or `up`). */
export function coordinatorMetrics(registry = new Registry()): CoordinatorMetrics {
  const get = <M extends Metric>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  const registers = [registry];
  return {
    bookings: get('greenlane_coordinator_bookings_total', () => new Counter({ name: 'greenlane_coordinator_bookings_total', help: 'Coordination transitions by status', labelNames: ['status'], registers })),
    deferrals: get('greenlane_coordinator_deferrals_total', () => new Counter({ name: 'greenlane_coordinator_deferrals_total', help: 'Requests deferred to a cheaper price window', registers })),
    holds: get('greenlane_coordinator_station_holds', () => new Gauge({ name: 'greenlane_coordinator_station_holds', help: 'Ports held for arriving cars', labelNames: ['station'], registers })),
    sessions: get('greenlane_coordinator_station_sessions', () => new Gauge({ name: 'greenlane_coordinator_station_sessions', help: 'Charging sessions in progress', labelNames: ['station'], registers })),
    rebuilds: get('greenlane_coordinator_rebuilds_total', () => new Counter({ name: 'greenlane_coordinator_rebuilds_total', help: 'Reservation state found lost (state marker gone or stations missing) and rebuilt from the booking log', registers })),
    outboxDepth: get('greenlane_coordinator_outbox_depth', () => new Gauge({ name: 'greenlane_coordinator_outbox_depth', help: 'Booking events in the outbox not yet published to the bus (grows while Kafka is unreachable)', registers })),
    outboxRefusals: get('greenlane_coordinator_outbox_full_total', () => new Counter({ name: 'greenlane_coordinator_outbox_full_total', help: 'Bookings refused because the outbox was full (outboxMax)', registers })),
    queue: get('greenlane_coordinator_station_queue_length', () => new Gauge({ name: 'greenlane_coordinator_station_queue_length', help: 'Queued cars that can reach the station', labelNames: ['station'], registers })),
  };
}

/** Per-station gauges from a status read. */
export function setStationGauges(metrics: CoordinatorMetrics, statuses: Iterable<StationStatus>): void {
  for (const s of statuses) {
    metrics.holds.set({ station: s.id }, s.holds);
    metrics.sessions.set({ station: s.id }, s.charging);
    metrics.queue.set({ station: s.id }, s.queueLength);
  }
}
