import { candidatesFor, isCritical, openForTopUp, planDeferral, scoreStations, topUpBelowPct, topUpStations, type Candidate, type PackLike, type PolicyParams } from '../../domain/booking-policy.js';
import type { BookingRequest, Decision } from '../../domain/booking-request.js';
import type { Station } from '../../domain/charging.js';
import type { Logger } from '../../observability/logger.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { Reservations } from '../../ports/reservations.js';
import { decisionForCancel, decisionForResult, deferredDecision } from './decisions.js';
import { decisionFromEvent, failedEvent } from './event-codec.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { PriceCache } from './price-cache.js';
import { isOffline, STATION_OFFLINE_REASON } from './station-availability.js';
import type { StationStatusCache } from './status-cache.js';

/** A request ready to book: the car, its battery and the booking id are known. */
type Ask = BookingRequest & { carId: string; battery: number; bookingId: string };

export interface BookingFlowDeps {
  reservations: Pick<Reservations, 'reserve' | 'cancel' | 'outboxDepth'>;
  /** The position and battery of cars asking without them. */
  fleet?: Pick<FleetState, 'getCar'>;
  stations: Station[];
  policy: PolicyParams;
  pack: PackLike;
  now: () => number;
  prices: Pick<PriceCache, 'available' | 'current' | 'forecast'>;
  status: Pick<StationStatusCache, 'get' | 'invalidate'>;
  outbox: Pick<Outbox, 'emit' | 'emitTransitions' | 'push'>;
  metrics: Pick<CoordinatorMetrics, 'deferrals' | 'outboxRefusals'>;
  /** Most entries the outbox may hold: at or above it (the bus has been unreachable for long) new bookings are refused (0: no bound). */
  outboxMax?: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  instanceId: string;
}

/** How long to hold a port for a car that said when it arrives: arrival + grace, within [minHold, maxHold]. */
export function arrivalHoldMs(expectedArrival: number | undefined, now: number, p: Pick<PolicyParams, 'maxHoldMs' | 'minHoldMs' | 'graceMs'>): number | undefined {
  return expectedArrival ? Math.min(p.maxHoldMs, Math.max(p.minHoldMs, expectedArrival - now + p.graceMs)) : undefined;
}

/** Requests and cancellations: defer to a cheaper window, or score the stations and reserve. */
export class BookingFlow {
  private readonly deferred = new Map<string, number>();
  private readonly stationIds: Set<string>;

  constructor(private readonly o: BookingFlowDeps) {
    this.stationIds = new Set(o.stations.map((s) => s.id));
  }

  /** Until when the car was told to wait for a cheaper window (undefined: not deferred). */
  deferredUntil(carId: string): number | undefined {
    return this.deferred.get(carId);
  }

  /** An explicit request (RPC): missing position and battery come from the car's last telemetry; never deferred unless asked. */
  async request(req: BookingRequest & { carId: string }): Promise<Decision> {
    let { lat, lon, battery } = req;
    if ((lat === undefined || lon === undefined || battery === undefined) && this.o.fleet) {
      const car = await this.o.fleet.getCar(req.carId);
      lat ??= car?.lat;
      lon ??= car?.lon;
      battery ??= car?.battery;
    }
    const bookingId = req.bookingId ?? `bk-${req.carId}-${req.expectedArrival || this.o.now()}`;
    return this.book({
      carId: req.carId,
      battery: battery ?? this.o.policy.requestThresholdPct,
      lat,
      lon,
      bookingId,
      stationId: req.stationId || undefined,
      expectedArrival: req.expectedArrival || undefined,
      noDefer: req.noDefer ?? true,
    });
  }

  async cancel(req: { carId?: string; bookingId?: string; reason?: string }): Promise<Decision> {
    const now = this.o.now();
    const target = req.bookingId ? { bookingId: req.bookingId } : { carId: req.carId ?? '' };
    const res = await this.o.reservations.cancel(target, now, req.reason ?? 'requested');
    await this.o.outbox.emitTransitions(res.transitions);
    this.o.status.invalidate();
    return decisionForCancel(res, req, now);
  }

  async book(ask: Ask): Promise<Decision> {
    const now = this.o.now();
    const critical = isCritical(ask.battery, this.o.policy);
    if (!critical && !ask.noDefer) {
      const deferred = await this.defer(ask, now);
      if (deferred) return deferred;
    }
    this.deferred.delete(ask.carId);
    if (await this.outboxFull()) return this.refuse(ask, now);
    const candidates = await this.candidates(ask, now);
    if (candidates.length === 0) return this.fail(ask, now, ask.stationId ? (this.stationIds.has(ask.stationId) ? STATION_OFFLINE_REASON : 'unknown_station') : 'no_reachable_station');
    return this.reserve(ask, candidates, critical, now);
  }

  /** Below which battery cars that are not low top up now (topUpBelowPct; 0: none). */
  async topUpOpen(): Promise<number> {
    const { prices, policy } = this.o;
    if (!policy.topUp.enabled || !prices.available) return 0;
    return topUpBelowPct({ nowMs: this.o.now(), currentPrice: await prices.current(), forecast: await prices.forecast(), params: policy });
  }

  /**
   * A cheap-hour top-up for a car that is not low: only at a reachable station with a free port now,
   * never queued (a car that can still work should not park in a line); null when no port is free.
   */
  async topUp(ask: Ask): Promise<Decision | null> {
    const now = this.o.now();
    const free = await this.candidates(ask, now, true);
    if (free.length === 0) return null;
    // The ports seen free may be taken by the time the reservation runs (cars of one batch ask together):
    // the reservation must then fail, not queue the car (queue: false).
    const d = await this.reserve(ask, free, false, now, false);
    // A deferred car booked at its window is no longer deferred (or it would top up again below the target).
    if (d.status !== 'failed') this.deferred.delete(ask.carId);
    return d;
  }

  private async reserve(ask: Ask, candidates: Candidate[], critical: boolean, now: number, queue = true): Promise<Decision> {
    const holdMs = candidates[0].holdMs ?? this.o.policy.maxHoldMs;
    const result = await this.o.reservations.reserve({ bookingId: ask.bookingId, carId: ask.carId, candidates, holdMs, nowMs: now, battery: ask.battery, critical, queue });
    await this.o.outbox.emitTransitions(result.transitions);
    this.o.status.invalidate();
    return decisionForResult(result, ask, now);
  }

  /** Price-aware charging: the deferral decision when a cheaper window is worth waiting for. */
  private async defer(ask: Ask, now: number): Promise<Decision | null> {
    const { policy, prices } = this.o;
    const deferral = prices.available ? planDeferral({ battery: ask.battery, nowMs: now, currentPrice: await prices.current(), forecast: await prices.forecast(), params: policy }) : null;
    if (!deferral) return null;
    this.deferred.set(ask.carId, deferral.deferUntil);
    this.o.metrics.deferrals.inc();
    this.o.logger.info({ carId: ask.carId, until: deferral.deferUntil, savings: deferral.savingsPerKwh }, deferral.reason);
    const d = deferredDecision(ask.carId, now, deferral);
    this.o.outbox.push(d);
    return d;
  }

  private async candidates(ask: Ask, now: number, freeOnly = false): Promise<Candidate[]> {
    const { policy } = this.o;
    const arrivalHold = arrivalHoldMs(ask.expectedArrival, now, policy);
    // An operator may have taken a station offline (station-availability.ts): never a candidate then.
    const status = await this.o.status.get();
    // A top-up scores only the stations open for it (most cars try one every 30 s in a cheap hour, and a busy fleet has none).
    const open = this.o.stations.filter((s) => !isOffline(s, status.get(s.id)) && (!freeOnly || openForTopUp(status.get(s.id), policy)));
    if (ask.stationId) {
      return open.some((s) => s.id === ask.stationId) ? [{ stationId: ask.stationId, score: 0, holdMs: arrivalHold ?? policy.maxHoldMs }] : [];
    }
    if (ask.lat === undefined || ask.lon === undefined) return [];
    const price = await this.o.prices.current();
    const car = { lat: ask.lat, lon: ask.lon, battery: ask.battery };
    const scored = scoreStations({ car, stations: open, status, pack: this.o.pack, price: () => price, params: policy });
    return candidatesFor(freeOnly ? topUpStations(scored, status, policy) : scored, policy).map((c) => (arrivalHold ? { ...c, holdMs: arrivalHold } : c));
  }

  /** The outbox holds outboxMax entries or more (checked before each reservation, so it can pass the bound only by requests in flight). */
  private async outboxFull(): Promise<boolean> {
    const max = this.o.outboxMax ?? 0;
    return max > 0 && (await this.o.reservations.outboxDepth()) >= max;
  }

  /**
   * A booking refused because its events could not be published: told to the car with reason
   * outbox_full, and not written to the outbox (which must not grow); nothing changed, so nothing is lost.
   */
  private refuse(ask: Ask, now: number): Decision {
    this.o.metrics.outboxRefusals.inc();
    this.o.logger.warn({ carId: ask.carId, outboxMax: this.o.outboxMax }, 'booking refused: the outbox is full (booking events are not reaching the bus)');
    return { ...decisionFromEvent(failedEvent(ask, now, 'outbox_full', this.o.instanceId))!, message: `booking refused: ${this.o.outboxMax} booking events are waiting to be published (is Kafka reachable?); retry later` };
  }

  private async fail(ask: Ask, now: number, reason: string): Promise<Decision> {
    const e = failedEvent(ask, now, reason, this.o.instanceId);
    await this.o.outbox.emit([e]);
    return decisionFromEvent(e)!;
  }
}
