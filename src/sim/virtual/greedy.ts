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
  const threshold = opts.thresholdPct ?? 30;
  const target = opts.targetPct ?? DEFAULT_TARGET_PCT;
  const trips = new Map<string, Trip>();
  const plugged = new Map<string, Set<string>>(ctx.stations.map((s) => [s.id, new Set<string>()]));
  const lines = new Map<string, string[]>(ctx.stations.map((s) => [s.id, []]));
  const pending: BookingEvent[] = [];

  const free = (s: Station): boolean => plugged.get(s.id)!.size < s.ports;
  const decide = (carId: string, trip: Trip, status: DecisionStatus, extra: Partial<Decision> = {}): void =>
    ctx.deliver(carId, { bookingId: trip.bookingId, carId, stationId: trip.station.id, status, message: status, timestamp: ctx.now(), priceRate: 0, queuePosition: 0, expiresAt: 0, reason: '', eventType: '', ...extra });
  const log = (carId: string, trip: Trip, type: BookingEvent['event_type'], extra: Record<string, unknown> = {}): void => {
    pending.push({ event_id: `${trip.bookingId}:${type}`, event_type: type, car_id: carId, timestamp: ctx.now(), booking_id: trip.bookingId, station_id: trip.station.id, ...extra });
  };

  function nearest(e: TelemetryEvent): Station {
    const byDistance = [...ctx.stations].sort((a, b) => haversineKm(e, a) - haversineKm(e, b) || a.id.localeCompare(b.id));
    return byDistance.find(free) ?? byDistance[0];
  }

  function plugIn(carId: string, trip: Trip, promoted: boolean): void {
    trip.phase = 'charging';
    plugged.get(trip.station.id)!.add(carId);
    log(carId, trip, 'booking_confirmed', { promoted });
    log(carId, trip, 'charging_started');
    decide(carId, trip, 'charging');
  }

  /** A port at the station came free: the first car in its line takes it. */
  function nextInLine(station: Station): void {
    const line = lines.get(station.id)!;
    while (line.length > 0 && free(station)) {
      const carId = line.shift()!;
      plugIn(carId, trips.get(carId)!, true);
    }
  }

  function leave(carId: string, trip: Trip): void {
    trips.delete(carId);
    plugged.get(trip.station.id)!.delete(carId);
    const line = lines.get(trip.station.id)!;
    const i = line.indexOf(carId);
    if (i >= 0) line.splice(i, 1);
    nextInLine(trip.station);
  }

  function onCar(e: TelemetryEvent): void {
    const trip = trips.get(e.car_id);
    if (!trip) {
      if (e.battery <= 0 || e.battery >= threshold) return;
      const t: Trip = { bookingId: `gr-${e.car_id}-${e.timestamp}`, station: nearest(e), phase: 'heading' };
      trips.set(e.car_id, t);
      return decide(e.car_id, t, 'confirmed');
    }
    if (e.battery <= 0 && trip.phase !== 'charging') {
      log(e.car_id, trip, 'booking_cancelled', { reason: 'cancelled:stranded' });
      return leave(e.car_id, trip);
    }
    if (trip.phase === 'heading' && haversineKm(e, trip.station) <= ARRIVED_KM) {
      if (free(trip.station) && lines.get(trip.station.id)!.length === 0) return plugIn(e.car_id, trip, false);
      trip.phase = 'queued';
      const line = lines.get(trip.station.id)!;
      line.push(e.car_id);
      log(e.car_id, trip, 'booking_queued', { queue_position: line.length });
      return decide(e.car_id, trip, 'queued', { queuePosition: line.length });
    }
    if (trip.phase === 'charging' && e.battery >= target) {
      log(e.car_id, trip, 'charging_completed', { reason: 'target_reached' });
      decide(e.car_id, trip, 'completed');
      leave(e.car_id, trip);
    }
  }

  return {
    policy: 'greedy',
    async start() {},
    async telemetry(events) {
      for (const e of events) onCar(e);
      if (pending.length > 0) await ctx.bus.publish(TOPIC_EVENTS, pending.splice(0).map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
    },
    async tick() {},
    async stop() {},
  };
}
