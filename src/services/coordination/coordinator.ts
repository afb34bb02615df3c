import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import {
  candidatesFor,
  holdRenewalMs,
  isCritical,
  planDeferral,
  resolvePolicy,
  scoreStations,
  wantsCharge,
  type PackLike,
  type PolicyParams,
} from '../../domain/booking-policy.js';
import { priceFnFromPoints, sessionMaths, type PriceFn } from '../../domain/charging.js';
import { TOPIC_EVENTS, topicName, type BookingEvent, type EventType, type TelemetryEvent } from '../../domain/events.js';
import { haversineKm } from '../../domain/geo.js';
import type { BookingResponseMsg, BookingStatusName } from '../../grpc/proto.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import type { ConsumedRecord, EventBus, Subscription } from '../../ports/event-bus.js';
import type { FleetState, Station } from '../../ports/fleet-state.js';
import type { PricePoint, PriceSource } from '../../ports/price-source.js';
import type { Booking, Candidate, Reservations, ReserveResult, StationStatus, Transition } from '../../ports/reservations.js';

/** What a car is told, on its stream, as a BookingResponse. */
export type DecisionStatus = 'confirmed' | 'queued' | 'failed' | 'expired' | 'cancelled' | 'charging' | 'completed' | 'deferred';

export interface Decision {
  bookingId: string;
  carId: string;
  stationId: string;
  status: DecisionStatus;
  message: string;
  timestamp: number;
  /** $/kWh when the decision was taken (the session average for `completed`). */
  priceRate: number;
  queuePosition: number;
  expiresAt: number;
  /** Machine-readable reason (no_reachable_station, expired, cancelled:requested…) or the deferral text. */
  reason: string;
  eventType: string;
}

/** BookingStatus names in proto/fleet.proto (a deferral is BOOKING_DEFERRED with the reason and expires_at = when). */
export const bookingStatusName: Record<DecisionStatus, BookingStatusName> = {
  confirmed: 'BOOKING_CONFIRMED',
  failed: 'BOOKING_FAILED',
  expired: 'BOOKING_EXPIRED',
  queued: 'BOOKING_QUEUED',
  cancelled: 'BOOKING_CANCELLED',
  charging: 'BOOKING_CHARGING',
  completed: 'BOOKING_COMPLETED',
  deferred: 'BOOKING_DEFERRED',
};

export function toBookingResponse(d: Decision): BookingResponseMsg {
  return {
    booking_id: d.bookingId,
    car_id: d.carId,
    station_id: d.stationId,
    status: bookingStatusName[d.status],
    message: d.message,
    timestamp: d.timestamp,
    price_rate: d.priceRate,
    queue_position: d.queuePosition,
    expires_at: d.expiresAt,
    reason: d.reason,
    event_type: d.eventType,
  };
}

const statusOfEvent: Partial<Record<EventType, DecisionStatus>> = {
  booking_confirmed: 'confirmed',
  booking_queued: 'queued',
  booking_failed: 'failed',
  booking_expired: 'expired',
  booking_cancelled: 'cancelled',
  charging_started: 'charging',
  charging_completed: 'completed',
};

/**
 * A decision is a pure function of its booking event, so any ingestion instance that holds the
 * car's stream can deliver it from the bus, whoever took it.
 */
export function decisionFromEvent(e: BookingEvent): Decision | null {
  const status = statusOfEvent[e.event_type];
  if (!status || !e.booking_id) return null;
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    bookingId: e.booking_id,
    carId: e.car_id,
    stationId: e.station_id ?? '',
    status,
    message: s(e.message) || status,
    timestamp: e.timestamp,
    priceRate: n(e.price_rate),
    queuePosition: n(e.queue_position),
    expiresAt: n(e.expires_at),
    reason: s(e.reason),
    eventType: e.event_type,
  };
}

export interface CoordinatorDeps {
  reservations: Reservations;
  /** For nearest() by GEOSEARCH and the position of cars asking through RequestBooking. */
  fleet?: FleetState;
  bus: EventBus;
  prices?: PriceSource;
  stations: Station[];
  namespace?: string;
  logger?: Logger;
  registry?: Registry;
  pack?: PackLike;
  policy?: Parameters<typeof resolvePolicy>[0];
  /**
   * Reservation clock; defaults to Date.now. 'event-time' follows the telemetry's own timestamps
   * (a watermark that also advances with the wall clock), so a simulator running --speed 60 gets
   * holds, expiry and session times in simulated time without telling the coordinator its speed.
   */
  clock?: (() => number) | 'event-time';
  /** Pushes a decision to the car's stream here; returns false when the car is not connected here. */
  deliver?: (carId: string, decision: Decision) => boolean | void;
  /** Identifies this instance in events (origin_instance) so it skips its own when routing. */
  instanceId?: string;
  /** Deliver decisions taken by other instances to cars connected here, via the bus (default: when deliver is set). */
  routeViaBus?: boolean;
  sweepIntervalMs?: number;
  arrivalRadiusM?: number;
  /** A charging car farther than this from its station drove away: its session ends. */
  departRadiusM?: number;
  /** Load `stations` into the reservations at start (default true). */
  loadStations?: boolean;
  /**
   * A car that stopped streaming loses its booking (hold or queue entry cancelled, session completed,
   * reason lost_contact) once unseen for this long in the coordinator's clock (default 10 min)…
   */
  staleAfterMs?: number;
  /** …and for this long in wall time (default 60 s), so a sped-up simulation's fast clock never drops a live car. */
  staleAfterWallMs?: number;
}

export interface BookingRequestInput {
  carId: string;
  /** A preferred station (the original BookingRequest.station_id); empty lets the policy choose. */
  stationId?: string;
  /** Unix ms; sets the hold to arrival + grace (capped). */
  expectedArrival?: number;
  battery?: number;
  lat?: number;
  lon?: number;
  /** Idempotency key; derived from the car and expected arrival when absent. */
  bookingId?: string;
  /** Skip price-aware deferral (an explicit request means "now"). Default true for RPCs. */
  noDefer?: boolean;
}

export interface NearestRow {
  station: Station;
  distanceKm: number;
  driveMin: number;
  freePorts: number;
  holds: number;
  charging: number;
  queueLength: number;
}

export interface Coordinator {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  onTelemetry(events: TelemetryEvent[]): Promise<void>;
  requestBooking(req: BookingRequestInput): Promise<Decision>;
  cancelBooking(req: { carId?: string; bookingId?: string; reason?: string }): Promise<Decision>;
  nearest(lat: number, lon: number, opts?: { limit?: number; available?: boolean }): Promise<NearestRow[]>;
  /** Runs one expiry sweep now; returns how many holds expired. */
  sweep(): Promise<number>;
  /** Routes booking events taken elsewhere to cars connected here (wired to the bus by start()). */
  onBusRecords(records: { value: string }[]): void;
  readonly decisions$: { subscribe(fn: (d: Decision) => void): () => void };
  readonly instanceId: string;
  /** The reservation clock (event time when so configured): what expiry countdowns are measured against. */
  now?(): number;
}

const BOOKING_EVENT_TYPES = new Set<string>(Object.keys(statusOfEvent));

export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const logger = (deps.logger ?? silentLogger).child({ service: 'coordinator' });
  const policy: PolicyParams = resolvePolicy(deps.policy);
  const pack: PackLike = deps.pack ?? { capacityKwh: 75, whPerKm: 180, maxChargeKw: policy.carMaxKw };
  const watermark = { eventMs: 0, wallMs: 0 };
  const clock = deps.clock === 'event-time' ? () => Math.max(Date.now(), watermark.eventMs + (Date.now() - watermark.wallMs)) : (deps.clock ?? Date.now);
  const instanceId = deps.instanceId ?? `coord-${randomUUID().slice(0, 8)}`;
  const topic = topicName(deps.namespace ?? '', TOPIC_EVENTS);
  const stationsById = new Map(deps.stations.map((s) => [s.id, s]));
  const arrivalKm = (deps.arrivalRadiusM ?? 50) / 1000;
  const departKm = (deps.departRadiusM ?? 200) / 1000;
  const metrics = coordinatorMetrics(deps.registry);
  const subscribers = new Set<(d: Decision) => void>();
  const deferredUntil = new Map<string, number>();
  const criticalSent = new Set<string>();
  const lastRefresh = new Map<string, number>();
  /** Cars whose last request failed (no reachable station): retried after a pause, not on every message. */
  const failedAt = new Map<string, number>();
  const FAILED_RETRY_MS = 30_000;
  const staleAfterMs = deps.staleAfterMs ?? 10 * 60_000;
  const staleAfterWallMs = deps.staleAfterWallMs ?? 60_000;
  /** Cars' last touch of their booking (wall and clock ms): touches are throttled well inside both stale windows. */
  const lastTouch = new Map<string, { wall: number; clock: number }>();
  /** (wall, clock) pairs from recent sweeps: what the coordinator's clock read staleAfterWallMs ago. */
  const clockSamples: { wall: number; clock: number }[] = [];
  /** The nearest a held car has been to its station (renewals need it to keep approaching). */
  const approach = new Map<string, { bookingId: string; km: number }>();
  const APPROACH_KM = 0.1;
  const RENEW_STEP_MS = 60_000;
  let statusCache: { at: number; rows: Map<string, StationStatus> } | null = null;
  let priceCache: { at: number; price: number } | null = null;
  let forecastCache: { at: number; points: PricePoint[] } | null = null;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping = false;
  let subscription: Subscription | undefined;
  let started = false;

  // ---- events and decisions ----

  function eventFor(t: Transition, extra: Record<string, unknown> = {}): BookingEvent {
    const b = t.booking;
    const type: EventType = t.type === 'confirmed' || t.type === 'queued' || t.type === 'expired' || t.type === 'cancelled' ? `booking_${t.type}` : t.type;
    const e: BookingEvent = {
      event_id: `${b.bookingId}:${type}`,
      event_type: type,
      car_id: b.carId,
      timestamp: t.at,
      booking_id: b.bookingId,
      station_id: b.stationId ?? firstCandidate(b),
      battery: b.battery,
      critical: b.critical,
      origin_instance: instanceId,
      message: messageFor(t),
      ...extra,
    };
    if (t.type === 'confirmed') Object.assign(e, { expires_at: b.expiresAt, promoted: t.promoted });
    if (t.type === 'queued') Object.assign(e, { queue_position: t.position, reason: 'no_free_port' });
    if (t.type === 'expired' || t.type === 'cancelled') e.reason = b.endReason ?? t.type;
    return e;
  }

  async function emit(events: BookingEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const e of events) {
      metrics.bookings.inc({ status: e.event_type.replace(/^booking_/, '') });
    }
    try {
      await deps.bus.publish(topic, events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
    } catch (err) {
      // The reservation already changed; the event is lost for consumers. Loud, so operators see it.
      logger.error({ err, events: events.map((e) => e.event_id) }, 'could not publish coordination events');
    }
    for (const e of events) {
      const d = decisionFromEvent(e);
      if (d) pushDecision(d);
    }
  }

  function pushDecision(d: Decision): void {
    try {
      deps.deliver?.(d.carId, d);
    } catch (err) {
      logger.warn({ err, carId: d.carId }, 'deliver failed');
    }
    for (const fn of subscribers) fn(d);
  }

  async function emitTransitions(transitions: Transition[]): Promise<void> {
    const events: BookingEvent[] = [];
    const price = await currentPrice();
    for (const t of transitions) {
      events.push(t.type === 'charging_completed' ? await completedEvent(t) : eventFor(t, { price_rate: price }));
      logTransition(t);
    }
    await emit(events);
  }

  /** One info line per transition: the coordination story operators follow in the logs. */
  function logTransition(t: Transition): void {
    const b = t.booking;
    const fields = { carId: b.carId, stationId: b.stationId ?? undefined, bookingId: b.bookingId, battery: b.battery };
    if (t.type === 'queued') logger.info({ ...fields, position: t.position }, `booking queued at position ${t.position}`);
    else if (t.type === 'confirmed') logger.info(fields, t.promoted ? 'booking confirmed (promoted from the queue)' : 'booking confirmed');
    else if (t.type === 'charging_completed') logger.info({ ...fields, reason: b.endReason ?? undefined }, 'charging completed');
    else logger.info(fields, t.type === 'charging_started' ? 'charging started' : `booking ${t.type}`);
  }

  async function completedEvent(t: Transition): Promise<BookingEvent> {
    const b = t.booking;
    const startMs = b.chargingStartedAt ?? t.at;
    const startBattery = b.startBattery ?? b.battery;
    const endBattery = lastBattery.get(b.carId) ?? startBattery;
    const session = sessionMaths({ startMs, endMs: t.at, startBattery, endBattery, capacityKwh: pack.capacityKwh, price: await priceFnOver(startMs, t.at) });
    return eventFor(t, {
      session_id: b.bookingId,
      start_time: startMs,
      end_time: t.at,
      start_battery: startBattery,
      end_battery: endBattery,
      kwh: session.kwh,
      cost: session.cost,
      price_rate: session.avgPrice,
      duration_ms: session.durationMs,
      reason: b.endReason ?? 'completed',
    });
  }

  // ---- prices (cached: a decision never waits on the grid twice a second) ----

  async function currentPrice(): Promise<number> {
    const now = clock();
    if (!deps.prices) return 0;
    if (priceCache && now - priceCache.at < 60_000) return priceCache.price;
    try {
      priceCache = { at: now, price: (await deps.prices.priceAt(now)).price_per_kwh };
    } catch (err) {
      logger.warn({ err }, 'price unavailable; using the last known');
    }
    return priceCache?.price ?? 0;
  }

  async function forecast(): Promise<PricePoint[]> {
    const now = clock();
    if (!deps.prices) return [];
    if (forecastCache && now - forecastCache.at < 5 * 60_000) return forecastCache.points;
    try {
      forecastCache = { at: now, points: await deps.prices.forecast(now, policy.deferral.maxDeferHours, 15) };
    } catch (err) {
      logger.warn({ err }, 'forecast unavailable; no deferral');
      return [];
    }
    return forecastCache.points;
  }

  async function priceFnOver(fromMs: number, toMs: number): Promise<PriceFn> {
    if (!deps.prices) return () => 0;
    try {
      const hours = Math.max(1, Math.ceil((toMs - fromMs) / 3_600_000) + 1);
      const points = await deps.prices.forecast(fromMs, hours, 1); // minute steps: the session's cost follows the curve closely
      if (points.length > 0) return priceFnFromPoints(points);
    } catch (err) {
      logger.warn({ err }, 'price curve unavailable for the session; using the current price');
    }
    const p = await currentPrice();
    return () => p;
  }

  async function stationStatus(maxAgeMs = 250): Promise<Map<string, StationStatus>> {
    const now = clock();
    if (statusCache && now - statusCache.at < maxAgeMs) return statusCache.rows;
    const rows = await deps.reservations.stationStatus();
    statusCache = { at: now, rows: new Map(rows.map((r) => [r.id, r])) };
    return statusCache.rows;
  }

  // ---- booking ----

  interface CarAsk {
    carId: string;
    battery: number;
    lat?: number;
    lon?: number;
    bookingId: string;
    stationId?: string;
    expectedArrival?: number;
    noDefer?: boolean;
  }

  async function book(ask: CarAsk): Promise<Decision> {
    const now = clock();
    const critical = isCritical(ask.battery, policy);
    if (!critical && !ask.noDefer) {
      const deferral = deps.prices ? planDeferral({ battery: ask.battery, nowMs: now, currentPrice: await currentPrice(), forecast: await forecast(), params: policy }) : null;
      if (deferral) {
        deferredUntil.set(ask.carId, deferral.deferUntil);
        metrics.deferrals.inc();
        logger.info({ carId: ask.carId, until: deferral.deferUntil, savings: deferral.savingsPerKwh }, deferral.reason);
        const d: Decision = { ...blankDecision(ask.carId, now), bookingId: '', status: 'deferred', message: deferral.reason, reason: deferral.reason, priceRate: deferral.pricePerKwh, expiresAt: deferral.deferUntil };
        pushDecision(d);
        return d;
      }
    }
    deferredUntil.delete(ask.carId);
    const candidates = await candidatesForAsk(ask, now);
    if (candidates.length === 0) return failed(ask, now, ask.stationId ? 'unknown_station' : 'no_reachable_station');
    const result = await deps.reservations.reserve({ bookingId: ask.bookingId, carId: ask.carId, candidates, holdMs: candidates[0].holdMs ?? policy.maxHoldMs, nowMs: now, battery: ask.battery, critical });
    await emitTransitions(result.transitions);
    statusCache = null;
    return decisionForResult(result, ask, now);
  }

  async function candidatesForAsk(ask: CarAsk, now: number): Promise<Candidate[]> {
    const arrivalHold = ask.expectedArrival ? Math.min(policy.maxHoldMs, Math.max(policy.minHoldMs, ask.expectedArrival - now + policy.graceMs)) : undefined;
    if (ask.stationId) {
      return stationsById.has(ask.stationId) ? [{ stationId: ask.stationId, score: 0, holdMs: arrivalHold ?? policy.maxHoldMs }] : [];
    }
    if (ask.lat === undefined || ask.lon === undefined) return [];
    const price = await currentPrice();
    const scored = scoreStations({ car: { lat: ask.lat, lon: ask.lon, battery: ask.battery }, stations: deps.stations, status: await stationStatus(), pack, price: () => price, params: policy });
    return candidatesFor(scored, policy).map((c) => (arrivalHold ? { ...c, holdMs: arrivalHold } : c));
  }

  async function failed(ask: CarAsk, now: number, reason: string): Promise<Decision> {
    const e: BookingEvent = {
      event_id: `${ask.bookingId}:booking_failed`,
      event_type: 'booking_failed',
      car_id: ask.carId,
      timestamp: now,
      booking_id: ask.bookingId,
      station_id: ask.stationId ?? '',
      battery: ask.battery,
      reason,
      message: reason === 'no_reachable_station' ? 'no station within the remaining range' : `cannot book: ${reason}`,
      origin_instance: instanceId,
    };
    await emit([e]);
    return decisionFromEvent(e)!;
  }

  function decisionForResult(result: ReserveResult, ask: CarAsk, now: number): Decision {
    if (result.status === 'failed') {
      return { ...blankDecision(ask.carId, now), bookingId: ask.bookingId, status: 'failed', reason: result.reason, message: `cannot book: ${result.reason}` };
    }
    const b = result.status === 'duplicate' ? result.existing : result.booking;
    const d = decisionOfBooking(b, now);
    if (result.status === 'queued') d.queuePosition = result.position;
    if (result.status === 'duplicate') d.message = `already has booking ${b.bookingId} (${b.status})`;
    return d;
  }

  // ---- telemetry ----

  const lastBattery = new Map<string, number>();

  async function handleCar(e: TelemetryEvent, booking: Booking | undefined): Promise<void> {
    lastBattery.set(e.car_id, e.battery);
    await criticalCheck(e);
    if (booking?.status !== 'held') approach.delete(e.car_id);
    if (!booking) {
      if (!wantsCharge(e.battery, policy)) return;
      const until = deferredUntil.get(e.car_id);
      if (until && until > clock() && !isCritical(e.battery, policy)) return;
      if ((failedAt.get(e.car_id) ?? -Infinity) + FAILED_RETRY_MS > clock()) return;
      const d = await book({ carId: e.car_id, battery: e.battery, lat: e.lat, lon: e.lon, bookingId: `bk-${e.car_id}-${e.timestamp}` });
      if (d.status === 'failed') failedAt.set(e.car_id, clock());
      else failedAt.delete(e.car_id);
      return;
    }
    const station = booking.stationId ? stationsById.get(booking.stationId) : undefined;
    const distanceKm = station ? haversineKm(e, station) : Infinity;
    if (booking.status === 'held' && station && distanceKm <= arrivalKm) {
      const res = await deps.reservations.startCharging(e.car_id, station.id, clock(), e.battery);
      await emitTransitions(res.transitions);
    } else if (booking.status === 'held' && station) {
      await renewHold(e.car_id, booking, distanceKm);
    } else if (booking.status === 'charging') {
      const reason = distanceKm > departKm ? 'drove_away' : e.battery >= policy.targetPct ? 'target_reached' : null;
      if (reason) await emitTransitions((await deps.reservations.completeCharging(e.car_id, clock(), reason)).transitions);
    } else if (booking.status === 'queued') {
      await refreshUrgency(e, booking);
    }
  }

  /**
   * A held car seen getting closer keeps its hold: renewed to the remaining drive at the margin plus
   * the grace (at most maxHold from now), so a far hold is not lost on the way; a car that stops
   * approaching or streaming loses it within maxHold.
   */
  async function renewHold(carId: string, booking: Booking, distanceKm: number): Promise<void> {
    const ref = approach.get(carId);
    if (ref && ref.bookingId === booking.bookingId && distanceKm > ref.km - APPROACH_KM) return;
    approach.set(carId, { bookingId: booking.bookingId, km: distanceKm });
    const now = clock();
    const until = now + holdRenewalMs(distanceKm, policy);
    if (until - (booking.expiresAt ?? 0) < RENEW_STEP_MS) return;
    const res = await deps.reservations.extendHold(booking.bookingId, until, now);
    if (res.ok) logger.debug({ carId, bookingId: booking.bookingId, distanceKm, expiresAt: res.booking?.expiresAt }, 'hold renewed: car approaching');
  }

  /** Refreshes lastSeenAt of the active bookings of cars streaming here, at most every few (wall and clock) seconds per car. */
  async function touchSeen(carIds: string[]): Promise<void> {
    const wall = Date.now();
    const now = clock();
    const due = carIds.filter((id) => {
      const t = lastTouch.get(id);
      return !t || (wall - t.wall >= staleAfterWallMs / 6 && now - t.clock >= staleAfterMs / 10);
    });
    if (due.length === 0) return;
    for (const id of due) lastTouch.set(id, { wall, clock: now });
    await deps.reservations.touch(due, now);
  }

  /** Bookings whose car was last seen before this are stale: unseen for staleAfterMs of clock and staleAfterWallMs of wall time. */
  function staleCutoff(): number | undefined {
    const wall = Date.now();
    const now = clock();
    clockSamples.push({ wall, clock: now });
    const horizon = wall - staleAfterWallMs;
    while (clockSamples.length > 1 && clockSamples[1].wall <= horizon) clockSamples.shift();
    if (clockSamples[0].wall > horizon) return undefined; // not running long enough to judge
    return Math.min(now - staleAfterMs, clockSamples[0].clock);
  }

  /** A queued car's battery keeps falling: refresh its place when it moved a point or turned critical. */
  async function refreshUrgency(e: TelemetryEvent, booking: Booking): Promise<void> {
    const critical = isCritical(e.battery, policy);
    const last = lastRefresh.get(e.car_id) ?? booking.battery;
    if (critical === booking.critical && Math.abs(last - e.battery) < 1) return;
    lastRefresh.set(e.car_id, e.battery);
    await deps.reservations.reserve({ bookingId: booking.bookingId, carId: e.car_id, candidates: booking.candidates, holdMs: booking.holdMs, nowMs: clock(), battery: e.battery, critical });
  }

  async function criticalCheck(e: TelemetryEvent): Promise<void> {
    if (!isCritical(e.battery, policy)) {
      criticalSent.delete(e.car_id);
      return;
    }
    if (criticalSent.has(e.car_id)) return;
    criticalSent.add(e.car_id);
    const event: BookingEvent = {
      event_id: `${e.car_id}:battery_critical:${e.timestamp}`,
      event_type: 'battery_critical',
      car_id: e.car_id,
      timestamp: e.timestamp,
      battery: e.battery,
      lat: e.lat,
      lon: e.lon,
      origin_instance: instanceId,
    };
    await emit([event]);
  }

  async function sweep(): Promise<number> {
    if (sweeping) return 0;
    sweeping = true;
    try {
      const res = await deps.reservations.expireDue(clock(), 500);
      await emitTransitions(res.transitions);
      const seenBefore = staleCutoff();
      const stale = seenBefore === undefined ? { expired: [], transitions: [] } : await deps.reservations.expireStale(seenBefore, clock(), 500);
      if (stale.expired.length > 0) logger.info({ cars: stale.expired.map((b) => b.carId).slice(0, 20), count: stale.expired.length }, 'bookings of cars no longer streaming ended (lost_contact)');
      await emitTransitions(stale.transitions);
      if (res.transitions.length + stale.transitions.length > 0) statusCache = null;
      await updateGauges();
      return res.expired.length;
    } catch (err) {
      logger.error({ err }, 'expiry sweep failed');
      return 0;
    } finally {
      sweeping = false;
    }
  }

  async function updateGauges(): Promise<void> {
    for (const s of (await stationStatus(1_000)).values()) {
      metrics.holds.set({ station: s.id }, s.holds);
      metrics.sessions.set({ station: s.id }, s.charging);
      metrics.queue.set({ station: s.id }, s.queueLength);
    }
  }

  function onBusRecords(records: { value: string }[]): void {
    for (const r of records) {
      let e: BookingEvent;
      try {
        e = JSON.parse(r.value) as BookingEvent;
      } catch {
        continue;
      }
      if (!BOOKING_EVENT_TYPES.has(e.event_type) || e.origin_instance === instanceId) continue;
      const d = decisionFromEvent(e);
      if (d) pushDecision(d);
    }
  }

  return {
    instanceId,
    now: clock,
    decisions$: {
      subscribe(fn) {
        subscribers.add(fn);
        return () => subscribers.delete(fn);
      },
    },
    async start() {
      if (started) return;
      if (deps.loadStations !== false) await emitTransitions(await deps.reservations.loadStations(deps.stations, clock()));
      if (deps.routeViaBus ?? Boolean(deps.deliver)) {
        await deps.bus.ensureTopics([topic]);
        subscription = await deps.bus.subscribe({
          topic,
          groupId: `${deps.namespace ? deps.namespace + '.' : ''}greenlane-decisions-${instanceId}`,
          fromBeginning: false,
          handleBatch: async (records: ConsumedRecord[]) => onBusRecords(records),
        });
      }
      const interval = deps.sweepIntervalMs ?? 250;
      if (interval > 0) {
        sweepTimer = setInterval(() => void sweep(), interval);
        sweepTimer.unref();
      }
      started = true;
      logger.info({ instanceId, stations: deps.stations.length }, 'coordinator started');
    },
    async stop() {
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = undefined;
      await subscription?.stop();
      subscription = undefined;
      started = false;
    },
    ready: () => started,
    async onTelemetry(events) {
      // The latest event per car is what matters; cars are independent, so handle them concurrently.
      const latest = new Map<string, TelemetryEvent>();
      for (const e of events) {
        if (e.timestamp > watermark.eventMs) Object.assign(watermark, { eventMs: e.timestamp, wallMs: Date.now() });
        const prev = latest.get(e.car_id);
        if (!prev || prev.timestamp <= e.timestamp) latest.set(e.car_id, e);
      }
      if (latest.size === 0) return;
      const active = await deps.reservations.activeBookings([...latest.keys()]);
      await touchSeen([...active.keys()]).catch((err) => logger.warn({ err }, 'touch failed'));
      await Promise.all(
        [...latest.values()].map((e) =>
          handleCar(e, active.get(e.car_id)).catch((err) => logger.error({ err, carId: e.car_id }, 'telemetry decision failed')),
        ),
      );
    },
    async requestBooking(req) {
      let { lat, lon, battery } = req;
      if ((lat === undefined || lon === undefined || battery === undefined) && deps.fleet) {
        const car = await deps.fleet.getCar(req.carId);
        lat ??= car?.lat;
        lon ??= car?.lon;
        battery ??= car?.battery;
      }
      const bookingId = req.bookingId ?? `bk-${req.carId}-${req.expectedArrival || clock()}`;
      return book({ carId: req.carId, battery: battery ?? policy.requestThresholdPct, lat, lon, bookingId, stationId: req.stationId || undefined, expectedArrival: req.expectedArrival || undefined, noDefer: req.noDefer ?? true });
    },
    async cancelBooking(req) {
      const now = clock();
      const target = req.bookingId ? { bookingId: req.bookingId } : { carId: req.carId ?? '' };
      const res = await deps.reservations.cancel(target, now, req.reason ?? 'requested');
      await emitTransitions(res.transitions);
      statusCache = null;
      if (!res.ok) {
        return { ...blankDecision(req.carId ?? res.booking?.carId ?? '', now), bookingId: req.bookingId ?? '', status: 'failed', reason: res.reason ?? 'not_found', message: `nothing to cancel: ${res.reason}` };
      }
      return decisionOfBooking(res.booking!, now);
    },
    async nearest(lat, lon, opts = {}) {
      const limit = opts.limit ?? 5;
      const fetch = opts.available ? deps.stations.length : limit;
      const near = deps.fleet
        ? await deps.fleet.nearestStations(lat, lon, fetch)
        : deps.stations.map((station) => ({ station, distanceKm: haversineKm({ lat, lon }, station) })).sort((a, b) => a.distanceKm - b.distanceKm).slice(0, fetch);
      const status = await stationStatus();
      return near
        .map(({ station, distanceKm }): NearestRow => {
          const s = status.get(station.id);
          const holds = s?.holds ?? 0;
          const charging = s?.charging ?? 0;
          const ports = s?.ports ?? station.ports;
          return { station, distanceKm, driveMin: ((distanceKm * policy.roadFactor) / policy.avgSpeedKmh) * 60, freePorts: Math.max(0, ports - holds - charging), holds, charging, queueLength: s?.queueLength ?? 0 };
        })
        .filter((r) => !opts.available || r.freePorts > 0)
        .slice(0, limit);
    },
    sweep,
    onBusRecords,
  };
}

function firstCandidate(b: Booking): string {
  return b.candidates[0]?.stationId ?? '';
}

function blankDecision(carId: string, now: number): Decision {
  return { bookingId: '', carId, stationId: '', status: 'failed', message: '', timestamp: now, priceRate: 0, queuePosition: 0, expiresAt: 0, reason: '', eventType: '' };
}

const bookingDecision: Record<Booking['status'], DecisionStatus> = {
  held: 'confirmed',
  queued: 'queued',
  charging: 'charging',
  expired: 'expired',
  cancelled: 'cancelled',
  completed: 'completed',
};

function decisionOfBooking(b: Booking, now: number): Decision {
  const status = bookingDecision[b.status];
  return {
    ...blankDecision(b.carId, now),
    bookingId: b.bookingId,
    stationId: b.stationId ?? '',
    status,
    expiresAt: b.expiresAt ?? 0,
    reason: b.endReason ?? '',
    message: status === 'confirmed' ? `port held at ${b.stationId} until ${new Date(b.expiresAt ?? 0).toISOString()}` : status,
  };
}

function messageFor(t: Transition): string {
  const b = t.booking;
  switch (t.type) {
    case 'confirmed':
      return `${t.promoted ? 'promoted: ' : ''}port held at ${b.stationId} until ${new Date(b.expiresAt ?? 0).toISOString()}`;
    case 'queued':
      return `all reachable ports taken; queued at position ${t.position}`;
    case 'expired':
      return `hold at ${b.stationId} expired before arrival`;
    case 'cancelled':
      return `booking cancelled (${b.endReason ?? 'requested'})`;
    case 'charging_started':
      return `charging at ${b.stationId}`;
    case 'charging_completed':
      return `charging finished at ${b.stationId} (${b.endReason ?? 'completed'})`;
  }
}

interface CoordinatorMetrics {
  bookings: Counter<'status'>;
  deferrals: Counter;
  holds: Gauge<'station'>;
  sessions: Gauge<'station'>;
  queue: Gauge<'station'>;
}

/** Registers once per registry (several coordinators may share one in tests or `up`). */
function coordinatorMetrics(registry = new Registry()): CoordinatorMetrics {
  const get = <M extends Metric>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  const registers = [registry];
  return {
    bookings: get('greenlane_coordinator_bookings_total', () => new Counter({ name: 'greenlane_coordinator_bookings_total', help: 'Coordination transitions by status', labelNames: ['status'], registers })),
    deferrals: get('greenlane_coordinator_deferrals_total', () => new Counter({ name: 'greenlane_coordinator_deferrals_total', help: 'Requests deferred to a cheaper price window', registers })),
    holds: get('greenlane_coordinator_station_holds', () => new Gauge({ name: 'greenlane_coordinator_station_holds', help: 'Ports held for arriving cars', labelNames: ['station'], registers })),
    sessions: get('greenlane_coordinator_station_sessions', () => new Gauge({ name: 'greenlane_coordinator_station_sessions', help: 'Charging sessions in progress', labelNames: ['station'], registers })),
    queue: get('greenlane_coordinator_station_queue_length', () => new Gauge({ name: 'greenlane_coordinator_station_queue_length', help: 'Queued cars that can reach the station', labelNames: ['station'], registers })),
  };
}
