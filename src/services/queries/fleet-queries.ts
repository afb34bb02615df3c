import type { BookingRequest, Decision } from '../../domain/booking-request.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { Booking, Reservations } from '../../ports/reservations.js';
import type { SessionQuery, SessionRow, Store } from '../../ports/store.js';
import { nearestRows, stationRow, type NearestStationRow, type StationRow } from './station-rows.js';
import type { AvailabilityResult } from '../coordination/station-availability.js';

/**
 * The operator's read queries (stations, bookings, sessions) over the ports. One implementation
 * serves both the server's query RPCs (embedded mode: the CLI asks the running server) and the
 * CLI in external mode (it reads Redis and PostgreSQL itself), so both modes answer alike.
 */

export type BookingFilter = 'active' | 'queued' | 'all';
export const bookingFilters: readonly BookingFilter[] = ['active', 'queued', 'all'];

/** An active booking as operators see it: a hold (with its expiry), a session, or a place in the queue. */
export interface BookingListRow {
  bookingId: string;
  carId: string;
  status: 'held' | 'charging' | 'queued';
  stationId: string | null;
  battery: number;
  critical: boolean;
  createdAt: number;
  expiresAt: number | null;
  chargingSince: number | null;
  waitingSince: number | null;
  /** 1 = served next; 0 when not queued. */
  queuePosition: number;
  candidates: string[];
}

export interface BookingList {
  /** Clock of whoever answered, so expiry countdowns do not depend on the caller's clock. */
  at: number;
  bookings: BookingListRow[];
}

export type NearestFrom = { lat: number; lon: number } | { carId: string };

export interface NearestResult {
  from: { lat: number; lon: number; car?: string };
  stations: NearestStationRow[];
}

export type QueryErrorKind = 'invalid' | 'not_found' | 'unavailable';

/** A query that cannot be answered; the server maps `kind` to a gRPC status, the CLI to an exit code. */
export class QueryError extends Error {
  constructor(
    readonly kind: QueryErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface FleetQueries {
  /** Where the answers come from, for humans ("server 127.0.0.1:50051", "redis"). */
  readonly source: string;
  listStations(): Promise<StationRow[]>;
  nearest(from: NearestFrom, opts: { limit: number; available: boolean }): Promise<NearestResult>;
  listBookings(filter: BookingFilter): Promise<BookingList>;
  listSessions(q: SessionQuery): Promise<SessionRow[]>;
  close(): Promise<void>;
}

/** What RequestBooking / CancelBooking call (the coordinator, adapted by the stack); the server encodes the decision. */
export interface BookingDesk {
  request(req: BookingRequest & { carId: string }): Promise<Decision>;
  cancel(req: { carId?: string; bookingId?: string }): Promise<Decision>;
  /** The car a booking belongs to (null: no such booking): ownership checks before a cancel by booking id. */
  bookingCar?(bookingId: string): Promise<string | null>;
  /** Operator action: a station offline (its bookings re-planned) or online; QueryError not_found for an unknown id. */
  setStationOnline?(stationId: string, online: boolean): Promise<AvailabilityResult>;
}

/** What the ingestion server needs to answer the query and booking RPCs. */
export interface QueryHandlers {
  queries: FleetQueries;
  bookings?: BookingDesk;
}

export interface FleetQueryDeps {
  /** Stations (list, GEO) and car positions. */
  fleet?: FleetState;
  reservations?: Reservations;
  store?: Pick<Store, 'listSessions'>;
  /** The grid price now in $/kWh; 0 when absent. */
  price?: () => Promise<number>;
  now?: () => number;
  source?: string;
  /** Says what is missing when a query needs an engine this process does not have. */
  missing?: Partial<Record<'fleet' | 'reservations' | 'store', string>>;
  close?: () => Promise<void>;
}

export function createFleetQueries(deps: FleetQueryDeps): FleetQueries {
  const now = deps.now ?? Date.now;
  const price = async () => (deps.price ? deps.price().catch(() => 0) : 0);
  const need = <K extends 'fleet' | 'reservations' | 'store'>(key: K): NonNullable<FleetQueryDeps[K]> => {
    const dep = deps[key];
    if (!dep) throw new QueryError('unavailable', deps.missing?.[key] ?? `no ${key} here`);
    return dep as NonNullable<FleetQueryDeps[K]>;
  };
  const statusMap = async () => new Map((deps.reservations ? await deps.reservations.stationStatus() : []).map((s) => [s.id, s]));

  return {
    source: deps.source ?? 'engines',
    async listStations() {
      const [stations, status, p] = await Promise.all([need('fleet').listStations(), statusMap(), price()]);
      return stations.sort((a, b) => a.id.localeCompare(b.id)).map((s) => stationRow(s, status.get(s.id), p));
    },
    async nearest(from, opts) {
      const fleet = need('fleet');
      const at = 'carId' in from ? await fleet.getCar(from.carId) : from;
      if (!at) throw new QueryError('not_found', `no known position for car ${(from as { carId: string }).carId}`, 'car_id');
      // --available filters after the search, so it searches every station (still nearest first).
      const count = opts.available ? Math.max(opts.limit, (await fleet.listStations()).length) : opts.limit;
      const [near, status, p] = await Promise.all([fleet.nearestStations(at.lat, at.lon, count), statusMap(), price()]);
      const origin = { lat: at.lat, lon: at.lon, ...('carId' in from ? { car: from.carId } : {}) };
      return { from: origin, stations: nearestRows(near, status, p, opts) };
    },
    async listBookings(filter) {
      const reservations = need('reservations');
      const at = now();
      const rows: BookingListRow[] = [];
      if (filter !== 'queued') {
        if (!reservations.listActive) throw new QueryError('unavailable', `the ${reservations.kind} reservations cannot list bookings`);
        const active = (await reservations.listActive()).filter((b) => b.status === 'held' || b.status === 'charging');
        rows.push(...active.map((b) => bookingListRow(b, 0)).sort(byHoldThenSession));
      }
      if (filter !== 'active') rows.push(...(await reservations.queue()).map((q) => bookingListRow(q.booking, q.position)));
      return { at, bookings: rows };
    },
    async listSessions(q) {
      return need('store').listSessions(q);
    },
    close: deps.close ?? (async () => {}),
  };
}

export function bookingListRow(b: Booking, position: number): BookingListRow {
  return {
    bookingId: b.bookingId,
    carId: b.carId,
    status: b.status === 'held' || b.status === 'charging' ? b.status : 'queued',
    stationId: b.stationId,
    battery: b.battery,
    critical: b.critical,
    createdAt: b.createdAt,
    expiresAt: b.status === 'held' ? b.expiresAt : null,
    chargingSince: b.status === 'charging' ? b.chargingStartedAt : null,
    waitingSince: b.status === 'queued' ? (b.queuedAt ?? b.createdAt) : null,
    queuePosition: position,
    candidates: b.candidates.map((c) => c.stationId),
  };
}

/** Holds first, soonest to expire first; then sessions, longest charging first. */
function byHoldThenSession(a: BookingListRow, b: BookingListRow): number {
  if (a.status !== b.status) return a.status === 'held' ? -1 : 1;
  return (a.expiresAt ?? a.chargingSince ?? 0) - (b.expiresAt ?? b.chargingSince ?? 0) || a.carId.localeCompare(b.carId);
}
