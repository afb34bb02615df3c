import { chargeBattery } from '../domain/battery.js';
import { chargeRateKw, DEFAULT_TARGET_PCT } from '../domain/charging.js';
import { haversineKm } from '../domain/geo.js';
import type { SimCar } from '../domain/manhattan.js';
import type { BookingResponseMsg } from '../grpc/proto.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';

/**
 * The simulated cars' side of coordination: they obey the decisions pushed down their streams.
 * confirmed → drive to the booked station along the grid and park in its bay; charging → stay
 * plugged in and charge at min(port, car) kW in simulated time up to the target; completed → roam
 * again; queued → wait parked (a low car that roams while it waits strands); expired, cancelled
 * or failed → a low car waits where it is, and its next telemetry asks again; deferred → the car
 * keeps working until the coordinator books it (at the cheaper window, or at the deferral floor).
 */
export interface SimDriverOptions {
  stations: Station[];
  logger: Logger;
  /** Charging stops here; the coordinator ends the session when telemetry reaches it (default 80). */
  targetPct?: number;
  /** The most a car accepts, kW (default 150, the coordinator's policy default). */
  carMaxKw?: number;
  /** Below this a car without a booking waits for the next decision instead of roaming (default 30). */
  requestThresholdPct?: number;
  /** A full car whose session the coordinator has not closed after this long drives off (simulated ms, default 15 min). */
  unpluggedAfterMs?: number;
  /** An info line with the fleet's coordination counts every this many wall ms (0 = never; default 0). */
  summaryEveryMs?: number;
  /**
   * What a car does once charged: 'roam' (default) drives on; 'park' stays parked in the bay, off duty.
   * A scenario that ends when every car has charged once (the herd) parks them, or cars charged early
   * drain below the request threshold during a long run and come back for a second session.
   */
  afterCharge?: 'roam' | 'park';
}

export interface DriverCounts {
  confirmed: number;
  queued: number;
  chargingStarted: number;
  charged: number;
  expired: number;
  cancelled: number;
  failed: number;
  deferred: number;
  stranded: number;
}

export interface FleetNow {
  drivingToStation: number;
  waiting: number;
  charging: number;
}

type Phase = 'to_station' | 'at_station' | 'charging' | 'queued';

interface Plan {
  phase: Phase;
  bookingId: string;
  station?: Station;
  kw: number;
  fullSince?: number;
}

const ARRIVED_KM = 0.05;

/** What each car is doing about charging, and how it obeys the next decision (see SimDriverOptions). */
export class CarPlans {
  readonly stranded = new Set<string>();
  readonly charged = new Set<string>();
  readonly counts: DriverCounts = { confirmed: 0, queued: 0, chargingStarted: 0, charged: 0, expired: 0, cancelled: 0, failed: 0, deferred: 0, stranded: 0 };
  private readonly plans = new Map<string, Plan>();
  private readonly stations: Map<string, Station>;
  private readonly logger: Logger;
  private readonly target: number;
  private readonly carMaxKw: number;
  private readonly threshold: number;
  private readonly unpluggedAfterMs: number;
  private last: DriverCounts = { ...this.counts };

  constructor(
    private readonly opts: SimDriverOptions,
    private readonly carById: (id: string) => SimCar | undefined,
  ) {
    this.logger = opts.logger.child({ service: 'sim-driver' });
    this.stations = new Map(opts.stations.map((s) => [s.id, s]));
    this.target = opts.targetPct ?? DEFAULT_TARGET_PCT;
    this.carMaxKw = opts.carMaxKw ?? 150;
    this.threshold = opts.requestThresholdPct ?? 30;
    this.unpluggedAfterMs = opts.unpluggedAfterMs ?? 15 * 60_000;
  }

  onResponse(car: SimCar, res: BookingResponseMsg): void {
    const plan = this.plans.get(car.carId);
    const current = !plan || plan.bookingId === res.booking_id;
    switch (res.status) {
      case 'BOOKING_CONFIRMED':
        return this.confirmed(car, res);
      case 'BOOKING_QUEUED':
        return this.queued(car, res, plan);
      case 'BOOKING_CHARGING':
        return this.pluggedIn(car, res, plan);
      case 'BOOKING_COMPLETED':
        if (current) this.completed(car, res);
        return;
      case 'BOOKING_EXPIRED':
      case 'BOOKING_CANCELLED':
        if (!current) return;
        this.counts[res.status === 'BOOKING_EXPIRED' ? 'expired' : 'cancelled']++;
        return this.lostBooking(car);
      case 'BOOKING_FAILED':
        if (res.event_type !== 'booking_failed' || !current) return; // a rejected message, not a booking
        this.counts.failed++;
        return this.lostBooking(car);
      case 'BOOKING_DEFERRED':
        // Told to charge at a cheaper window (expires_at): the car keeps working meanwhile; from the window
        // the coordinator books it where a port is free, and at once (queued if it must) when it reaches the
        // deferral floor, so it cannot strand. A car that follows a booking ignores a late deferral.
        if (plan) return;
        this.counts.deferred++;
        car.resume();
        return;
    }
  }

  /** Charges plugged-in cars by one step; a full car whose session stays open drives off after a while. */
  charge(simNowMs: number, dtSec: number): void {
    for (const [carId, plan] of this.plans) {
      if (plan.phase !== 'charging') continue;
      const car = this.carById(carId);
      if (!car) continue;
      if (car.battery < this.target) {
        car.setBattery(Math.min(this.target, chargeBattery(car.pack, car.battery, plan.kw, dtSec / 3600).batteryPct));
        continue;
      }
      plan.fullSince ??= simNowMs;
      if (simNowMs - plan.fullSince > this.unpluggedAfterMs) {
        // The coordinator never closed the session: drive off, and it closes on departure.
        this.logger.warn({ carId, stationId: plan.station?.id }, 'full but the session is still open; driving off');
        this.plans.delete(carId);
        car.resume();
      }
    }
  }

  checkStranded(car: SimCar): void {
    if (car.battery > 0 || this.stranded.has(car.carId)) return;
    this.stranded.add(car.carId);
    this.counts.stranded++;
    this.logger.warn({ carId: car.carId, ...car.position }, 'car stranded at 0 %');
  }

  now(): FleetNow {
    const n: FleetNow = { drivingToStation: 0, waiting: 0, charging: 0 };
    for (const p of this.plans.values()) {
      if (p.phase === 'charging') n.charging++;
      else if (p.phase === 'queued') n.waiting++;
      else n.drivingToStation++;
    }
    return n;
  }

  /** One info line: decisions obeyed since the last line, and what the fleet is doing now. */
  summarize(): void {
    const delta = (k: keyof DriverCounts) => this.counts[k] - this.last[k];
    const now = this.now();
    this.logger.info(
      { ...now, booked: delta('confirmed'), queued: delta('queued'), chargingStarted: delta('chargingStarted'), charged: delta('charged'), expired: delta('expired'), stranded: this.counts.stranded },
      `fleet: ${delta('confirmed')} booked, ${delta('queued')} queued, ${delta('chargingStarted')} started charging, ${delta('charged')} charged since last; now ${now.charging} charging, ${now.waiting} waiting in the queue`,
    );
    this.last = { ...this.counts };
  }

  private confirmed(car: SimCar, res: BookingResponseMsg): void {
    const station = res.station_id ? this.stations.get(res.station_id) : undefined;
    if (!station) {
      this.logger.warn({ carId: car.carId, stationId: res.station_id }, 'confirmed at a station this simulator does not know; ignoring');
      return;
    }
    const current = this.plans.get(car.carId);
    // A confirmation of an older booking arriving late must not pull a charging car out of its bay.
    if (current?.phase === 'charging' && current.bookingId !== res.booking_id) return;
    this.counts.confirmed++;
    const plan: Plan = { phase: 'to_station', bookingId: res.booking_id ?? '', station, kw: chargeRateKw(station.powerKw, this.carMaxKw) };
    this.plans.set(car.carId, plan);
    if (atStation(car, station)) return parkInBay(car, plan);
    // The grid reaches the intersection nearest the station; the bay itself may be off the grid.
    void car.driveTo(station.lat, station.lon).then((arrived) => {
      if (arrived && this.plans.get(car.carId) === plan) parkInBay(car, plan);
    });
  }

  private queued(car: SimCar, res: BookingResponseMsg, plan: Plan | undefined): void {
    // A late queued decision (relayed through the bus) must not stop a car already promoted and driving.
    if (plan && plan.bookingId === res.booking_id && plan.phase !== 'queued') return;
    this.counts.queued++;
    this.plans.set(car.carId, { phase: 'queued', bookingId: res.booking_id ?? '', kw: 0 });
    if (!atStation(car, plan?.station)) car.park();
  }

  private pluggedIn(car: SimCar, res: BookingResponseMsg, plan: Plan | undefined): void {
    const station = (res.station_id ? this.stations.get(res.station_id) : undefined) ?? plan?.station;
    if (!station) return;
    this.counts.chargingStarted++;
    const charging: Plan = { phase: 'charging', bookingId: res.booking_id ?? plan?.bookingId ?? '', station, kw: chargeRateKw(station.powerKw, this.carMaxKw) };
    this.plans.set(car.carId, charging);
    car.parkAt(station.lat, station.lon);
  }

  private completed(car: SimCar, res: BookingResponseMsg): void {
    const park = this.opts.afterCharge === 'park';
    this.counts.charged++;
    this.charged.add(car.carId);
    this.plans.delete(car.carId);
    this.logger.debug({ carId: car.carId, battery: round(car.battery), stationId: res.station_id }, park ? 'charged; parked' : 'charged; driving on');
    if (park) car.park();
    else car.resume();
  }

  private lostBooking(car: SimCar): void {
    this.plans.delete(car.carId);
    // Low cars wait (they would strand roaming); the next telemetry asks the coordinator again.
    if (car.battery < this.threshold) car.park();
    else car.resume();
  }
}

function parkInBay(car: SimCar, plan: Plan): void {
  car.parkAt(plan.station!.lat, plan.station!.lon);
  if (plan.phase === 'to_station') plan.phase = 'at_station';
}

function atStation(car: SimCar, station: Station | undefined): boolean {
  return Boolean(station && haversineKm(car.position, station) <= ARRIVED_KM);
}

const round = (v: number) => Math.round(v * 10) / 10;
