import type { BookingEvent } from './occupancy.js';

/** One booking decision the coordinator took for a car, as its event told it. */
export interface CarDecision {
  at: number;
  type: BookingEvent['event_type'];
  stationId?: string;
  bookingId?: string;
  /** Why, when the event says (e.g. "no_port", "cancelled_by_operator"). */
  reason?: string;
  price?: number;
}

export interface CarHistory {
  /** Battery %, oldest first, one point per trend interval. */
  trend: number[];
  decisions: CarDecision[];
}

/**
 * A short battery trend and the last decisions per car. Bounded: at most maxCars cars (the least
 * recently touched go first), trendLength points and decisionLength decisions each.
 */
export class CarHistories {
  private readonly byCar = new Map<string, CarHistory & { lastAt: number }>();

  constructor(
    private readonly maxCars: number,
    private readonly trendEveryMs = 5_000,
    private readonly trendLength = 40,
    private readonly decisionLength = 10,
  ) {}

  battery(carId: string, battery: number, at: number): void {
    const h = this.byCar.get(carId);
    if (h && at - h.lastAt < this.trendEveryMs) return;
    const entry = h ?? this.create(carId);
    entry.lastAt = at;
    entry.trend.push(battery);
    if (entry.trend.length > this.trendLength) entry.trend.shift();
  }

  decision(e: BookingEvent): void {
    const entry = this.byCar.get(e.car_id) ?? this.create(e.car_id);
    const reason = typeof e.reason === 'string' ? e.reason : typeof e.message === 'string' ? e.message : undefined;
    entry.decisions.push({ at: e.timestamp, type: e.event_type, stationId: e.station_id, bookingId: e.booking_id, reason, price: typeof e.price_rate === 'number' ? e.price_rate : undefined });
    if (entry.decisions.length > this.decisionLength) entry.decisions.shift();
  }

  get(carId: string): CarHistory | undefined {
    const h = this.byCar.get(carId);
    return h && { trend: [...h.trend], decisions: [...h.decisions] };
  }

  drop(carId: string): void {
    this.byCar.delete(carId);
  }

  get size(): number {
    return this.byCar.size;
  }

  private create(carId: string): CarHistory & { lastAt: number } {
    if (this.byCar.size >= this.maxCars) this.byCar.delete(this.byCar.keys().next().value as string);
    const entry = { trend: [], decisions: [], lastAt: -Infinity };
    this.byCar.set(carId, entry);
    return entry;
  }
}
