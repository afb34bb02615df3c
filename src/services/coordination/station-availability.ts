import type { Decision } from '../../domain/booking-request.js';
import type { Station } from '../../domain/charging.js';
import type { Logger } from '../../observability/logger.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { Booking, Reservations, StationStatus } from '../../ports/reservations.js';
import type { BookingFlow } from './booking-flow.js';
import type { Outbox } from './outbox.js';
import type { StationStatusCache } from './status-cache.js';

/** Why a re-planned car's booking ended (the reason its car is told). */
export const STATION_OFFLINE_REASON = 'station_offline';
/** Why a queued car's booking was made again when a station came back (it may now get a port there). */
export const STATION_ONLINE_REASON = 'station_online';

/**
 * A station is offline while the reservations give it no ports although its configuration has
 * some: the state every coordinator instance shares (res:stations), so each one's booking flow
 * leaves it out (booking-flow.ts).
 */
export function isOffline(configured: Pick<Station, 'ports'> | undefined, status: Pick<StationStatus, 'ports'> | undefined): boolean {
  return Boolean(configured && configured.ports > 0 && status && status.ports === 0);
}

/** One car moved off an offline station: what it had and what it has now. */
export interface Replanned {
  carId: string;
  was: 'held' | 'charging' | 'queued';
  bookingId: string;
  /** The new decision (a hold elsewhere, the queue, or failed with the reason). */
  now: Pick<Decision, 'status' | 'stationId' | 'bookingId' | 'reason' | 'queuePosition'>;
}

export interface AvailabilityResult {
  stationId: string;
  online: boolean;
  /** False when the station already was in that state (nothing changed). */
  changed: boolean;
  ports: number;
  replanned: Replanned[];
  /** Online: queued cars given a port at the station at once. */
  promoted: number;
}

export interface StationAvailabilityDeps {
  reservations: Pick<Reservations, 'loadStations' | 'cancel' | 'completeCharging' | 'stationStatus' | 'queue' | 'listActive'>;
  stations: Station[];
  flow: Pick<BookingFlow, 'request'>;
  /** Where re-planned cars are (their last telemetry); a car never seen is taken to be at the station it leaves. */
  fleet?: Pick<FleetState, 'getCar'>;
  outbox: Pick<Outbox, 'emitTransitions'>;
  status: Pick<StationStatusCache, 'invalidate'>;
  now: () => number;
  logger: Pick<Logger, 'info'>;
}

export class UnknownStationError extends Error {}

/**
 * Operator action: a station goes offline (its ports become unavailable, every hold, session and
 * queued booking that counts on it is ended with reason station_offline and booked again without
 * it, so each car is told where to go instead) or back online (its configured ports return; the
 * queue's most urgent cars are booked again, one per free port, and take them when it is their
 * best choice). Re-booked cars that end up queued again queue anew (with their battery and
 * criticality, not their old waiting time). The offline state lives in the reservations (ports 0),
 * so it holds across instances, but a coordinator start or a state rebuild reloads the configured
 * ports (src/services/coordination/coordinator.ts, recovery.ts): the station is then online again.
 */
export class StationAvailability {
  constructor(private readonly o: StationAvailabilityDeps) {}

  async set(stationId: string, online: boolean): Promise<AvailabilityResult> {
    const station = this.o.stations.find((s) => s.id === stationId);
    if (!station) throw new UnknownStationError(`no station ${stationId} (known: ${this.o.stations.map((s) => s.id).join(', ')})`);
    const before = (await this.o.reservations.stationStatus()).find((s) => s.id === stationId);
    const wasOffline = isOffline(station, before);
    const now = this.o.now();
    if (online) {
      const transitions = await this.o.reservations.loadStations([station], now);
      await this.o.outbox.emitTransitions(transitions);
      this.o.status.invalidate();
      const promoted = transitions.filter((t) => t.type === 'confirmed').length;
      // Cars queued while it was offline do not list it: offer its free ports to the queue's head.
      const replanned = wasOffline ? await this.offerPorts(stationId, now) : [];
      this.o.logger.info({ stationId, promoted, replanned: replanned.length }, 'station back online');
      return { stationId, online, changed: wasOffline, ports: station.ports, replanned, promoted: promoted + replanned.filter((r) => r.now.stationId === stationId).length };
    }
    await this.o.outbox.emitTransitions(await this.o.reservations.loadStations([{ ...station, ports: 0 }], now));
    this.o.status.invalidate();
    const replanned: Replanned[] = [];
    for (const b of await this.affected(stationId)) replanned.push(await this.replan(b, now));
    this.o.logger.info({ stationId, replanned: replanned.length }, 'station offline: its bookings re-planned');
    return { stationId, online, changed: !wasOffline, ports: 0, replanned, promoted: 0 };
  }

  /** Books the most urgent queued cars again, one per free port here, so a returned station is used at once. */
  private async offerPorts(stationId: string, now: number): Promise<Replanned[]> {
    const st = (await this.o.reservations.stationStatus()).find((s) => s.id === stationId);
    let free = st ? st.ports - st.holds - st.charging : 0;
    const out: Replanned[] = [];
    for (const { booking } of await this.o.reservations.queue()) {
      if (free <= 0) break;
      if (booking.candidates.some((c) => c.stationId === stationId)) continue;
      const r = await this.replan(booking, now, STATION_ONLINE_REASON);
      out.push(r);
      if (r.now.stationId === stationId && r.now.status === 'confirmed') free--;
    }
    return out;
  }

  /** Holds and sessions at the station, then queued bookings that list it, in queue order. */
  private async affected(stationId: string): Promise<Booking[]> {
    const active = (await this.o.reservations.listActive?.()) ?? [];
    const here = active.filter((b) => b.status !== 'queued' && b.stationId === stationId);
    const order = new Map((await this.o.reservations.queue()).map((q) => [q.booking.bookingId, q.position]));
    const queued = active
      .filter((b) => b.status === 'queued' && b.candidates.some((c) => c.stationId === stationId))
      .sort((a, b) => (order.get(a.bookingId) ?? Infinity) - (order.get(b.bookingId) ?? Infinity));
    return [...here, ...queued];
  }

  private async replan(b: Booking, now: number, reason = STATION_OFFLINE_REASON): Promise<Replanned> {
    const ended = b.status === 'charging' ? await this.o.reservations.completeCharging(b.carId, now, reason) : await this.o.reservations.cancel({ bookingId: b.bookingId }, now, reason);
    await this.o.outbox.emitTransitions(ended.transitions);
    this.o.status.invalidate();
    const seen = await this.o.fleet?.getCar(b.carId);
    const from = seen ?? this.o.stations.find((s) => s.id === (b.stationId ?? b.candidates[0]?.stationId));
    const d = await this.o.flow.request({ carId: b.carId, battery: seen?.battery ?? b.battery, lat: from?.lat, lon: from?.lon, bookingId: `${b.bookingId}~${now}`, noDefer: true });
    return { carId: b.carId, was: b.status as Replanned['was'], bookingId: b.bookingId, now: { status: d.status, stationId: d.stationId, bookingId: d.bookingId, reason: d.reason, queuePosition: d.queuePosition } };
  }
}
