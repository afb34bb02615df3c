import type { Candidate, StationStatus } from '../domain/booking-policy.js';
import type { BookingEvent } from '../domain/events.js';
import type { Station } from './fleet-state.js';

export type { Candidate, StationStatus };

/**
 * Port reservations, the urgency queue and charging sessions: the coordination state that must
 * be atomic across every ingestion instance. Kept apart from FleetState on purpose: it has
 * different consistency needs (every change is one Lua script in Redis) and its own contract suite.
 *
 * Time: every mutation takes the caller's `nowMs`, and the adapter keeps a monotonic clock
 * (effective now = max(nowMs, the latest now it has seen)), so transitions carry timestamps that
 * follow the order in which they really happened even when instances' clocks disagree slightly.
 */

export interface ReserveRequest {
  bookingId: string;
  carId: string;
  /** Best first. Unknown station ids are ignored. */
  candidates: Candidate[];
  holdMs: number;
  nowMs: number;
  /** Battery percent when asking: lower battery is served first in the queue. */
  battery: number;
  /** Below the critical level (15 % by default): first in the queue's order, and ahead of every non-critical car when a port is promoted (stationQueueScore). */
  critical: boolean;
  /**
   * false: when no candidate has a free port, fail with reason `no_free_port` and keep nothing, instead
   * of queueing (a cheap-hour top-up of a car that can still work). Default true. Both adapters decide it
   * inside their one atomic step (test/contract/reservations.contract.ts).
   */
  queue?: boolean;
}

export type BookingStatus = 'held' | 'queued' | 'charging' | 'expired' | 'cancelled' | 'completed';
export const activeStatuses: ReadonlySet<BookingStatus> = new Set(['held', 'queued', 'charging']);

export interface Booking {
  bookingId: string;
  carId: string;
  status: BookingStatus;
  /** The station holding a port for the car (null while queued). */
  stationId: string | null;
  candidates: Candidate[];
  holdMs: number;
  battery: number;
  critical: boolean;
  createdAt: number;
  updatedAt: number;
  queuedAt: number | null;
  confirmedAt: number | null;
  /** When the hold lapses (held only). */
  expiresAt: number | null;
  chargingStartedAt: number | null;
  /** Battery percent when charging started (kept here so any instance can close the session). */
  startBattery: number | null;
  endedAt: number | null;
  /** Why it ended: expired, cancelled:<reason>, completed:<reason>. */
  endReason: string | null;
  /** When the car was last seen (reservation clock): set at booking, refreshed by touch(); drives expireStale(). */
  lastSeenAt?: number | null;
}

/** What changed, in order, so the caller can emit one event per transition. */
export type Transition =
  | { type: 'confirmed'; at: number; booking: Booking; promoted: boolean }
  | { type: 'queued'; at: number; booking: Booking; position: number }
  | { type: 'expired'; at: number; booking: Booking }
  | { type: 'cancelled'; at: number; booking: Booking }
  | { type: 'charging_started'; at: number; booking: Booking }
  | { type: 'charging_completed'; at: number; booking: Booking };

export type ReserveResult = (
  | { status: 'confirmed'; stationId: string; expiresAt: number; booking: Booking; replayed: boolean }
  | { status: 'queued'; position: number; booking: Booking; replayed: boolean }
  /** The car already has another active booking, or this bookingId already ran its course. */
  | { status: 'duplicate'; existing: Booking }
  /** No candidate names a known station, or none is free for a request that must not queue. */
  | { status: 'failed'; reason: string }
) & { transitions: Transition[] };

export interface MutationResult {
  /** False when there was nothing to do (unknown booking, wrong station…); `reason` says why. */
  ok: boolean;
  reason?: string;
  booking?: Booking;
  transitions: Transition[];
}

export interface ExpireResult {
  expired: Booking[];
  transitions: Transition[];
}

export interface QueueEntry {
  position: number;
  booking: Booking;
}

/**
 * One record of the outbox: written in the same atomic step as the change it reports (a
 * transition), or appended on its own (an event that changes no reservation, e.g. booking_failed).
 * `id` orders the outbox (a Redis stream id: `<ms>-<seq>`); the relay publishes and then acks it.
 * `origin` names the instance whose handle wrote the entry (the adapter's `origin` option): the one
 * that decided, which the published event names as `origin_instance` even when another instance's
 * relay publishes it. Absent when the writer set no origin (then the relay names itself).
 */
export interface OutboxEntry {
  id: string;
  transition?: Transition;
  event?: BookingEvent;
  origin?: string;
}

/** A booking known from the log (the latest state the event log has for it), to rebuild lost state. */
export interface RestoredBooking {
  bookingId: string;
  carId: string;
  status: 'held' | 'queued' | 'charging';
  stationId: string | null;
  /** When the booking was made (its first event). */
  since: number;
  expiresAt: number | null;
  battery?: number;
}

export interface Reservations {
  readonly kind: 'memory' | 'redis';
  /** Sets each station's port count (stations not listed keep their state), then promotes into new capacity. */
  loadStations(stations: Station[], nowMs?: number): Promise<Transition[]>;
  /** Atomically takes a free port at the best candidate that has one, else queues the car. Idempotent on bookingId. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Cancels the booking (by booking id or car id), frees its port at once and promotes. */
  cancel(target: { bookingId: string } | { carId: string }, nowMs: number, reason?: string): Promise<MutationResult>;
  /** The car arrived: its hold at `stationId` becomes a charging session (battery: its percent on arrival). */
  startCharging(carId: string, stationId: string, nowMs: number, battery?: number): Promise<MutationResult>;
  /** Ends the car's session, frees the port and promotes. */
  completeCharging(carId: string, nowMs: number, reason?: string): Promise<MutationResult>;
  /** Expires up to `limit` holds due at nowMs (safe in every instance at once). */
  expireDue(nowMs: number, limit?: number): Promise<ExpireResult>;
  /**
   * Moves a held booking's expiry later (never earlier): the car is seen approaching its station.
   * No transition; ok false (reason not_held / not_found) when the booking is no longer held.
   */
  extendHold(bookingId: string, expiresAt: number, nowMs: number): Promise<MutationResult>;
  /** Records that these cars were seen at nowMs (their active bookings' lastSeenAt); cars without one are ignored. */
  touch(carIds: string[], nowMs: number): Promise<void>;
  /**
   * Ends up to `limit` active bookings whose car was last seen before `seenBeforeMs` (it stopped
   * streaming): a hold or queue entry is cancelled (`cancelled:lost_contact`), a session completed
   * (`completed:lost_contact`); freed ports are promoted. Safe in every instance at once.
   */
  expireStale(seenBeforeMs: number, nowMs: number, limit?: number): Promise<ExpireResult>;
  /** Gives free ports at the station to the most urgent queued cars that can reach it. */
  promote(stationId: string, nowMs: number): Promise<Transition[]>;
  stationStatus(): Promise<StationStatus[]>;
  booking(bookingId: string): Promise<Booking | null>;
  activeBookingForCar(carId: string): Promise<Booking | null>;
  /** Active bookings for many cars in one round trip (cars without one are absent). */
  activeBookings(carIds: string[]): Promise<Map<string, Booking>>;
  /** The queue in service order (most urgent first). */
  queue(limit?: number): Promise<QueueEntry[]>;
  /**
   * Up to `limit` outbox entries after `after` (null: from the oldest), in order. Every transition a
   * mutation returns is also in the outbox, appended in the same atomic step.
   */
  readOutbox(after: string | null, limit: number): Promise<OutboxEntry[]>;
  /** Appends events that change no reservation (booking_failed, battery_critical) to the outbox. */
  appendOutbox(events: BookingEvent[]): Promise<void>;
  /** Removes published entries (the broker acknowledged them). Returns how many were removed. */
  ackOutbox(ids: string[]): Promise<number>;
  /**
   * A lease so one relay publishes at a time across instances: true when `owner` holds it for `ttlMs`
   * from now (taken or renewed). A relay that loses it stops; duplicates in between are harmless.
   */
  leaseOutbox(owner: string, ttlMs: number): Promise<boolean>;
  /** Entries in the outbox not yet published (and acknowledged by the broker). */
  outboxDepth(): Promise<number>;
  /**
   * Rebuilds lost state: sets the stations' ports and restores each booking not already known
   * (held: a hold until its expiry; charging: a session; queued: at its station), in one atomic
   * step, without transitions (they happened already). Returns the bookings restored.
   */
  restore(stations: Station[], bookings: RestoredBooking[], nowMs: number): Promise<number>;
  /**
   * The state marker: a token written next to the state (res:marker in Redis) once it is known to be
   * whole. Null means the state was never built or was lost with it (Redis restarted without
   * persistence, or flushed), even when something has loaded the stations again since.
   */
  stateMarker(): Promise<string | null>;
  /** Sets the marker unless one is set (first writer wins) and returns the marker in place. */
  markState(candidate: string): Promise<string>;
  /** Every active booking (held, charging, queued), in no particular order: for operator listings. */
  listActive?(): Promise<Booking[]>;
  close(): Promise<void>;
}

/**
 * The order in which queued cars are promoted into a port freed at one station (each station has its
 * own order, because the drive differs): the lowest "ready time" = when the car queued
 * + DRIVE_WEIGHT × its drive to this station + BATTERY_MS_PER_PCT per battery point − CRITICAL_LEAD_MS
 * when critical (10 days: a critical car is never passed by a non-critical one). A freed port is held from the promotion until the car plugs in, so promoting the most
 * urgent car in town (the old rule) held ports idle for a median 22 min of driving in a herd of 1,000
 * (44 % of port-time, issue 10); among cars of the same class the one that can arrive soonest keeps
 * the port working, while the queue time and the battery term keep a far or low car from waiting for
 * ever. Integer and exact in a double (seconds < 2^31, times 2^21 sequence slots), so the Lua scripts
 * compute the same number (reservations-lib.lua station_score); ties go to the earlier enqueue.
 */
export const STATION_QUEUE = Object.freeze({ DRIVE_WEIGHT: 4, BATTERY_MS_PER_PCT: 120_000, CRITICAL_LEAD_MS: 864_000_000, SEQ_SLOTS: 2_097_152 });

export function stationQueueScore(o: { queuedAtMs: number; driveMs?: number; critical: boolean; battery: number; seq: number }): number {
  const pct = Math.min(100, Math.max(0, o.battery));
  const lead = o.critical ? STATION_QUEUE.CRITICAL_LEAD_MS : 0;
  // floor(x + 0.5), written as the Lua script writes it, so both round identically.
  const readySec = Math.floor((o.queuedAtMs + STATION_QUEUE.DRIVE_WEIGHT * (o.driveMs ?? 0) + pct * STATION_QUEUE.BATTERY_MS_PER_PCT - lead) / 1000 + 0.5);
  return readySec * STATION_QUEUE.SEQ_SLOTS + (o.seq % STATION_QUEUE.SEQ_SLOTS);
}

/** Queue order: critical first, then lowest battery, then longest waiting (enqueue sequence). */
export function urgencyRank(critical: boolean, battery: number): number {
  const pct = Math.min(100, Math.max(0, battery));
  return (critical ? 0 : 10_001) + Math.round(pct * 100);
}

/** The reservation a booking from the log becomes (its candidates: the one station the log names). */
export function restoredBooking(r: RestoredBooking, now: number): Booking {
  const candidates = r.stationId ? [{ stationId: r.stationId, score: 0 }] : [];
  return {
    bookingId: r.bookingId, carId: r.carId, status: r.status, stationId: r.status === 'queued' ? null : r.stationId, candidates,
    holdMs: r.expiresAt ? Math.max(0, r.expiresAt - r.since) : 15 * 60_000, battery: r.battery ?? 50, critical: false, createdAt: r.since, updatedAt: now,
    queuedAt: r.status === 'queued' ? r.since : null, confirmedAt: r.status === 'queued' ? null : r.since,
    expiresAt: r.status === 'held' ? (r.expiresAt ?? now) : null, chargingStartedAt: r.status === 'charging' ? r.since : null,
    startBattery: null, endedAt: null, endReason: null, lastSeenAt: now,
  };
}
