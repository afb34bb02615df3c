import type { Station } from '../../ports/fleet-state.js';
import {
  urgencyRank,
  type Booking,
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
 * In-process reservations with the same semantics as the Redis Lua scripts. Every method runs to
 * completion synchronously before its promise resolves, so each call is atomic, as a script is.
 * The queue is small (cars waiting for a port), so a sorted array is enough.
 */
export function createMemoryReservations(opts: { retentionMs?: number } = {}): Reservations {
  const retentionMs = opts.retentionMs ?? 3_600_000;
  const stations = new Map<string, StationSlot>();
  const bookings = new Map<string, Booking>();
  const activeByCar = new Map<string, string>();
  const holdsByExpiry = new Set<string>();
  let queue: Queued[] = [];
  let seq = 0;
  let clock = 0;

  const tick = (nowMs: number): number => (clock = Math.max(clock, nowMs));
  const isFree = (slot: StationSlot): boolean => slot.holds + slot.charging < slot.ports;
  const positionOf = (bookingId: string): number => queue.findIndex((q) => q.bookingId === bookingId) + 1;

  function hold(b: Booking, stationId: string, holdMs: number, now: number): void {
    stations.get(stationId)!.holds++;
    Object.assign(b, { status: 'held', stationId, confirmedAt: now, expiresAt: now + holdMs, updatedAt: now });
    holdsByExpiry.add(b.bookingId);
  }

  function finish(b: Booking, status: 'expired' | 'cancelled' | 'completed', now: number, reason: string): string | null {
    const freed = b.status === 'queued' ? null : b.stationId;
    const slot = freed ? stations.get(freed) : undefined;
    if (slot && b.status === 'held') slot.holds--;
    if (slot && b.status === 'charging') slot.charging--;
    if (b.status === 'queued') queue = queue.filter((q) => q.bookingId !== b.bookingId);
    holdsByExpiry.delete(b.bookingId);
    activeByCar.delete(b.carId);
    Object.assign(b, { status, expiresAt: null, endedAt: now, updatedAt: now, endReason: reason });
    return freed;
  }

  function promoteAt(stationId: string, now: number): Transition[] {
    const slot = stations.get(stationId);
    const out: Transition[] = [];
    while (slot && isFree(slot)) {
      const next = queue.find((q) => bookings.get(q.bookingId)!.candidates.some((c) => c.stationId === stationId));
      if (!next) break;
      queue = queue.filter((q) => q !== next);
      const b = bookings.get(next.bookingId)!;
      const cand = b.candidates.find((c) => c.stationId === stationId)!;
      hold(b, stationId, cand.holdMs ?? b.holdMs, now);
      out.push({ type: 'confirmed', at: now, booking: copy(b), promoted: true });
    }
    return out;
  }

  function prune(now: number): void {
    for (const [id, b] of bookings) {
      if (b.endedAt !== null && b.endedAt < now - retentionMs) bookings.delete(id);
    }
  }

  function replay(b: Booking, req: ReserveRequest): ReserveResult {
    if (b.status === 'held') return { status: 'confirmed', stationId: b.stationId!, expiresAt: b.expiresAt!, booking: copy(b), replayed: true, transitions: [] };
    if (b.status !== 'queued') return { status: 'duplicate', existing: copy(b), transitions: [] };
    // A retry while queued refreshes the car's urgency (its battery keeps draining), keeping its place in time.
    const entry = queue.find((q) => q.bookingId === b.bookingId)!;
    entry.rank = urgencyRank(req.critical, req.battery);
    queue.sort(byUrgency);
    Object.assign(b, { battery: req.battery, critical: req.critical });
    return { status: 'queued', position: positionOf(b.bookingId), booking: copy(b), replayed: true, transitions: [] };
  }

  function reserve(req: ReserveRequest): ReserveResult {
    const now = tick(req.nowMs);
    const existing = bookings.get(req.bookingId);
    if (existing) return replay(existing, req);
    const activeId = activeByCar.get(req.carId);
    if (activeId) return { status: 'duplicate', existing: copy(bookings.get(activeId)!), transitions: [] };
    const candidates = req.candidates.filter((c) => stations.has(c.stationId)).map((c) => ({ ...c }));
    if (candidates.length === 0) return { status: 'failed', reason: 'no_known_station', transitions: [] };
    const b: Booking = {
      bookingId: req.bookingId, carId: req.carId, status: 'queued', stationId: null, candidates, holdMs: req.holdMs,
      battery: req.battery, critical: req.critical, createdAt: now, updatedAt: now, queuedAt: null, confirmedAt: null,
      expiresAt: null, chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, lastSeenAt: now,
    };
    bookings.set(b.bookingId, b);
    activeByCar.set(b.carId, b.bookingId);
    const free = candidates.find((c) => isFree(stations.get(c.stationId)!));
    if (free) {
      hold(b, free.stationId, free.holdMs ?? req.holdMs, now);
      const t: Transition = { type: 'confirmed', at: now, booking: copy(b), promoted: false };
      return { status: 'confirmed', stationId: free.stationId, expiresAt: b.expiresAt!, booking: copy(b), replayed: false, transitions: [t] };
    }
    b.queuedAt = now;
    queue.push({ bookingId: b.bookingId, rank: urgencyRank(req.critical, req.battery), seq: ++seq });
    queue.sort(byUrgency);
    const position = positionOf(b.bookingId);
    return { status: 'queued', position, booking: copy(b), replayed: false, transitions: [{ type: 'queued', at: now, booking: copy(b), position }] };
  }

  function endAndPromote(b: Booking, status: 'expired' | 'cancelled' | 'completed', now: number, reason: string): Transition[] {
    const type = status === 'completed' ? 'charging_completed' : status;
    const freed = finish(b, status, now, reason);
    const out: Transition[] = [{ type, at: now, booking: copy(b) }];
    return freed ? out.concat(promoteAt(freed, now)) : out;
  }

  const api: Reservations = {
    kind: 'memory',
    async loadStations(list: Station[], nowMs = Date.now()) {
      const now = tick(nowMs);
      for (const s of list) {
        const slot = stations.get(s.id);
        if (slot) slot.ports = s.ports;
        else stations.set(s.id, { ports: s.ports, holds: 0, charging: 0 });
      }
      return list.flatMap((s) => promoteAt(s.id, now));
    },
    async reserve(req) {
      return reserve(req);
    },
    async cancel(target, nowMs, reason = 'requested') {
      const now = tick(nowMs);
      const id = 'bookingId' in target ? target.bookingId : activeByCar.get(target.carId);
      const b = id ? bookings.get(id) : undefined;
      if (!b) return { ok: false, reason: 'not_found', transitions: [] };
      if (b.status !== 'held' && b.status !== 'queued' && b.status !== 'charging') return { ok: false, reason: `already_${b.status}`, booking: copy(b), transitions: [] };
      const transitions = endAndPromote(b, 'cancelled', now, `cancelled:${reason}`);
      return { ok: true, booking: copy(b), transitions };
    },
    async startCharging(carId, stationId, nowMs, battery) {
      const now = tick(nowMs);
      const id = activeByCar.get(carId);
      const b = id ? bookings.get(id) : undefined;
      if (!b) return { ok: false, reason: 'no_booking', transitions: [] };
      if (b.status === 'charging') return { ok: false, reason: 'already_charging', booking: copy(b), transitions: [] };
      if (b.status !== 'held') return { ok: false, reason: `not_held:${b.status}`, booking: copy(b), transitions: [] };
      if (b.stationId !== stationId) return { ok: false, reason: 'wrong_station', booking: copy(b), transitions: [] };
      const slot = stations.get(stationId)!;
      slot.holds--;
      slot.charging++;
      holdsByExpiry.delete(b.bookingId);
      Object.assign(b, { status: 'charging', expiresAt: null, chargingStartedAt: now, startBattery: battery ?? null, updatedAt: now });
      return { ok: true, booking: copy(b), transitions: [{ type: 'charging_started', at: now, booking: copy(b) }] };
    },
    async completeCharging(carId, nowMs, reason = 'target_reached') {
      const now = tick(nowMs);
      const id = activeByCar.get(carId);
      const b = id ? bookings.get(id) : undefined;
      if (!b || b.status !== 'charging') return { ok: false, reason: 'not_charging', booking: b && copy(b), transitions: [] };
      const transitions = endAndPromote(b, 'completed', now, `completed:${reason}`);
      return { ok: true, booking: copy(b), transitions };
    },
    async expireDue(nowMs, limit = 500) {
      const now = tick(nowMs);
      const due = [...holdsByExpiry]
        .map((id) => bookings.get(id)!)
        .filter((b) => b.expiresAt! <= now)
        .sort((a, b) => a.expiresAt! - b.expiresAt!)
        .slice(0, limit);
      const result: ExpireResult = { expired: [], transitions: [] };
      for (const b of due) {
        result.transitions.push(...endAndPromote(b, 'expired', now, 'expired'));
        result.expired.push(copy(b));
      }
      prune(now);
      return result;
    },
    async extendHold(bookingId, expiresAt, nowMs) {
      const now = tick(nowMs);
      const b = bookings.get(bookingId);
      if (!b) return { ok: false, reason: 'not_found', transitions: [] };
      if (b.status !== 'held') return { ok: false, reason: 'not_held', booking: copy(b), transitions: [] };
      Object.assign(b, { expiresAt: Math.max(b.expiresAt!, expiresAt), updatedAt: now });
      return { ok: true, booking: copy(b), transitions: [] };
    },
    async touch(carIds, nowMs) {
      const now = tick(nowMs);
      for (const carId of carIds) {
        const id = activeByCar.get(carId);
        const b = id ? bookings.get(id) : undefined;
        if (b) b.lastSeenAt = Math.max(b.lastSeenAt ?? 0, now);
      }
    },
    async expireStale(seenBeforeMs, nowMs, limit = 500) {
      const now = tick(nowMs);
      const stale = [...activeByCar.values()]
        .map((id) => bookings.get(id)!)
        .filter((b) => (b.lastSeenAt ?? b.createdAt) < seenBeforeMs)
        .sort((a, b) => (a.lastSeenAt ?? a.createdAt) - (b.lastSeenAt ?? b.createdAt))
        .slice(0, limit)
        // Stale queue entries go first, so a port freed by a stale session is never promoted to a stale car.
        .sort((a, b) => Number(b.status === 'queued') - Number(a.status === 'queued'));
      const result: ExpireResult = { expired: [], transitions: [] };
      for (const b of stale) {
        const charging = b.status === 'charging';
        result.transitions.push(...endAndPromote(b, charging ? 'completed' : 'cancelled', now, charging ? 'completed:lost_contact' : 'cancelled:lost_contact'));
        result.expired.push(copy(b));
      }
      return result;
    },
    async promote(stationId, nowMs) {
      return promoteAt(stationId, tick(nowMs));
    },
    async stationStatus() {
      const queued = queue.map((q) => bookings.get(q.bookingId)!);
      return [...stations].map(([id, s]): StationStatus => ({
        id, ports: s.ports, holds: s.holds, charging: s.charging,
        // Each queued car counts once, at the station it is queued for (its best candidate), not at every candidate.
        queueLength: queued.filter((b) => b.candidates[0]?.stationId === id).length,
      }));
    },
    async booking(bookingId) {
      const b = bookings.get(bookingId);
      return b ? copy(b) : null;
    },
    async activeBookingForCar(carId) {
      const id = activeByCar.get(carId);
      return id ? copy(bookings.get(id)!) : null;
    },
    async activeBookings(carIds) {
      const out = new Map<string, Booking>();
      for (const carId of carIds) {
        const id = activeByCar.get(carId);
        if (id) out.set(carId, copy(bookings.get(id)!));
      }
      return out;
    },
    async queue(limit = Infinity) {
      return queue.slice(0, limit).map((q, i): QueueEntry => ({ position: i + 1, booking: copy(bookings.get(q.bookingId)!) }));
    },
    async listActive() {
      return [...activeByCar.values()].map((id) => copy(bookings.get(id)!));
    },
    async close() {},
  };
  return api;
}

