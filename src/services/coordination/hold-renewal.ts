import { holdRenewalMs, type PolicyParams } from '../../domain/booking-policy.js';
import type { Logger } from '../../observability/logger.js';
import type { Booking, Reservations } from '../../ports/reservations.js';

/** A held car must get this much closer to its station before its hold is renewed again. */
export const APPROACH_KM = 0.1;
/** Renewals that would move the expiry by less than this are skipped. */
export const RENEW_STEP_MS = 60_000;

export interface HoldRenewalOptions {
  reservations: Pick<Reservations, 'extendHold'>;
  now: () => number;
  policy: PolicyParams;
  logger: Pick<Logger, 'debug'>;
}

/**
 * A held car seen getting closer keeps its hold: renewed to the remaining drive at the margin plus
 * the grace (at most maxHold from now), so a far hold is not lost on the way; a car that stops
 * approaching or streaming loses it within maxHold.
 */
export class HoldRenewal {
  /** The nearest a held car has been to its station. */
  private readonly approach = new Map<string, { bookingId: string; km: number }>();

  constructor(private readonly o: HoldRenewalOptions) {}

  /** The car no longer holds a port: its approach starts afresh with its next hold. */
  forget(carId: string): void {
    this.approach.delete(carId);
  }

  async renew(carId: string, booking: Booking, distanceKm: number): Promise<void> {
    const ref = this.approach.get(carId);
    if (ref && ref.bookingId === booking.bookingId && distanceKm > ref.km - APPROACH_KM) return;
    this.approach.set(carId, { bookingId: booking.bookingId, km: distanceKm });
    const now = this.o.now();
    const until = now + holdRenewalMs(distanceKm, this.o.policy);
    if (until - (booking.expiresAt ?? 0) < RENEW_STEP_MS) return;
    const res = await this.o.reservations.extendHold(booking.bookingId, until, now);
    if (res.ok) this.o.logger.debug({ carId, bookingId: booking.bookingId, distanceKm, expiresAt: res.booking?.expiresAt }, 'hold renewed: car approaching');
  }
}
