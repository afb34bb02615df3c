import type { Station } from '../../domain/charging.js';
import type { Logger } from '../../observability/logger.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { Reservations, RestoredBooking } from '../../ports/reservations.js';
import type { BookingRow } from '../../ports/store.js';
import { stateLostEvent } from './event-codec.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';

export interface RecoveryDeps {
  reservations: Pick<Reservations, 'stationStatus' | 'restore'>;
  fleet?: Pick<FleetState, 'loadStations'>;
  stations: Station[];
  /** The latest still-active booking row per car from the booking log (Store.activeBookings). */
  history?: (sinceMs: number) => Promise<BookingRow[]>;
  outbox: Pick<Outbox, 'emit'>;
  now: () => number;
  metrics: Pick<CoordinatorMetrics, 'rebuilds'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  instanceId: string;
  /** A restored hold lasts at least this long from the rebuild (its car may be charging already). */
  graceMs?: number;
  /** How far back the log is read for active bookings. */
  lookbackMs?: number;
}

/**
 * Reservations are a cache of the booking log: when they are found lost (a station this coordinator
 * knows is missing: Redis restarted empty or was flushed), reload the stations and rebuild holds,
 * sessions and the queue from the log, then go on. Cars whose booking cannot be restored (its
 * station is no longer known) are told with booking_cancelled, reason state_lost.
 */
export class StateRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | null = null;

  constructor(private readonly o: RecoveryDeps) {}

  start(intervalMs = 1_000): void {
    if (this.timer || this.o.stations.length === 0) return;
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True when the state was found lost and rebuilt (one check at a time; errors are logged). */
  check(): Promise<boolean> {
    this.running ??= this.checkOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async checkOnce(): Promise<boolean> {
    try {
      const known = new Set((await this.o.reservations.stationStatus()).map((s) => s.id));
      const missing = this.o.stations.filter((s) => !known.has(s.id)).length;
      if (missing === 0) return false;
      await this.rebuild(missing);
      return true;
    } catch (err) {
      this.o.logger.warn({ err }, 'reservation state check failed');
      return false;
    }
  }

  private async rebuild(missing: number): Promise<void> {
    const started = Date.now();
    const now = this.o.now();
    const { stations } = this.o;
    const rows = this.o.history ? await this.o.history(now - (this.o.lookbackMs ?? 24 * 3_600_000)) : [];
    const ids = new Set(stations.map((s) => s.id));
    const restorable = rows.filter((r) => r.stationId && ids.has(r.stationId));
    const restored = await this.o.reservations.restore(stations, restorable.map((r) => this.restoredOf(r, now)), now);
    await this.o.fleet?.loadStations(stations);
    const lost = rows.filter((r) => !r.stationId || !ids.has(r.stationId));
    await this.o.outbox.emit(lost.map((r) => stateLostEvent(r, now, this.o.instanceId)));
    this.o.metrics.rebuilds.inc();
    this.o.logger.error(
      { missingStations: missing, stations: stations.length, fromLog: rows.length, restored, told: lost.length, ms: Date.now() - started, history: Boolean(this.o.history) },
      'reservation state was lost: stations reloaded and active bookings rebuilt from the booking log',
    );
  }

  private restoredOf(r: BookingRow, now: number): RestoredBooking {
    const held = r.status === 'confirmed';
    // A confirmed booking may be charging by now (charging_started is not in the log's bookings):
    // the hold outlives the rebuild by the grace, and the car's next report at the station starts charging.
    const expiresAt = held ? Math.max(r.expiresAt ?? 0, now + (this.o.graceMs ?? 120_000)) : null;
    return { bookingId: r.bookingId, carId: r.carId, status: held ? 'held' : 'queued', stationId: r.stationId, since: r.time, expiresAt };
  }
}
