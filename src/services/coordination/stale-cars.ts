import type { Logger } from '../../observability/logger.js';
import type { ExpireResult, Reservations } from '../../ports/reservations.js';

export interface StaleCarsOptions {
  reservations: Pick<Reservations, 'touch' | 'expireStale'>;
  /** The reservation clock. */
  now: () => number;
  /** Unseen this long in the reservation clock… */
  staleAfterMs: number;
  /** …and this long in wall time, so a sped-up simulation's fast clock never drops a live car. */
  staleAfterWallMs: number;
  logger: Pick<Logger, 'info'>;
  wall?: () => number;
}

/**
 * A car that stopped streaming loses its booking: cars streaming here touch their booking's
 * lastSeenAt (throttled well inside both stale windows), and the sweep ends the bookings of cars
 * unseen for both windows (reason lost_contact).
 */
export class StaleCars {
  /** Cars' last touch of their booking (wall and clock ms). */
  private readonly lastTouch = new Map<string, { wall: number; clock: number }>();
  /** (wall, clock) pairs from recent sweeps: what the clock read staleAfterWallMs ago. */
  private readonly samples: { wall: number; clock: number }[] = [];
  private readonly wall: () => number;

  constructor(private readonly o: StaleCarsOptions) {
    this.wall = o.wall ?? (() => Date.now());
  }

  /** Refreshes lastSeenAt of these cars' active bookings, at most every few (wall and clock) seconds per car. */
  async touch(carIds: string[]): Promise<void> {
    const wall = this.wall();
    const now = this.o.now();
    const due = carIds.filter((id) => {
      const t = this.lastTouch.get(id);
      return !t || (wall - t.wall >= this.o.staleAfterWallMs / 6 && now - t.clock >= this.o.staleAfterMs / 10);
    });
    if (due.length === 0) return;
    for (const id of due) this.lastTouch.set(id, { wall, clock: now });
    await this.o.reservations.touch(due, now);
  }

  /**
   * Bookings whose car was last seen before this are stale; undefined until the coordinator has
   * run for staleAfterWallMs (too early to judge). Records a clock sample on each call.
   */
  cutoff(): number | undefined {
    const wall = this.wall();
    const now = this.o.now();
    this.samples.push({ wall, clock: now });
    const horizon = wall - this.o.staleAfterWallMs;
    while (this.samples.length > 1 && this.samples[1].wall <= horizon) this.samples.shift();
    if (this.samples[0].wall > horizon) return undefined;
    return Math.min(now - this.o.staleAfterMs, this.samples[0].clock);
  }

  /** Ends up to `limit` stale bookings. */
  async expire(limit = 500): Promise<ExpireResult> {
    const seenBefore = this.cutoff();
    if (seenBefore === undefined) return { expired: [], transitions: [] };
    const stale = await this.o.reservations.expireStale(seenBefore, this.o.now(), limit);
    if (stale.expired.length > 0) {
      this.o.logger.info({ cars: stale.expired.map((b) => b.carId).slice(0, 20), count: stale.expired.length }, 'bookings of cars no longer streaming ended (lost_contact)');
    }
    return stale;
  }
}
