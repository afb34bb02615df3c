import type { Candidate } from '../../domain/booking-policy.js';
import {
  stationQueueScore,
  urgencyRank,
  type Booking,
  type OutboxEntry,
  type ReserveRequest,
  type ReserveResult,
  type Transition,
} from '../../ports/reservations.js';
import { StationQueues } from './station-queues.js';

/** The in-memory reservation state and its transitions, under the Reservations contract (test/contract/reservations.contract.ts). */
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

/** The index of `q` in a queue sorted by byUrgency, or where it would go (entries are unique: seq is). */
function urgencyIndex(queue: Queued[], q: Queued): number {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byUrgency(queue[mid], q) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** A booking handed out: a copy; its candidates are frozen when booked (never changed after), so they are shared, not cloned. */
export const copy = (b: Booking): Booking => ({ ...b, candidates: Object.isFrozen(b.candidates) ? b.candidates : b.candidates.map((c) => ({ ...c })) });

/** The candidate for a station, without a closure per call (promotions scan thousands of queued cars). */
function candidateAt(b: Booking, stationId: string): Candidate | undefined {
  const list = b.candidates;
  for (let i = 0; i < list.length; i++) if (list[i].stationId === stationId) return list[i];
  return undefined;
}

/**
 * The state of in-process reservations and the operations the public methods share. Every method
 * runs to completion synchronously, so each call is atomic, as a Lua script is.
 */
export class ReservationBook {
  readonly stations = new Map<string, StationSlot>();
  readonly bookings = new Map<string, Booking>();
  readonly activeByCar = new Map<string, string>();
  readonly holdsByExpiry = new Set<string>();
  /** Queued cars in urgency order (byUrgency); change it only through enqueue and dequeue, which keep queuedAt. */
  queue: Queued[] = [];
  /** Queued cars per station they are queued for (their best candidate): stationStatus without a pass over the queue. */
  readonly queuedAt = new Map<string, number>();
  /** Frozen copies of bookings handed out, shared by readers until the booking changes (see view). */
  private readonly views = new Map<string, Booking>();
  /** Each queued booking's queue entry, and its place in every candidate station's promotion order (nextFor). */
  private readonly queuedById = new Map<string, Queued>();
  private readonly stationQueues = new StationQueues();
  /** Transitions and events to publish, in order; appended in the same synchronous step as the change. */
  outbox: OutboxEntry[] = [];
  lease: { owner: string; until: number } | null = null;
  private seq = 0;
  private outboxSeq = 0;
  private clock = 0;

  /** @param origin the deciding instance, stored with every outbox entry ('' or undefined: unnamed). */
  constructor(
    private readonly retentionMs: number,
    readonly origin?: string,
  ) {}

  tick(nowMs: number): number {
    return (this.clock = Math.max(this.clock, nowMs));
  }

  /** Appends to the outbox (called before the mutation returns, so no other call runs in between). */
  record<T extends Transition[]>(ts: T): T {
    for (const t of ts) this.outbox.push(this.entry({ transition: structuredClone(t) }));
    return ts;
  }

  /** An outbox entry with the next id and this handle's origin. */
  entry(body: Pick<OutboxEntry, 'transition' | 'event'>): OutboxEntry {
    const e: OutboxEntry = { id: this.nextOutboxId(), ...body };
    if (this.origin) e.origin = this.origin;
    return e;
  }

  nextOutboxId(): string {
    return `${Date.now()}-${++this.outboxSeq}`;
  }

  enqueueRestored(b: Booking): void {
    this.enqueue({ bookingId: b.bookingId, rank: urgencyRank(b.critical, b.battery), seq: ++this.seq });
  }

  /**
   * Inserts in urgency order (binary search: thousands of queued cars must not be re-sorted per
   * request) and at each candidate station's promotion order, scored on the booking as it is now.
   */
  enqueue(q: Queued): void {
    this.queue.splice(urgencyIndex(this.queue, q), 0, q);
    this.queuedById.set(q.bookingId, q);
    const b = this.bookings.get(q.bookingId)!;
    const queuedAtMs = b.queuedAt ?? b.createdAt;
    this.stationQueues.add(
      q.bookingId,
      q.seq,
      b.candidates.map((c) => ({ stationId: c.stationId, score: stationQueueScore({ queuedAtMs, driveMs: c.driveMs, critical: b.critical, battery: b.battery, seq: q.seq }) })),
    );
    this.countQueued(q.bookingId, 1);
  }

  dequeue(bookingId: string): Queued | undefined {
    const q = this.queuedById.get(bookingId);
    if (!q) return undefined;
    this.queue.splice(urgencyIndex(this.queue, q), 1);
    this.queuedById.delete(bookingId);
    this.stationQueues.remove(bookingId);
    this.countQueued(bookingId, -1);
    return q;
  }

  private countQueued(bookingId: string, delta: number): void {
    const id = this.bookings.get(bookingId)?.candidates[0]?.stationId;
    if (id !== undefined) this.queuedAt.set(id, (this.queuedAt.get(id) ?? 0) + delta);
  }

  isFree(slot: StationSlot): boolean {
    return slot.holds + slot.charging < slot.ports;
  }

  positionOf(bookingId: string): number {
    const q = this.queuedById.get(bookingId);
    return q ? urgencyIndex(this.queue, q) + 1 : 0;
  }

  /**
   * A read-only copy of the booking as it is now, the same object for every read until the booking
   * changes: a fleet's cars read their bookings with every message (activeBookings), and a fresh copy
   * each time was most of the virtual simulation's garbage. Change a stored booking only through update.
   */
  view(b: Booking): Booking {
    let v = this.views.get(b.bookingId);
    if (!v) {
      v = Object.freeze(copy(b));
      this.views.set(b.bookingId, v);
    }
    return v;
  }

  /** Changes a stored booking (its shared view is dropped, so readers see the change). */
  update(b: Booking, patch: Partial<Booking>): void {
    Object.assign(b, patch);
    this.views.delete(b.bookingId);
  }

  /** The car's active booking, if it has one. */
  activeOf(carId: string): Booking | undefined {
    const id = this.activeByCar.get(carId);
    return id ? this.bookings.get(id) : undefined;
  }

  hold(b: Booking, stationId: string, holdMs: number, now: number): void {
    this.stations.get(stationId)!.holds++;
    this.update(b, { status: 'held', stationId, confirmedAt: now, expiresAt: now + holdMs, updatedAt: now });
    this.holdsByExpiry.add(b.bookingId);
  }

  finish(b: Booking, status: 'expired' | 'cancelled' | 'completed', now: number, reason: string): string | null {
    const freed = b.status === 'queued' ? null : b.stationId;
    const slot = freed ? this.stations.get(freed) : undefined;
    if (slot && b.status === 'held') slot.holds--;
    if (slot && b.status === 'charging') slot.charging--;
    if (b.status === 'queued') this.dequeue(b.bookingId);
    this.holdsByExpiry.delete(b.bookingId);
    this.activeByCar.delete(b.carId);
    this.update(b, { status, expiresAt: null, endedAt: now, updatedAt: now, endReason: reason });
    return freed;
  }

  /**
   * The queued car a port freed at the station goes to: the lowest stationQueueScore among the cars
   * that can reach it, the head of the station's promotion order (kept by enqueue and dequeue).
   */
  nextFor(stationId: string): Queued | undefined {
    const id = this.stationQueues.head(stationId);
    return id === undefined ? undefined : this.queuedById.get(id);
  }

  promoteAt(stationId: string, now: number): Transition[] {
    const slot = this.stations.get(stationId);
    const out: Transition[] = [];
    while (slot && this.isFree(slot)) {
      const next = this.nextFor(stationId);
      if (!next) break;
      this.dequeue(next.bookingId);
      const b = this.bookings.get(next.bookingId)!;
      const cand = candidateAt(b, stationId)!;
      this.hold(b, stationId, cand.holdMs ?? b.holdMs, now);
      out.push({ type: 'confirmed', at: now, booking: copy(b), promoted: true });
    }
    return out;
  }

  prune(now: number): void {
    for (const [id, b] of this.bookings) {
      if (b.endedAt !== null && b.endedAt < now - this.retentionMs) {
        this.bookings.delete(id);
        this.views.delete(id);
      }
    }
  }

  replay(b: Booking, req: ReserveRequest): ReserveResult {
    if (b.status === 'held') return { status: 'confirmed', stationId: b.stationId!, expiresAt: b.expiresAt!, booking: copy(b), replayed: true, transitions: [] };
    if (b.status !== 'queued') return { status: 'duplicate', existing: copy(b), transitions: [] };
    // A retry while queued refreshes the car's urgency (its battery keeps draining), keeping its place in time.
    // The new battery goes on the booking before it is enqueued again: its station scores are computed from it.
    const entry = this.dequeue(b.bookingId)!;
    entry.rank = urgencyRank(req.critical, req.battery);
    this.update(b, { battery: req.battery, critical: req.critical });
    this.enqueue(entry);
    return { status: 'queued', position: this.positionOf(b.bookingId), booking: copy(b), replayed: true, transitions: [] };
  }

  reserve(req: ReserveRequest): ReserveResult {
    const now = this.tick(req.nowMs);
    const existing = this.bookings.get(req.bookingId);
    if (existing) return this.replay(existing, req);
    const activeId = this.activeByCar.get(req.carId);
    if (activeId) return { status: 'duplicate', existing: copy(this.bookings.get(activeId)!), transitions: [] };
    const candidates = Object.freeze(req.candidates.filter((c) => this.stations.has(c.stationId)).map((c) => Object.freeze({ ...c }))) as Candidate[];
    if (candidates.length === 0) return { status: 'failed', reason: 'no_known_station', transitions: [] };
    const free = candidates.find((c) => this.isFree(this.stations.get(c.stationId)!));
    if (!free && req.queue === false) return { status: 'failed', reason: 'no_free_port', transitions: [] };
    const b: Booking = {
      bookingId: req.bookingId, carId: req.carId, status: 'queued', stationId: null, candidates, holdMs: req.holdMs,
      battery: req.battery, critical: req.critical, createdAt: now, updatedAt: now, queuedAt: null, confirmedAt: null,
      expiresAt: null, chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, lastSeenAt: now,
    };
    this.bookings.set(b.bookingId, b);
    this.activeByCar.set(b.carId, b.bookingId);
    if (free) {
      this.hold(b, free.stationId, free.holdMs ?? req.holdMs, now);
      const t: Transition = { type: 'confirmed', at: now, booking: copy(b), promoted: false };
      return { status: 'confirmed', stationId: free.stationId, expiresAt: b.expiresAt!, booking: copy(b), replayed: false, transitions: [t] };
    }
    b.queuedAt = now;
    this.enqueue({ bookingId: b.bookingId, rank: urgencyRank(req.critical, req.battery), seq: ++this.seq });
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
 * The queue is a sorted array kept in order by binary insertion, with a count per station.
 */
