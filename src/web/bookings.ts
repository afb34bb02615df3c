import type { FleetEvent } from '../domain/events.js';
import { assignmentOf } from '../tui/store/occupancy.js';
import type { CarBooking } from './protocol.js';

/**
 * Each car's active booking (station, state, booking id) and the price paid over completed sessions,
 * from the booking events. The store keeps counts per station; the view also needs who is where (to
 * show and cancel a booking) and how many are charging rather than only holding a port.
 */
export class BookingTracker {
  private readonly byCar = new Map<string, CarBooking>();
  private charging = 0;
  private kwh = 0;
  private cost = 0;
  /** Bumped on every change, so the hub sends the list only when it moved. */
  version = 0;

  constructor(private readonly maxCars = 50_000) {}

  apply(e: FleetEvent): void {
    if (e.event_type === 'telemetry') return;
    if (e.event_type === 'charging_completed' && typeof e.kwh === 'number' && typeof e.cost === 'number' && e.kwh > 0) {
      this.kwh += e.kwh;
      this.cost += e.cost;
    }
    const next = assignmentOf(e.event_type);
    if (next === undefined) return;
    const had = this.byCar.get(e.car_id);
    if (next === 'release') {
      if (had) this.drop(had);
      return;
    }
    const stationId = e.station_id ?? had?.stationId;
    if (!stationId) return;
    if (had) this.drop(had);
    else if (this.byCar.size >= this.maxCars) return;
    const b: CarBooking = { carId: e.car_id, stationId, state: next, bookingId: e.booking_id ?? had?.bookingId };
    this.byCar.set(e.car_id, b);
    if (next === 'charging') this.charging++;
    this.version++;
  }

  get chargingCount(): number {
    return this.charging;
  }

  get avgPricePaid(): number | null {
    return this.kwh > 0 ? Math.round((this.cost / this.kwh) * 10_000) / 10_000 : null;
  }

  list(): CarBooking[] {
    return [...this.byCar.values()].map((b) => ({ ...b }));
  }

  private drop(b: CarBooking): void {
    if (b.state === 'charging') this.charging--;
    this.byCar.delete(b.carId);
    this.version++;
  }
}
