import type { Deferral } from '../../domain/booking-policy.js';
import type { Decision, DecisionStatus } from '../../domain/booking-request.js';
import type { Booking, MutationResult, ReserveResult } from '../../ports/reservations.js';

/** A failed decision with nothing filled in but the car and the time. */
export function blankDecision(carId: string, now: number): Decision {
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

/** Where a booking stands, as a decision. */
export function decisionOfBooking(b: Booking, now: number): Decision {
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

/** The answer to a reservation attempt. */
export function decisionForResult(result: ReserveResult, ask: { carId: string; bookingId: string }, now: number): Decision {
  if (result.status === 'failed') {
    return { ...blankDecision(ask.carId, now), bookingId: ask.bookingId, status: 'failed', reason: result.reason, message: `cannot book: ${result.reason}` };
  }
  const b = result.status === 'duplicate' ? result.existing : result.booking;
  const d = decisionOfBooking(b, now);
  if (result.status === 'queued') d.queuePosition = result.position;
  if (result.status === 'duplicate') d.message = `already has booking ${b.bookingId} (${b.status})`;
  return d;
}

/** The car waits for a cheaper window: no booking yet; expiresAt says when to ask again. */
export function deferredDecision(carId: string, now: number, deferral: Deferral): Decision {
  return { ...blankDecision(carId, now), bookingId: '', status: 'deferred', message: deferral.reason, reason: deferral.reason, priceRate: deferral.pricePerKwh, expiresAt: deferral.deferUntil };
}

/** The answer to a cancellation. */
export function decisionForCancel(res: MutationResult, req: { carId?: string; bookingId?: string }, now: number): Decision {
  if (!res.ok) {
    return { ...blankDecision(req.carId ?? res.booking?.carId ?? '', now), bookingId: req.bookingId ?? '', status: 'failed', reason: res.reason ?? 'not_found', message: `nothing to cancel: ${res.reason}` };
  }
  return decisionOfBooking(res.booking!, now);
}
