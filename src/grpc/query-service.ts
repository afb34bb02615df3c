import * as grpc from '@grpc/grpc-js';
import { STATION_ID_PATTERN, validateBookingRequest } from '../domain/booking-request.js';
import { CAR_ID_PATTERN } from '../domain/telemetry.js';
import type { Logger } from '../observability/logger.js';
import type { FleetState } from '../ports/fleet-state.js';
import { bookingFilters, QueryError, type BookingFilter, type NearestFrom, type QueryHandlers } from '../services/queries/fleet-queries.js';
import type {
  BookingRequestMsg,
  BookingResponseMsg,
  ListBookingsReplyMsg,
  ListBookingsRequestMsg,
  ListSessionsReplyMsg,
  ListSessionsRequestMsg,
  NearestRequestMsg,
  StationsReplyMsg,
} from './proto.js';
import { bookingToMsg, sessionToMsg, stationToMsg } from './query-codec.js';
import { bookingRefusal, hasRole, may, type Capability, type Principal } from '../domain/principals.js';
import { permissionDenied, type Authenticate } from './auth.js';
import { statusError } from './server.js';
import { toBookingResponse } from './booking-codec.js';

export interface QueryServiceDeps {
  /** The server's auth check (x-api-token; UNAVAILABLE while shutting down). */
  authenticate: Authenticate;
  /** What answers the queries; undefined until the stack attaches it. */
  handlers(): QueryHandlers | undefined;
  fleet: FleetState;
  logger: Logger;
  now?: () => number;
  /** The principal that last streamed the car on this instance (fleet booking ownership). */
  streamedBy?(carId: string): string | undefined;
}

export const MAX_LIST_LIMIT = 1000;
const DEFAULT_NEAREST_LIMIT = 5;
const DEFAULT_SESSIONS_LIMIT = 50;

const invalid = (field: string, reason: string) => new QueryError('invalid', reason, field);
const precondition = (message: string) => new QueryError('unavailable', message);

/**
 * RequestBooking, CancelBooking and the operator queries, as grpc-js handlers to add to the
 * FleetService next to the telemetry RPCs. Each checks the token, validates its request
 * (INVALID_ARGUMENT naming the field) and answers from the attached handlers.
 */
export function queryServiceHandlers(deps: QueryServiceDeps): Record<string, grpc.handleUnaryCall<never, never>> {
  const now = deps.now ?? Date.now;

  /** `cap`: what the principal needs for this RPC; booking RPCs (null) check ownership per car inside. */
  function unary<Req, Res>(name: string, cap: Capability | null, run: (req: Req, h: QueryHandlers, who: Principal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const auth = deps.authenticate(call);
      if (!auth.ok) return callback(auth.error);
      if (cap && !may(auth.principal, cap)) return callback(permissionDenied(auth.principal, `call ${name}`));
      const h = deps.handlers();
      if (!h) return callback(statusError(grpc.status.FAILED_PRECONDITION, `${name}: this ingestion instance runs without a coordinator; use \`greenlane up\`, or read the engines directly in external mode`));
      run(call.request, h, auth.principal).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toStatus(name, err, deps.logger)),
      );
    };
  }

  /** Refuses `who` acting for `carId` (PERMISSION_DENIED with the reason); a car that never streamed needs an operator. */
  async function assertMayBook(who: Principal, carId: string): Promise<void> {
    if (hasRole(who, 'operator')) return;
    const seen = hasRole(who, 'car') && (await deps.fleet.getCar(carId)) !== null;
    const refusal = bookingRefusal(who, carId, { streamedBy: deps.streamedBy?.(carId), seen });
    if (refusal) throw new Denied(who, refusal);
  }

  const requestBooking = unary<BookingRequestMsg, BookingResponseMsg>('RequestBooking', null, async (req, h, who) => {
    const check = validateBookingRequest(req, 'request');
    if (!check.ok) throw invalid(check.field, check.reason);
    const desk = bookingsOf(h);
    const value = { ...check.value, carId: check.value.carId! };
    await assertMayBook(who, value.carId);
    if (!value.stationId && value.lat === undefined && !(await deps.fleet.getCar(value.carId))) {
      throw precondition(`no position known for ${value.carId}: send latitude and longitude, a station_id, or stream its telemetry first`);
    }
    return toBookingResponse(await desk.request(value));
  });

  const cancelBooking = unary<BookingRequestMsg, BookingResponseMsg>('CancelBooking', null, async (req, h, who) => {
    const check = validateBookingRequest(req, 'cancel');
    if (!check.ok) throw invalid(check.field, check.reason);
    const desk = bookingsOf(h);
    const { carId, bookingId } = check.value;
    if (!hasRole(who, 'operator')) {
      // By booking id: whose booking it is decides, never the id alone.
      const owner = bookingId ? await bookingCarOf(desk, bookingId) : carId;
      if (!owner) throw new QueryError('not_found', `no booking ${bookingId}`);
      if (carId && owner !== carId) throw new Denied(who, `booking ${bookingId} is not ${carId}'s`);
      await assertMayBook(who, owner);
    }
    return toBookingResponse(await desk.cancel({ carId, bookingId }));
  });

  const nearestStations = unary<NearestRequestMsg, StationsReplyMsg>('NearestStations', 'stations', async (req, h) => {
    const limit = limitOf(req.limit, DEFAULT_NEAREST_LIMIT);
    const res = await h.queries.nearest(nearestFrom(req), { limit, available: Boolean(req.available_only) });
    return { stations: res.stations.map(stationToMsg), latitude: res.from.lat, longitude: res.from.lon, timestamp: now() };
  });

  const listStations = unary<object, StationsReplyMsg>('ListStations', 'stations', async (_req, h) => ({
    stations: (await h.queries.listStations()).map(stationToMsg),
    latitude: 0,
    longitude: 0,
    timestamp: now(),
  }));

  const listBookings = unary<ListBookingsRequestMsg, ListBookingsReplyMsg>('ListBookings', 'read_fleet', async (req, h) => {
    const status = (req.status || 'all') as BookingFilter;
    if (!bookingFilters.includes(status)) throw invalid('status', `status must be one of ${bookingFilters.join(', ')} (got ${req.status})`);
    const list = await h.queries.listBookings(status);
    return { bookings: list.bookings.map(bookingToMsg), timestamp: list.at };
  });

  const listSessions = unary<ListSessionsRequestMsg, ListSessionsReplyMsg>('ListSessions', 'read_fleet', async (req, h) => {
    if (req.car_id && !CAR_ID_PATTERN.test(req.car_id)) throw invalid('car_id', 'car_id must be 1–64 characters of A-Z a-z 0-9 _ -');
    if (req.station_id && !STATION_ID_PATTERN.test(req.station_id)) throw invalid('station_id', 'station_id must be 1–64 characters of A-Z a-z 0-9 _ . : -');
    const since = req.since_ms ?? 0;
    if (!Number.isInteger(since) || since < 0) throw invalid('since_ms', 'since_ms must be Unix ms (0 = no lower bound)');
    const rows = await h.queries.listSessions({ carId: req.car_id || undefined, stationId: req.station_id || undefined, sinceMs: since || undefined, limit: limitOf(req.limit, DEFAULT_SESSIONS_LIMIT) });
    return { sessions: rows.map(sessionToMsg) };
  });

  return {
    RequestBooking: requestBooking,
    CancelBooking: cancelBooking,
    NearestStations: nearestStations,
    ListStations: listStations,
    ListBookings: listBookings,
    ListSessions: listSessions,
  } as unknown as Record<string, grpc.handleUnaryCall<never, never>>;
}

/** Refused by ownership: PERMISSION_DENIED. */
class Denied extends Error {
  constructor(
    readonly principal: Principal,
    readonly reason: string,
  ) {
    super(reason);
  }
}

async function bookingCarOf(desk: NonNullable<QueryHandlers['bookings']>, bookingId: string): Promise<string | null> {
  if (!desk.bookingCar) throw precondition('this server cannot look bookings up by id; cancel by car_id');
  return desk.bookingCar(bookingId);
}

function bookingsOf(h: QueryHandlers) {
  if (!h.bookings) throw precondition('bookings are not taken here: this server has no coordinator attached');
  return h.bookings;
}

function limitOf(limit: number | undefined, fallback: number): number {
  const n = limit ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > MAX_LIST_LIMIT) throw invalid('limit', `limit must be within 0..${MAX_LIST_LIMIT} (0 = default ${fallback})`);
  return n || fallback;
}

function nearestFrom(req: NearestRequestMsg): NearestFrom {
  if (req.car_id) {
    if (!CAR_ID_PATTERN.test(req.car_id)) throw invalid('car_id', 'car_id must be 1–64 characters of A-Z a-z 0-9 _ -');
    return { carId: req.car_id };
  }
  const lat = req.latitude ?? 0;
  const lon = req.longitude ?? 0;
  if (lat === 0 && lon === 0) throw invalid('latitude', 'latitude and longitude (or car_id) are required');
  if (!Number.isFinite(lat) || Math.abs(lat) > 90) throw invalid('latitude', `latitude must be within -90..90 (got ${lat})`);
  if (!Number.isFinite(lon) || Math.abs(lon) > 180) throw invalid('longitude', `longitude must be within -180..180 (got ${lon})`);
  return { lat, lon };
}

/** QueryError → its status; anything else is an engine failure: UNAVAILABLE, logged. */
function toStatus(rpc: string, err: unknown, logger: Logger): grpc.ServiceError {
  if (err instanceof Denied) return permissionDenied(err.principal, `${rpc}: ${err.reason}`);
  if (err instanceof QueryError) {
    const code = { invalid: grpc.status.INVALID_ARGUMENT, not_found: grpc.status.NOT_FOUND, unavailable: grpc.status.FAILED_PRECONDITION }[err.kind];
    return statusError(code, err.message);
  }
  logger.warn({ err, rpc }, 'ingestion: query failed');
  return statusError(grpc.status.UNAVAILABLE, `${rpc} failed: ${(err as Error).message ?? String(err)}`);
}
