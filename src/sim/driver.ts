import { chargeBattery } from '../domain/battery.js';
import { chargeRateKw, DEFAULT_TARGET_PCT } from '../domain/charging.js';
import { haversineKm } from '../domain/geo.js';
import type { SimCar } from '../domain/manhattan.js';
import type { BookingResponseMsg } from '../grpc/proto.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';
import type { Simulator } from './simulator.js';

/**
 * The simulated cars' side of coordination: they obey the decisions pushed down their streams.
 * confirmed → drive to the booked station along the grid and park in its bay; charging → stay
 * plugged in and charge at min(port, car) kW in simulated time up to the target; completed → roam
 * again; queued → wait parked (a low car that roams while it waits strands); expired, cancelled
 * or failed → a low car waits where it is, and its next telemetry asks again; deferred → a low car
 * waits parked for the cheaper window (its telemetry asks again then).
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

export interface SimDriver {
  /** Decisions obeyed so far. */
  counts(): DriverCounts;
  /** What the fleet is doing right now. */
  now(): FleetNow;
  /** Cars that reached 0 %. */
  readonly stranded: ReadonlySet<string>;
  /** Cars that completed at least one session. */
  readonly charged: ReadonlySet<string>;
  detach(): void;
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

export function attachSimDriver(sim: Pick<Simulator, 'onResponse' | 'onTick' | 'car' | 'cars'>, opts: SimDriverOptions): SimDriver {
  const logger = opts.logger.child({ service: 'sim-driver' });
  const stations = new Map(opts.stations.map((s) => [s.id, s]));
  const target = opts.targetPct ?? DEFAULT_TARGET_PCT;
  const carMaxKw = opts.carMaxKw ?? 150;
  const threshold = opts.requestThresholdPct ?? 30;
  const unpluggedAfterMs = opts.unpluggedAfterMs ?? 15 * 60_000;
  const plans = new Map<string, Plan>();
  const stranded = new Set<string>();
  const charged = new Set<string>();
  const counts: DriverCounts = { confirmed: 0, queued: 0, chargingStarted: 0, charged: 0, expired: 0, cancelled: 0, failed: 0, deferred: 0, stranded: 0 };
  let last = { ...counts };

  function onResponse(car: SimCar, res: BookingResponseMsg): void {
    const plan = plans.get(car.carId);
    const current = !plan || plan.bookingId === res.booking_id;
    switch (res.status) {
      case 'BOOKING_CONFIRMED':
        return confirmed(car, res);
      case 'BOOKING_QUEUED':
        // A late queued decision (relayed through the bus) must not stop a car already promoted and driving.
        if (plan && plan.bookingId === res.booking_id && plan.phase !== 'queued') return;
        counts.queued++;
        plans.set(car.carId, { phase: 'queued', bookingId: res.booking_id ?? '', kw: 0 });
        if (!atStation(car, plan?.station)) car.park();
        return;
      case 'BOOKING_CHARGING':
        return pluggedIn(car, res, plan);
      case 'BOOKING_COMPLETED':
        if (!current) return;
        counts.charged++;
        charged.add(car.carId);
        plans.delete(car.carId);
        logger.debug({ carId: car.carId, battery: round(car.battery), stationId: res.station_id }, opts.afterCharge === 'park' ? 'charged; parked' : 'charged; driving on');
        if (opts.afterCharge === 'park') car.park();
        else car.resume();
        return;
      case 'BOOKING_EXPIRED':
      case 'BOOKING_CANCELLED':
        if (!current) return;
        counts[res.status === 'BOOKING_EXPIRED' ? 'expired' : 'cancelled']++;
        return lostBooking(car);
      case 'BOOKING_FAILED':
        if (res.event_type !== 'booking_failed' || !current) return; // a rejected message, not a booking
        counts.failed++;
        return lostBooking(car);
      case 'BOOKING_DEFERRED':
        // Told to wait for a cheaper window (expires_at): a low car waits parked, so it keeps the range the
        // policy counted on; the coordinator asks again at the window, or earlier at the floor. A car that
        // follows a booking ignores a late deferral.
        if (plan) return;
        counts.deferred++;
        if (car.battery < threshold) car.park();
        return;
    }
  }

  function confirmed(car: SimCar, res: BookingResponseMsg): void {
    const station = res.station_id ? stations.get(res.station_id) : undefined;
    if (!station) {
      logger.warn({ carId: car.carId, stationId: res.station_id }, 'confirmed at a station this simulator does not know; ignoring');
      return;
    }
    const current = plans.get(car.carId);
    // A confirmation of an older booking arriving late must not pull a charging car out of its bay.
    if (current?.phase === 'charging' && current.bookingId !== res.booking_id) return;
    counts.confirmed++;
    const plan: Plan = { phase: 'to_station', bookingId: res.booking_id ?? '', station, kw: chargeRateKw(station.powerKw, carMaxKw) };
    plans.set(car.carId, plan);
    if (atStation(car, station)) return parkInBay(car, plan);
    // The grid reaches the intersection nearest the station; the bay itself may be off the grid.
    void car.driveTo(station.lat, station.lon).then((arrived) => {
      if (arrived && plans.get(car.carId) === plan) parkInBay(car, plan);
    });
  }

  function parkInBay(car: SimCar, plan: Plan): void {
    car.parkAt(plan.station!.lat, plan.station!.lon);
    if (plan.phase === 'to_station') plan.phase = 'at_station';
  }

  function pluggedIn(car: SimCar, res: BookingResponseMsg, plan: Plan | undefined): void {
    const station = (res.station_id ? stations.get(res.station_id) : undefined) ?? plan?.station;
    if (!station) return;
    counts.chargingStarted++;
    const charging: Plan = { phase: 'charging', bookingId: res.booking_id ?? plan?.bookingId ?? '', station, kw: chargeRateKw(station.powerKw, carMaxKw) };
    plans.set(car.carId, charging);
    car.parkAt(station.lat, station.lon);
  }

  function lostBooking(car: SimCar): void {
    plans.delete(car.carId);
    // Low cars wait (they would strand roaming); the next telemetry asks the coordinator again.
    if (car.battery < threshold) car.park();
    else car.resume();
  }

  function atStation(car: SimCar, station: Station | undefined): boolean {
    return Boolean(station && haversineKm(car.position, station) <= ARRIVED_KM);
  }

  function onTick(simNowMs: number, dtSec: number): void {
    for (const [carId, plan] of plans) {
      if (plan.phase !== 'charging') continue;
      const car = sim.car(carId);
      if (!car) continue;
      if (car.battery < target) {
        car.setBattery(Math.min(target, chargeBattery(car.pack, car.battery, plan.kw, dtSec / 3600).batteryPct));
        continue;
      }
      plan.fullSince ??= simNowMs;
      if (simNowMs - plan.fullSince > unpluggedAfterMs) {
        // The coordinator never closed the session: drive off, and it closes on departure.
        logger.warn({ carId, stationId: plan.station?.id }, 'full but the session is still open; driving off');
        plans.delete(carId);
        car.resume();
      }
    }
  }

  function checkStranded(car: SimCar): void {
    if (car.battery > 0 || stranded.has(car.carId)) return;
    stranded.add(car.carId);
    counts.stranded++;
    logger.warn({ carId: car.carId, ...car.position }, 'car stranded at 0 %');
  }

  function now(): FleetNow {
    const n: FleetNow = { drivingToStation: 0, waiting: 0, charging: 0 };
    for (const p of plans.values()) {
      if (p.phase === 'charging') n.charging++;
      else if (p.phase === 'queued') n.waiting++;
      else n.drivingToStation++;
    }
    return n;
  }

  function summarize(): void {
    const delta = (k: keyof DriverCounts) => counts[k] - last[k];
    logger.info(
      { ...now(), booked: delta('confirmed'), queued: delta('queued'), chargingStarted: delta('chargingStarted'), charged: delta('charged'), expired: delta('expired'), stranded: counts.stranded },
      `fleet: ${delta('confirmed')} booked, ${delta('queued')} queued, ${delta('chargingStarted')} started charging, ${delta('charged')} charged since last; now ${now().charging} charging, ${now().waiting} waiting in the queue`,
    );
    last = { ...counts };
  }

  const offResponse = sim.onResponse(onResponse);
  const offTick = sim.onTick((simNowMs, dtSec) => {
    onTick(simNowMs, dtSec);
    for (const car of sim.cars()) checkStranded(car);
  });
  const summaryTimer = opts.summaryEveryMs ? setInterval(summarize, opts.summaryEveryMs) : undefined;
  summaryTimer?.unref();

  return {
    counts: () => ({ ...counts }),
    now,
    stranded,
    charged,
    detach() {
      offResponse();
      offTick();
      if (summaryTimer) clearInterval(summaryTimer);
    },
  };
}

const round = (v: number) => Math.round(v * 10) / 10;
