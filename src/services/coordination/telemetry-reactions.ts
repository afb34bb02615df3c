import { deferralFloorPct, isCritical, wantsCharge, wantsTopUp, type PolicyParams } from '../../domain/booking-policy.js';
import type { Station } from '../../domain/charging.js';
import type { TelemetryEvent } from '../../domain/events.js';
import { haversineKm } from '../../domain/geo.js';
import type { Logger } from '../../observability/logger.js';
import type { Booking, Reservations } from '../../ports/reservations.js';
import type { BookingFlow } from './booking-flow.js';
import { criticalEvent } from './event-codec.js';
import type { HoldRenewal } from './hold-renewal.js';
import type { Outbox } from './outbox.js';
import type { StaleCars } from './stale-cars.js';

/** A car whose last request failed (no reachable station) asks again after this pause, not on every message. */
export const FAILED_RETRY_MS = 30_000;

export interface TelemetryReactionsDeps {
  reservations: Pick<Reservations, 'activeBookings' | 'startCharging' | 'completeCharging' | 'reserve'>;
  stations: Station[];
  policy: PolicyParams;
  now: () => number;
  /** Each event's timestamp, for an event-time clock. */
  observe: (eventMs: number) => void;
  /** A car within this of its held station has arrived: charging starts. */
  arrivalKm: number;
  /** A charging car farther than this from its station drove away: its session ends. */
  departKm: number;
  flow: Pick<BookingFlow, 'book' | 'deferredUntil' | 'topUp' | 'topUpOpen'>;
  outbox: Pick<Outbox, 'emit' | 'emitTransitions'>;
  renewal: Pick<HoldRenewal, 'renew' | 'forget'>;
  stale: Pick<StaleCars, 'touch'>;
  logger: Pick<Logger, 'warn' | 'error'>;
  instanceId: string;
  /** Where each car's last reported battery is kept (a finished session's energy reads it). */
  lastBattery: Map<string, number>;
}

/** The latest event per car in a batch (ties: the later in the batch). */
export function latestPerCar(events: TelemetryEvent[]): Map<string, TelemetryEvent> {
  const latest = new Map<string, TelemetryEvent>();
  for (const e of events) {
    const prev = latest.get(e.car_id);
    if (!prev || prev.timestamp <= e.timestamp) latest.set(e.car_id, e);
  }
  return latest;
}

/**
 * What the coordinator does with a car's telemetry: ask for a port when low, start charging on
 * arrival, renew an approaching car's hold, end a session at the target or when the car drives
 * away, refresh a queued car's urgency, and announce a critical battery once.
 */
export class TelemetryReactions {
  private readonly criticalSent = new Set<string>();
  private readonly lastRefresh = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();
  private readonly stationsById: Map<string, Station>;

  constructor(private readonly o: TelemetryReactionsDeps) {
    this.stationsById = new Map(o.stations.map((s) => [s.id, s]));
  }

  /** Cars are independent, so their latest events are handled concurrently; one car's failure is logged, not thrown. */
  async onTelemetry(events: TelemetryEvent[]): Promise<void> {
    for (const e of events) this.o.observe(e.timestamp);
    const latest = latestPerCar(events);
    if (latest.size === 0) return;
    const active = await this.o.reservations.activeBookings([...latest.keys()]);
    const topUp = await this.o.flow.topUpOpen();
    await this.o.stale.touch([...active.keys()]).catch((err) => this.o.logger.warn({ err }, 'touch failed'));
    // Most cars need nothing (no booking, charged enough, not deferred): settled here without a
    // promise per car; only the cars whose state matters take the asynchronous path.
    const pending: Promise<void>[] = [];
    for (const e of latest.values()) {
      const booking = active.get(e.car_id);
      if (booking ? this.settleBookedCar(e, booking) : this.settleQuietCar(e, topUp)) continue;
      pending.push(this.handleCar(e, booking, topUp).catch((err) => this.o.logger.error({ err, carId: e.car_id }, 'telemetry decision failed')));
    }
    await Promise.all(pending);
  }

  /**
   * handleCar for a car without a booking, done synchronously when it can decide nothing: not
   * critical, above the request threshold, not deferred and not due a top-up (so askForCharge would
   * return at once). Same effects as handleCar in that case; false leaves the car to handleCar.
   */
  private settleQuietCar(e: TelemetryEvent, topUp: number): boolean {
    const { policy } = this.o;
    if (isCritical(e.battery, policy) || wantsCharge(e.battery, policy) || this.o.flow.deferredUntil(e.car_id) !== undefined) return false;
    if (wantsTopUp(e.battery, topUp, policy) && !this.failedRecently(e.car_id)) return false;
    this.o.lastBattery.set(e.car_id, e.battery);
    this.criticalSent.delete(e.car_id);
    this.o.renewal.forget(e.car_id);
    return true;
  }

  /**
   * handleCar for a queued or charging car, done synchronously when it can decide nothing: no
   * critical event due, a queued car's urgency unchanged, a session neither at its target nor driven
   * away from (most of a busy fleet's messages: thousands of queued cars report every step). Same
   * effects as handleCar in that case, without its promises; false leaves the car to handleCar.
   */
  private settleBookedCar(e: TelemetryEvent, booking: Booking): boolean {
    const critical = isCritical(e.battery, this.o.policy);
    if (critical && !this.criticalSent.has(e.car_id)) return false;
    if (booking.status === 'queued' ? this.urgencyChanged(e, booking, critical) : booking.status !== 'charging' || this.sessionEnd(e, booking) !== null) return false;
    this.o.lastBattery.set(e.car_id, e.battery);
    if (!critical) this.criticalSent.delete(e.car_id);
    this.o.renewal.forget(e.car_id);
    return true;
  }

  async handleCar(e: TelemetryEvent, booking: Booking | undefined, topUp = 0): Promise<void> {
    this.o.lastBattery.set(e.car_id, e.battery);
    await this.criticalCheck(e);
    if (booking?.status !== 'held') this.o.renewal.forget(e.car_id);
    if (booking) await this.followBooking(e, booking);
    else await this.askForCharge(e, topUp);
  }

  private failedRecently(carId: string): boolean {
    return (this.failedAt.get(carId) ?? -Infinity) + FAILED_RETRY_MS > this.o.now();
  }

  /**
   * A car without a booking asks below the threshold, unless it failed a moment ago or waits for a
   * cheaper window. A deferred car above the floor waits for its window; once it is open (its energy was
   * moved there, not dropped, so even above the threshold) the car charges where a port is free and
   * otherwise keeps working, as a top-up does: every car deferred in one evening gets the same window,
   * and asking together they queued as a herd. At the floor it asks as any low car (critical included).
   * In a cheap hour a car that is not low yet tops up where a port is free (BookingFlow.topUp).
   */
  private async askForCharge(e: TelemetryEvent, topUp: number): Promise<void> {
    const { policy, now } = this.o;
    const until = this.o.flow.deferredUntil(e.car_id);
    const deferred = until !== undefined && e.battery > deferralFloorPct(policy);
    if (deferred && (until > now() || e.battery >= policy.targetPct)) return;
    const due = !deferred && wantsCharge(e.battery, policy);
    if (!due && !deferred && !wantsTopUp(e.battery, topUp, policy)) return;
    if (this.failedRecently(e.car_id)) return;
    const ask = { carId: e.car_id, battery: e.battery, lat: e.lat, lon: e.lon, bookingId: `bk-${e.car_id}-${e.timestamp}` };
    const d = due ? await this.o.flow.book(ask) : await this.o.flow.topUp({ ...ask, noDefer: true });
    if (!d || d.status === 'failed') this.failedAt.set(e.car_id, now());
    else this.failedAt.delete(e.car_id);
  }

  private async followBooking(e: TelemetryEvent, booking: Booking): Promise<void> {
    const { reservations, outbox, now } = this.o;
    const station = this.stationOf(booking);
    if (booking.status === 'held' && station && haversineKm(e, station) <= this.o.arrivalKm) {
      await outbox.emitTransitions((await reservations.startCharging(e.car_id, station.id, now(), e.battery)).transitions);
    } else if (booking.status === 'held' && station) {
      await this.o.renewal.renew(e.car_id, booking, haversineKm(e, station));
    } else if (booking.status === 'charging') {
      const reason = this.sessionEnd(e, booking);
      if (reason) await outbox.emitTransitions((await reservations.completeCharging(e.car_id, now(), reason)).transitions);
    } else if (booking.status === 'queued') {
      await this.refreshUrgency(e, booking);
    }
  }

  private stationOf(booking: Booking): Station | undefined {
    return booking.stationId ? this.stationsById.get(booking.stationId) : undefined;
  }

  /** Why a charging car's session ends now: it drove away, or reached the target; null: it goes on. */
  private sessionEnd(e: TelemetryEvent, booking: Booking): 'drove_away' | 'target_reached' | null {
    const station = this.stationOf(booking);
    const distanceKm = station ? haversineKm(e, station) : Infinity;
    return distanceKm > this.o.departKm ? 'drove_away' : e.battery >= this.o.policy.targetPct ? 'target_reached' : null;
  }

  /** A queued car's place needs refreshing: it turned critical (or back), or its battery moved a point since the last refresh. */
  private urgencyChanged(e: TelemetryEvent, booking: Booking, critical: boolean): boolean {
    const last = this.lastRefresh.get(e.car_id) ?? booking.battery;
    return critical !== booking.critical || Math.abs(last - e.battery) >= 1;
  }

  /** A queued car's battery keeps falling: refresh its place when it moved a point or turned critical. */
  private async refreshUrgency(e: TelemetryEvent, booking: Booking): Promise<void> {
    const critical = isCritical(e.battery, this.o.policy);
    if (!this.urgencyChanged(e, booking, critical)) return;
    this.lastRefresh.set(e.car_id, e.battery);
    await this.o.reservations.reserve({ bookingId: booking.bookingId, carId: e.car_id, candidates: booking.candidates, holdMs: booking.holdMs, nowMs: this.o.now(), battery: e.battery, critical });
  }

  /** battery_critical once per drop below the critical level. */
  private async criticalCheck(e: TelemetryEvent): Promise<void> {
    if (!isCritical(e.battery, this.o.policy)) {
      this.criticalSent.delete(e.car_id);
      return;
    }
    if (this.criticalSent.has(e.car_id)) return;
    this.criticalSent.add(e.car_id);
    await this.o.outbox.emit([criticalEvent(e, this.o.instanceId)]);
  }
}
