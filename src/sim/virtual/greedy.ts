import type { Decision, DecisionStatus } from '../../domain/booking-request.js';
import { DEFAULT_TARGET_PCT, type Station } from '../../domain/charging.js';
import { TOPIC_EVENTS, type BookingEvent, type TelemetryEvent } from '../../domain/events.js';
import { haversineKm } from '../../domain/geo.js';
import type { ChargingStrategy, StrategyContext } from './types.js';

/**
 * The baseline: what a fleet does without coordination. A car that runs low heads for the nearest
 * station with a free port (the ports it can see in use: cars plugged in), or the nearest station
 * when none is free; on arrival it plugs in if a port is free, else joins that station's line,
 * first come first served. No reservations, no range check, no urgency order, no price awareness.
 * It writes the booking events a coordinator would (booking_confirmed when a car gets a port,
 * booking_queued, charging_started, charging_completed), so the same audit and KPIs judge it.
 */
interface Trip {
  bookingId: string;
  station: Station;
  phase: 'heading' | 'queued' | 'charging';
}

const ARRIVED_KM = 0.05;

export function createGreedyStrategy(ctx: StrategyContext, opts: { thresholdPct?: number; targetPct?: number } = {}): ChargingStrategy {
  const fleet = new GreedyFleet(ctx, opts.thresholdPct ?? 30, opts.targetPct ?? DEFAULT_TARGET_PCT);
  return {
    policy: 'greedy',
    async start() {},
    async telemetry(events) {
      for (const e of events) fleet.onCar(e);
      const pending = fleet.takeEvents();
      if (pending.length > 0) await ctx.bus.publish(TOPIC_EVENTS, pending.map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
    },
    async tick() {},
    async stop() {},
  };
}

class GreedyFleet {
  private readonly trips = new Map<string, Trip>();
  private readonly plugged: Map<string, Set<string>>;
  private readonly lines: Map<string, string[]>;
  private pending: BookingEvent[] = [];

  constructor(
    private readonly ctx: StrategyContext,
    private readonly threshold: number,
    private readonly target: number,
  ) {
    this.plugged = new Map(ctx.stations.map((s) => [s.id, new Set<string>()]));
    this.lines = new Map(ctx.stations.map((s) => [s.id, []]));
  }

  takeEvents(): BookingEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  onCar(e: TelemetryEvent): void {
    const trip = this.trips.get(e.car_id);
    if (!trip) {
      if (e.battery <= 0 || e.battery >= this.threshold) return;
      const t: Trip = { bookingId: `gr-${e.car_id}-${e.timestamp}`, station: this.nearest(e), phase: 'heading' };
      this.trips.set(e.car_id, t);
      return this.decide(e.car_id, t, 'confirmed');
    }
    if (e.battery <= 0 && trip.phase !== 'charging') {
      this.log(e.car_id, trip, 'booking_cancelled', { reason: 'cancelled:stranded' });
      return this.leave(e.car_id, trip);
    }
    if (trip.phase === 'heading' && haversineKm(e, trip.station) <= ARRIVED_KM) {
      const line = this.lines.get(trip.station.id)!;
      if (this.free(trip.station) && line.length === 0) return this.plugIn(e.car_id, trip, false);
      trip.phase = 'queued';
      line.push(e.car_id);
      this.log(e.car_id, trip, 'booking_queued', { queue_position: line.length });
      return this.decide(e.car_id, trip, 'queued', { queuePosition: line.length });
    }
    if (trip.phase === 'charging' && e.battery >= this.target) {
      this.log(e.car_id, trip, 'charging_completed', { reason: 'target_reached' });
      this.decide(e.car_id, trip, 'completed');
      this.leave(e.car_id, trip);
    }
  }

  private free(s: Station): boolean {
    return this.plugged.get(s.id)!.size < s.ports;
  }

  private nearest(e: TelemetryEvent): Station {
    const byDistance = [...this.ctx.stations].sort((a, b) => haversineKm(e, a) - haversineKm(e, b) || a.id.localeCompare(b.id));
    return byDistance.find((s) => this.free(s)) ?? byDistance[0];
  }

  private plugIn(carId: string, trip: Trip, promoted: boolean): void {
    trip.phase = 'charging';
    this.plugged.get(trip.station.id)!.add(carId);
    this.log(carId, trip, 'booking_confirmed', { promoted });
    this.log(carId, trip, 'charging_started');
    this.decide(carId, trip, 'charging');
  }

  /** The car is gone from the station (charged or stranded): the first car in its line takes a freed port. */
  private leave(carId: string, trip: Trip): void {
    this.trips.delete(carId);
    this.plugged.get(trip.station.id)!.delete(carId);
    const line = this.lines.get(trip.station.id)!;
    const i = line.indexOf(carId);
    if (i >= 0) line.splice(i, 1);
    while (line.length > 0 && this.free(trip.station)) {
      const next = line.shift()!;
      this.plugIn(next, this.trips.get(next)!, true);
    }
  }

  private decide(carId: string, trip: Trip, status: DecisionStatus, extra: Partial<Decision> = {}): void {
    const blank = { message: status, priceRate: 0, queuePosition: 0, expiresAt: 0, reason: '', eventType: '' };
    this.ctx.deliver(carId, { ...blank, bookingId: trip.bookingId, carId, stationId: trip.station.id, status, timestamp: this.ctx.now(), ...extra });
  }

  private log(carId: string, trip: Trip, type: BookingEvent['event_type'], extra: Record<string, unknown> = {}): void {
    this.pending.push({ event_id: `${trip.bookingId}:${type}`, event_type: type, car_id: carId, timestamp: this.ctx.now(), booking_id: trip.bookingId, station_id: trip.station.id, ...extra });
  }
}
