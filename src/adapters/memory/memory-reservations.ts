import type { BookingEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import {
  type Booking,
  restoredBooking,
  type RestoredBooking,
  type ExpireResult,
  type QueueEntry,
  type Reservations,
  type StationStatus,
} from '../../ports/reservations.js';

import { copy, ReservationBook } from './reservation-book.js';

export function createMemoryReservations(opts: { retentionMs?: number; origin?: string } = {}): Reservations {
  const book = new ReservationBook(opts.retentionMs ?? 3_600_000, opts.origin);
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
      book.update(b, { status: 'charging', expiresAt: null, chargingStartedAt: now, startBattery: battery ?? null, updatedAt: now });
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
      book.update(b, { expiresAt: Math.max(b.expiresAt!, expiresAt), updatedAt: now });
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
        if (b) book.update(b, { lastSeenAt: Math.max(b.lastSeenAt ?? 0, now) });
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
function outbox(book: ReservationBook): Pick<Reservations, 'readOutbox' | 'appendOutbox' | 'ackOutbox' | 'leaseOutbox' | 'outboxDepth'> {
  return {
    outboxDepth: async () => book.outbox.length,
    async readOutbox(after, limit) {
      const from = after === null ? -1 : outboxSeqOf(after);
      return book.outbox.filter((e) => outboxSeqOf(e.id) > from).slice(0, limit).map((e) => structuredClone(e));
    },
    async appendOutbox(events: BookingEvent[]) {
      for (const e of events) book.outbox.push(book.entry({ event: structuredClone(e) }));
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
function recovery(book: ReservationBook): Pick<Reservations, 'restore' | 'stateMarker' | 'markState'> {
  let marker: string | null = null;
  return {
    stateMarker: async () => marker,
    async markState(candidate) {
      marker ??= candidate;
      return marker;
    },
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
      // candidate; the book keeps the counts as cars queue and leave, so thousands of queued cars cost nothing here.
      return [...book.stations].map(([id, s]): StationStatus => ({ id, ports: s.ports, holds: s.holds, charging: s.charging, queueLength: book.queuedAt.get(id) ?? 0 }));
    },
    async booking(bookingId) {
      const b = book.bookings.get(bookingId);
      return b ? copy(b) : null;
    },
    async activeBookingForCar(carId) {
      const id = book.activeByCar.get(carId);
      return id ? copy(book.bookings.get(id)!) : null;
    },
    // Read-only copies shared until the booking changes (ReservationBook.view): read with every telemetry batch.
    async activeBookings(carIds) {
      const out = new Map<string, Booking>();
      for (const carId of carIds) {
        const id = book.activeByCar.get(carId);
        if (id) out.set(carId, book.view(book.bookings.get(id)!));
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
