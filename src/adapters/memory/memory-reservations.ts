import type { BookingEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import {
  stationQueueScore,
  urgencyRank,
  type Booking,
  type OutboxEntry,
  restoredBooking,
  type RestoredBooking,
  type ExpireResult,
  type QueueEntry,
  type Reservations,
  type ReserveRequest,
  type ReserveResult,
  type StationStatus,
  type Transition,
} from '../../ports/reservations.js';

interface StationSlot {
  ports: number;
  holds: number;
  charging: number;
}

interface Queued {
  bookingId: string;
  rank: number;
  seq: number;
}

const byUrgency = (a: Queued, b: Queued): number => a.rank - b.rank || a.seq - b.seq;
const copy = (b: Booking): Booking => ({ ...b, candidates: b.candidates.map((c) => ({ ...c })) });

/**
 * The state of in-process reservations and the operations the public methods share. Every method
 * runs to completion synchronously, so each call is atomic, as a Lua script is.
 */
class ReservationBook {
  readonly stations = new Map<string, StationSlot>();
  readonly bookings = new Map<string, Booking>();
  readonly activeByCar = new Map<string, string>();
  readonly holdsByExpiry = new Set<string>();
  queue: Queued[] = [];
  /** Transitions and events to publish, in order; appended in the same synchronous step as the change. */
  outbox: OutboxEntry[] = [];
  lease: { owner: string; until: number } | null = null;
  private seq = 0;
  private outboxSeq = 0;
  private clock = 0;

  constructor(private readonly retentionMs: number) {}

  tick(nowMs: number): number {
    return (this.clock = Math.max(this.clock, nowMs));
  }

  /** Appends to the outbox (called before the mutation returns, so no other call runs in between). */
  record<T extends Transition[]>(ts: T): T {
    for (const t of ts) this.outbox.push({ id: this.nextOutboxId(), transition: structuredClone(t) });
    return ts;
  }

  nextOutboxId(): string {
    return `${Date.now()}-${++this.outboxSeq}`;
  }

  enqueueRestored(b: Booking): void {
    this.queue.push({ bookingId: b.bookingId, rank: urgencyRank(b.critical, b.battery), seq: ++this.seq });
    this.queue.sort(byUrgency);
  }

  isFree(slot: StationSlot): boolean {
    return slot.holds + slot.charging < slot.ports;
  }

  positionOf(bookingId: string): number {
    return this.queue.findIndex((q) => q.bookingId === bookingId) + 1;
  }

  /** The car's active booking, if it has one. */
  activeOf(carId: string): Booking | undefined {
    const id = this.activeByCar.get(carId);
    return id ? this.bookings.get(id) : undefined;
  }

  hold(b: Booking, stationId: string, holdMs: number, now: number): void {
    this.stations.get(stationId)!.holds++;
    Object.assign(b, { status: 'held', stationId, confirmedAt: now, expiresAt: now + holdMs, updatedAt: now });
    this.holdsByExpiry.add(b.bookingId);
  }

  finish(b: Booking, status: 'expired' | 'cancelled' | 'completed', now: number, reason: string): string | null {
    const freed = b.status === 'queued' ? null : b.stationId;
    const slot = freed ? this.stations.get(freed) : undefined;
    if (slot && b.status === 'held') slot.holds--;
    if (slot && b.status === 'charging') slot.charging--;
    if (b.status === 'queued') this.queue = this.queue.filter((q) => q.bookingId !== b.bookingId);
    this.holdsByExpiry.delete(b.bookingId);
    this.activeByCar.delete(b.carId);
    Object.assign(b, { status, expiresAt: null, endedAt: now, updatedAt: now, endReason: reason });
    return freed;
  }

  /** The queued car a port freed at the station goes to: the lowest stationQueueScore among the cars that can reach it. */
  nextFor(stationId: string): Queued | undefined {
    let best: Queued | undefined;
    let bestScore = Infinity;
    for (const q of this.queue) {
      const b = this.bookings.get(q.bookingId)!;
      const cand = b.candidates.find((c) => c.stationId === stationId);
      if (!cand) continue;
      const score = stationQueueScore({ queuedAtMs: b.queuedAt ?? b.createdAt, driveMs: cand.driveMs, critical: b.critical, battery: b.battery, seq: q.seq });
      if (score < bestScore) [best, bestScore] = [q, score];
    }
    return best;
  }

  promoteAt(stationId: string, now: number): Transition[] {
    const slot = this.stations.get(stationId);
    const out: Transition[] = [];
    while (slot && this.isFree(slot)) {
      const next = this.nextFor(stationId);
      if (!next) break;
      this.queue = this.queue.filter((q) => q !== next);
      const b = this.bookings.get(next.bookingId)!;
      const cand = b.candidates.find((c) => c.stationId === stationId)!;
      this.hold(b, stationId, cand.holdMs ?? b.holdMs, now);
      out.push({ type: 'confirmed', at: now, booking: copy(b), promoted: true });
    }
    return out;
  }

  prune(now: number): void {
    for (const [id, b] of this.bookings) {
      if (b.endedAt !== null && b.endedAt < now - this.retentionMs) this.bookings.delete(id);
    }
  }

  replay(b: Booking, req: ReserveRequest): ReserveResult {
    if (b.status === 'held') return { status: 'confirmed', stationId: b.stationId!, expiresAt: b.expiresAt!, booking: copy(b), replayed: true, transitions: [] };
    if (b.status !== 'queued') return { status: 'duplicate', existing: copy(b), transitions: [] };
    // A retry while queued refreshes the car's urgency (its battery keeps draining), keeping its place in time.
    const entry = this.queue.find((q) => q.bookingId === b.bookingId)!;
    entry.rank = urgencyRank(req.critical, req.battery);
    this.queue.sort(byUrgency);
    Object.assign(b, { battery: req.battery, critical: req.critical });
    return { status: 'queued', position: this.positionOf(b.bookingId), booking: copy(b), replayed: true, transitions: [] };
  }

  reserve(req: ReserveRequest): ReserveResult {
    const now = this.tick(req.nowMs);
    const existing = this.bookings.get(req.bookingId);
    if (existing) return this.replay(existing, req);
    const activeId = this.activeByCar.get(req.carId);
    if (activeId) return { status: 'duplicate', existing: copy(this.bookings.get(activeId)!), transitions: [] };
    const candidates = req.candidates.filter((c) => this.stations.has(c.stationId)).map((c) => ({ ...c }));
    if (candidates.length === 0) return { status: 'failed', reason: 'no_known_station', transitions: [] };
    const b: Booking = {
      bookingId: req.bookingId, carId: req.carId, status: 'queued', stationId: null, candidates, holdMs: req.holdMs,
      battery: req.battery, critical: req.critical, createdAt: now, updatedAt: now, queuedAt: null, confirmedAt: null,
      expiresAt: null, chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, lastSeenAt: now,
    };
    this.bookings.set(b.bookingId, b);
    this.activeByCar.set(b.carId, b.bookingId);
    const free = candidates.find((c) => this.isFree(this.stations.get(c.stationId)!));
    if (free) {
      this.hold(b, free.stationId, free.holdMs ?? req.holdMs, now);
      const t: Transition = { type: 'confirmed', at: now, booking: copy(b), promoted: false };
      return { status: 'confirmed', stationId: free.stationId, expiresAt: b.expiresAt!, booking: copy(b), replayed: false, transitions: [t] };
    }
    b.queuedAt = now;
    this.queue.push({ bookingId: b.bookingId, rank: urgencyRank(req.critical, req.battery), seq: ++this.seq });
    this.queue.sort(byUrgency);
    const position = this.positionOf(b.bookingId);
    return { status: 'queued', position, booking: copy(b), replayed: false, transitions: [{ type: 'queued', at: now, booking: copy(b), position }] };
  }

  endAndPromote(b: Booking, status: 'expired' | 'cancelled' | 'completed', now: number, reason: string): Transition[] {
    const type = status === 'completed' ? 'charging_completed' : status;
    const freed = this.finish(b, status, now, reason);
    const out: Transition[] = [{ type, at: now, booking: copy(b) }];
    return freed ? out.concat(this.promoteAt(freed, now)) : out;
  }
}

/**
 * In-process reservations with the same semantics as the Redis Lua scripts. Every method runs to
 * completion synchronously before its promise resolves, so each call is atomic, as a script is.
 * The queue is small (cars waiting for a port), so a sorted array is enough.
 */
export function createMemoryReservations(opts: { retentionMs?: number } = {}): Reservations {
  const book = new ReservationBook(opts.retentionMs ?? 3_600_000);
  return { kind: 'memory', ...lifecycle(book), ...expiry(book), ...reads(book), ...outbox(book), ...recovery(book), close: async () => {} };
}

type Lifecycle = Pick<Reservations, 'loadStations' | 'reserve' | 'cancel' | 'startCharging' | 'completeCharging' | 'extendHold' | 'promote'>;

/** Stations, reserving, and the moves of a booking from hold to charging to its end. */
function lifecycle(book: ReservationBook): Lifecycle {
  return {
    async loadStations(list: Station[], nowMs = Date.now()) {
      const now = book.tick(nowMs);
      for (const s of list) {
        const slot = book.stations.get(s.id);
        if (slot) slot.ports = s.ports;
        else book.stations.set(s.id, { ports: s.ports, holds: 0, charging: 0 });
      }
      return book.record(list.flatMap((s) => book.promoteAt(s.id, now)));
    },
    async reserve(req) {
      const res = book.reserve(req);
      book.record(res.transitions);
      return res;
    },
    async cancel(target, nowMs, reason = 'requested') {
      const now = book.tick(nowMs);
      const id = 'bookingId' in target ? target.bookingId : book.activeByCar.get(target.carId);
      const b = id ? book.bookings.get(id) : undefined;
      if (!b) return { ok: false, reason: 'not_found', transitions: [] };
      if (b.status !== 'held' && b.status !== 'queued' && b.status !== 'charging') return { ok: false, reason: `already_${b.status}`, booking: copy(b), transitions: [] };
      const transitions = book.record(book.endAndPromote(b, 'cancelled', now, `cancelled:${reason}`));
      return { ok: true, booking: copy(b), transitions };
    },
    async startCharging(carId, stationId, nowMs, battery) {
      const now = book.tick(nowMs);
      const b = book.activeOf(carId);
      if (!b) return { ok: false, reason: 'no_booking', transitions: [] };
      if (b.status === 'charging') return { ok: false, reason: 'already_charging', booking: copy(b), transitions: [] };
      if (b.status !== 'held') return { ok: false, reason: `not_held:${b.status}`, booking: copy(b), transitions: [] };
      if (b.stationId !== stationId) return { ok: false, reason: 'wrong_station', booking: copy(b), transitions: [] };
      const slot = book.stations.get(stationId)!;
      slot.holds--;
      slot.charging++;
      book.holdsByExpiry.delete(b.bookingId);
      Object.assign(b, { status: 'charging', expiresAt: null, chargingStartedAt: now, startBattery: battery ?? null, updatedAt: now });
      return { ok: true, booking: copy(b), transitions: book.record([{ type: 'charging_started', at: now, booking: copy(b) }]) };
    },
    async completeCharging(carId, nowMs, reason = 'target_reached') {
      const now = book.tick(nowMs);
      const b = book.activeOf(carId);
      if (!b || b.status !== 'charging') return { ok: false, reason: 'not_charging', booking: b && copy(b), transitions: [] };
      const transitions = book.record(book.endAndPromote(b, 'completed', now, `completed:${reason}`));
      return { ok: true, booking: copy(b), transitions };
    },
    async extendHold(bookingId, expiresAt, nowMs) {
      const now = book.tick(nowMs);
      const b = book.bookings.get(bookingId);
      if (!b) return { ok: false, reason: 'not_found', transitions: [] };
      if (b.status !== 'held') return { ok: false, reason: 'not_held', booking: copy(b), transitions: [] };
      Object.assign(b, { expiresAt: Math.max(b.expiresAt!, expiresAt), updatedAt: now });
      return { ok: true, booking: copy(b), transitions: [] };
    },
    async promote(stationId, nowMs) {
      return book.record(book.promoteAt(stationId, book.tick(nowMs)));
    },
  };
}

/** Holds that ran out and cars that stopped reporting. */
function expiry(book: ReservationBook): Pick<Reservations, 'expireDue' | 'touch' | 'expireStale'> {
  return {
    async expireDue(nowMs, limit = 500) {
      const now = book.tick(nowMs);
      const due = [...book.holdsByExpiry]
        .map((id) => book.bookings.get(id)!)
        .filter((b) => b.expiresAt! <= now)
        .sort((a, b) => a.expiresAt! - b.expiresAt!)
        .slice(0, limit);
      const result: ExpireResult = { expired: [], transitions: [] };
      for (const b of due) {
        result.transitions.push(...book.record(book.endAndPromote(b, 'expired', now, 'expired')));
        result.expired.push(copy(b));
      }
      book.prune(now);
      return result;
    },
    async touch(carIds, nowMs) {
      const now = book.tick(nowMs);
      for (const carId of carIds) {
        const b = book.activeOf(carId);
        if (b) b.lastSeenAt = Math.max(b.lastSeenAt ?? 0, now);
      }
    },
    async expireStale(seenBeforeMs, nowMs, limit = 500) {
      const now = book.tick(nowMs);
      const stale = [...book.activeByCar.values()]
        .map((id) => book.bookings.get(id)!)
        .filter((b) => (b.lastSeenAt ?? b.createdAt) < seenBeforeMs)
        .sort((a, b) => (a.lastSeenAt ?? a.createdAt) - (b.lastSeenAt ?? b.createdAt))
        .slice(0, limit)
        // Stale queue entries go first, so a port freed by a stale session is never promoted to a stale car.
        .sort((a, b) => Number(b.status === 'queued') - Number(a.status === 'queued'));
      const result: ExpireResult = { expired: [], transitions: [] };
      for (const b of stale) {
        const charging = b.status === 'charging';
        result.transitions.push(...book.record(book.endAndPromote(b, charging ? 'completed' : 'cancelled', now, charging ? 'completed:lost_contact' : 'cancelled:lost_contact')));
        result.expired.push(copy(b));
      }
      return result;
    },
  };
}

const outboxSeqOf = (id: string): number => Number(id.split('-')[1] ?? 0);

/** The outbox: read in order, acknowledged entries removed; one lease holder at a time. */
function outbox(book: ReservationBook): Pick<Reservations, 'readOutbox' | 'appendOutbox' | 'ackOutbox' | 'leaseOutbox'> {
  return {
    async readOutbox(after, limit) {
      const from = after === null ? -1 : outboxSeqOf(after);
      return book.outbox.filter((e) => outboxSeqOf(e.id) > from).slice(0, limit).map((e) => structuredClone(e));
    },
    async appendOutbox(events: BookingEvent[]) {
      for (const e of events) book.outbox.push({ id: book.nextOutboxId(), event: structuredClone(e) });
    },
    async ackOutbox(ids) {
      const drop = new Set(ids);
      const before = book.outbox.length;
      book.outbox = book.outbox.filter((e) => !drop.has(e.id));
      return before - book.outbox.length;
    },
    async leaseOutbox(owner, ttlMs) {
      const now = Date.now();
      if (book.lease && book.lease.owner !== owner && book.lease.until > now) return false;
      book.lease = { owner, until: now + ttlMs };
      return true;
    },
  };
}

/** Rebuilding lost state from the log (memory never loses it, but keeps the same contract). */
function recovery(book: ReservationBook): Pick<Reservations, 'restore'> {
  return {
    async restore(stations: Station[], list: RestoredBooking[], nowMs) {
      const now = book.tick(nowMs);
      for (const s of stations) {
        const slot = book.stations.get(s.id);
        if (slot) slot.ports = s.ports;
        else book.stations.set(s.id, { ports: s.ports, holds: 0, charging: 0 });
      }
      let restored = 0;
      for (const r of list) {
        if (book.bookings.has(r.bookingId) || book.activeByCar.has(r.carId)) continue;
        const slot = r.stationId ? book.stations.get(r.stationId) : undefined;
        if (!slot) continue;
        const b = restoredBooking(r, now);
        book.bookings.set(b.bookingId, b);
        book.activeByCar.set(b.carId, b.bookingId);
        if (b.status === 'held') {
          slot.holds++;
          book.holdsByExpiry.add(b.bookingId);
        } else if (b.status === 'charging') slot.charging++;
        else book.enqueueRestored(b);
        restored++;
      }
      return restored;
    },
  };
}

type Reads = Pick<Reservations, 'stationStatus' | 'booking' | 'activeBookingForCar' | 'activeBookings' | 'queue' | 'listActive'>;

/** Read-only views; every booking handed out is a copy. */
function reads(book: ReservationBook): Reads {
  return {
    async stationStatus() {
      // Each queued car counts once, at the station it is queued for (its best candidate), not at every
      // candidate; one pass over the queue, so thousands of queued cars stay cheap.
      const queueLength = new Map<string, number>();
      for (const q of book.queue) {
        const id = book.bookings.get(q.bookingId)!.candidates[0]?.stationId;
        if (id !== undefined) queueLength.set(id, (queueLength.get(id) ?? 0) + 1);
      }
      return [...book.stations].map(([id, s]): StationStatus => ({ id, ports: s.ports, holds: s.holds, charging: s.charging, queueLength: queueLength.get(id) ?? 0 }));
    },
    async booking(bookingId) {
      const b = book.bookings.get(bookingId);
      return b ? copy(b) : null;
    },
    async activeBookingForCar(carId) {
      const id = book.activeByCar.get(carId);
      return id ? copy(book.bookings.get(id)!) : null;
    },
    async activeBookings(carIds) {
      const out = new Map<string, Booking>();
      for (const carId of carIds) {
        const id = book.activeByCar.get(carId);
        if (id) out.set(carId, copy(book.bookings.get(id)!));
      }
      return out;
    },
    async queue(limit = Infinity) {
      return book.queue.slice(0, limit).map((q, i): QueueEntry => ({ position: i + 1, booking: copy(book.bookings.get(q.bookingId)!) }));
    },
    async listActive() {
      return [...book.activeByCar.values()].map((id) => copy(book.bookings.get(id)!));
    },
  };
}
