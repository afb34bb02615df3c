import { randomUUID } from 'node:crypto';
import type { Station } from '../../domain/charging.js';
import type { Logger } from '../../observability/logger.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { Reservations, RestoredBooking } from '../../ports/reservations.js';
import type { BookingRow } from '../../ports/store.js';
import { stateLostEvent } from './event-codec.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';

export interface RecoveryDeps {
  reservations: Pick<Reservations, 'stationStatus' | 'restore' | 'stateMarker' | 'markState'>;
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
 * Reservations are a cache of the booking log: when they are found lost — the state marker is gone
 * (Redis restarted empty or was flushed, even if another instance has loaded the stations again
 * since) or a station this coordinator knows is missing — reload the stations and rebuild holds,
 * sessions and the queue from the log, then set a new marker and go on. Cars whose booking cannot be
 * restored (its station is no longer known) are told with booking_cancelled, reason state_lost.
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

  /**
   * Before the coordinator loads its stations: adopt the marker in place, or, with none (a fresh
   * namespace, or Redis lost its data while no coordinator ran), rebuild from the log and set one.
   */
  async init(): Promise<void> {
    try {
      const current = await this.o.reservations.stateMarker();
      if (current) this.marker = current;
      else await this.rebuild(0, 'no state marker at start', true);
    } catch (err) {
      // E.g. the booking log not readable yet (a fresh namespace before the worker migrated it):
      // the periodic check rebuilds once it is.
      this.o.logger.warn({ err }, 'reservation state not checked at start; retrying in the background');
    }
  }

  private marker: string | null = null;

  private async checkOnce(): Promise<boolean> {
    try {
      const current = await this.o.reservations.stateMarker();
      // Another instance rebuilt first (its marker won): the state is whole again.
      if (current && current !== this.marker) this.marker = current;
      const known = new Set((await this.o.reservations.stationStatus()).map((s) => s.id));
      const missing = this.o.stations.filter((s) => !known.has(s.id)).length;
      if (current && missing === 0) return false;
      // Never having seen a marker (the check at start could not run) with nothing in the log is a fresh start, not a loss.
      await this.rebuild(missing, current ? `${missing} stations missing` : 'state marker gone (Redis restarted or flushed)', this.marker === null);
      return true;
    } catch (err) {
      this.o.logger.warn({ err }, 'reservation state check failed');
      return false;
    }
  }

  /** `quietIfEmpty`: nothing to restore is a fresh start, not a loss (no metric, no error line). */
  private async rebuild(missing: number, reason: string, quietIfEmpty = false): Promise<void> {
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
    this.marker = await this.o.reservations.markState(`${this.o.instanceId}-${randomUUID()}`);
    if (quietIfEmpty && rows.length === 0) return;
    this.o.metrics.rebuilds.inc();
    this.o.logger.error(
      { reason, missingStations: missing, stations: stations.length, fromLog: rows.length, restored, told: lost.length, ms: Date.now() - started, history: Boolean(this.o.history) },
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
