import type { Decision } from '../../domain/booking-request.js';
import { chargeRateKw, energyKwh, timeToTargetMs, type Station } from '../../domain/charging.js';
import type { TelemetryEvent } from '../../domain/events.js';
import { haversineKm } from '../../domain/geo.js';
import type { SimCar } from '../../domain/manhattan.js';
import type { EventQueue } from './clock.js';
import type { FleetStats } from './fleet-stats.js';

/**
 * The virtual fleet's cars and how they obey decisions, as src/sim/driver.ts does for the live
 * simulator: confirmed → drive to the station and park in its bay; queued → wait parked; charging →
 * charge at min(port, car) kW until the target (an exact event); completed → back to work (day)
 * or parked for good (herd); expired, cancelled, failed → a low car waits where it is; deferred → the
 * car keeps working until the coordinator books it, at the cheaper window or at the deferral floor.
 */
export type Phase = 'roam' | 'idle' | 'waiting' | 'to_station' | 'at_station' | 'queued' | 'charging' | 'done' | 'stranded';

export interface VCar {
  sim: SimCar;
  /** Share of demand above which this car works (day scenario). */
  duty: number;
  phase: Phase;
  bookingId: string;
  station?: Station;
  kw: number;
  chargeStartMs: number;
  chargeStartPct: number;
}

export interface FleetRules {
  thresholdPct: number;
  targetPct: number;
  carMaxKw: number;
  afterCharge: 'park' | 'roam';
}

const ARRIVED_KM = 0.05;
/** Phases whose telemetry the deciders need every step: approaching or at a port, charging, or low and without a booking. */
const EVERY_STEP: ReadonlySet<Phase> = new Set(['to_station', 'at_station', 'charging', 'waiting']);

/** Decisions applied to the cars; `now` is the virtual clock. */
export class FleetDecisions {
  private readonly stations: Map<string, Station>;

  constructor(
    private readonly cars: Map<string, VCar>,
    stations: Station[],
    private readonly rules: FleetRules,
    private readonly stats: FleetStats,
    private readonly chargeDone: EventQueue<{ carId: string; bookingId: string }>,
    private readonly now: () => number,
  ) {
    this.stations = new Map(stations.map((s) => [s.id, s]));
  }

  apply(carId: string, d: Decision): void {
    this.stats.decisions++;
    const car = this.cars.get(carId);
    if (!car || car.phase === 'stranded' || car.phase === 'done') return;
    const current = !car.bookingId || car.bookingId === d.bookingId;
    switch (d.status) {
      case 'confirmed':
        return this.confirmed(carId, car, d);
      case 'queued':
        if (car.bookingId === d.bookingId && (car.phase === 'to_station' || car.phase === 'charging')) return; // a late queued after a promotion
        this.stats.asked(carId, this.now(), car.sim.battery < this.rules.thresholdPct);
        Object.assign(car, { phase: 'queued', bookingId: d.bookingId });
        if (!this.atStation(car)) car.sim.park();
        return;
      case 'charging':
        return this.plugIn(carId, car, d);
      case 'completed':
      case 'expired':
      case 'cancelled':
      case 'failed':
        if (!current) return;
        if (d.status === 'failed') this.stats.asked(carId, this.now(), car.sim.battery < this.rules.thresholdPct);
        return this.ended(carId, car);
      case 'deferred':
        // As src/sim/driver-plans.ts: a car following a booking ignores a late deferral; a deferred car keeps
        // working (the coordinator books it from its window where a port is free, or at once when it reaches the floor).
        if (car.bookingId) return;
        this.stats.deferred++;
        if (car.phase === 'waiting') {
          car.phase = 'roam';
          car.sim.resume();
        }
        return;
    }
  }

  private confirmed(carId: string, car: VCar, d: Decision): void {
    const station = this.stations.get(d.stationId);
    if (!station || (car.phase === 'charging' && car.bookingId !== d.bookingId)) return;
    this.stats.asked(carId, this.now(), car.sim.battery < this.rules.thresholdPct);
    Object.assign(car, { phase: 'to_station', bookingId: d.bookingId, station });
    if (haversineKm(car.sim.position, station) <= ARRIVED_KM) return this.parkInBay(car);
    // The promise is not needed: the engine sees the arrival in the car's mode after each step.
    void car.sim.driveTo(station.lat, station.lon);
  }

  parkInBay(car: VCar): void {
    car.sim.parkAt(car.station!.lat, car.station!.lon);
    car.phase = 'at_station';
  }

  private plugIn(carId: string, car: VCar, d: Decision): void {
    const station = this.stations.get(d.stationId) ?? car.station;
    if (!station) return;
    const now = this.now();
    const kw = chargeRateKw(station.powerKw, this.rules.carMaxKw);
    Object.assign(car, { phase: 'charging', bookingId: d.bookingId, station, kw, chargeStartMs: now, chargeStartPct: car.sim.battery });
    car.sim.parkAt(station.lat, station.lon);
    this.stats.pluggedIn(carId, now);
    const ms = timeToTargetMs(car.sim.pack.capacityKwh, car.sim.battery, kw, this.rules.targetPct);
    this.chargeDone.push(now + Math.ceil(ms), { carId, bookingId: d.bookingId });
  }

  /** The booking ended: a session is recorded; the car goes back to work, parks for good, or waits low. */
  private ended(carId: string, car: VCar): void {
    const now = this.now();
    if (car.phase === 'charging') {
      const kwh = energyKwh(car.sim.pack.capacityKwh, car.chargeStartPct, car.sim.battery);
      this.stats.session(carId, car.station!.id, car.chargeStartMs, now, kwh);
      if (this.rules.afterCharge === 'park') {
        Object.assign(car, { phase: 'done', bookingId: '' });
        return car.sim.park();
      }
    }
    const low = car.sim.battery < this.rules.thresholdPct;
    Object.assign(car, { phase: low ? 'waiting' : 'roam', bookingId: '', station: undefined, kw: 0 });
    if (low) car.sim.park();
    else car.sim.resume();
  }

  private atStation(car: VCar): boolean {
    return Boolean(car.station && haversineKm(car.sim.position, car.station) <= ARRIVED_KM);
  }
}

/** The car's telemetry as a TelemetryEvent (rounded as src/sim/simulator.ts toCarStatus does). */
export function telemetryOf(car: VCar, atMs: number): TelemetryEvent {
  const { lat, lon } = car.sim.position;
  return {
    event_id: `${car.sim.carId}:${atMs}`,
    event_type: 'telemetry',
    car_id: car.sim.carId,
    lat: Math.round(lat * 1e6) / 1e6,
    lon: Math.round(lon * 1e6) / 1e6,
    battery: Math.round(car.sim.battery * 100) / 100,
    velocity: Math.round(car.sim.velocity * 10) / 10,
    timestamp: atMs,
  };
}

/**
 * Whether the deciders need this car's telemetry this step: approaching, at or charging at a port, or
 * low and not queued. A car queued for a port is parked: its reading changes by its standby drain
 * (0.4 %/h, src/domain/battery.ts), so it reports at the quiet cadence of src/sim/virtual/engine.ts
 * (every 5 min, well inside the coordinator's 10 min lost-contact window); a promotion reaches it as a
 * decision, not through its telemetry. Reporting every step, the thousands of cars queued in a
 * 10,000-car day were 5.2 million of the run's readings and most of its time (bench/sim.ts).
 */
export function reports(car: VCar, thresholdPct: number): boolean {
  if (car.phase === 'done' || car.phase === 'stranded' || car.phase === 'queued') return false;
  return EVERY_STEP.has(car.phase) || car.sim.battery < thresholdPct;
}
