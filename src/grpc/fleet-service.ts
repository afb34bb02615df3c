import * as grpc from '@grpc/grpc-js';
import { STATION_ID_PATTERN } from '../domain/booking-request.js';
import { hasRole } from '../domain/principals.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { FleetState } from '../ports/fleet-state.js';
import type { IngestionCore } from '../services/ingestion/ingestion.js';
import { QueryError, type QueryHandlers } from '../services/queries/fleet-queries.js';
import { permissionDenied, type Authenticate } from './auth.js';
import type { BookingResponseMsg, FleetEventMsg, StationAvailabilityReplyMsg, StationAvailabilityRequestMsg, WatchRequestMsg } from './proto.js';
import { statusError } from './server.js';
import { queryServiceHandlers } from './query-service.js';
import { telemetryRpcHandlers } from './telemetry-rpcs.js';
import { watchEvents } from './watch-events.js';

export interface FleetServiceDeps {
  authenticate: Authenticate;
  core: IngestionCore<BookingResponseMsg>;
  bus: EventBus;
  fleet: FleetState;
  /** The namespaced fleet-events topic (WatchEvents reads it). */
  topic: string;
  logger: Logger;
  /** Open WatchEvents calls, by their close function. */
  watchers: Set<() => void>;
  /** What answers the booking and query RPCs; undefined until the stack attaches it (FAILED_PRECONDITION until then). */
  queries(): QueryHandlers | undefined;
}

/**
 * Every RPC of FleetService (proto/fleet.proto), as the handler map grpc-js's addService takes:
 * telemetry in (StreamTelemetry, StreamTelemetryBatch), reads of ingestion (GetCar, Stats),
 * WatchEvents, bookings (RequestBooking, CancelBooking) and the operator queries.
 */
export function fleetServiceHandlers(deps: FleetServiceDeps): grpc.UntypedServiceImplementation {
  const { authenticate, core, bus, fleet, topic, logger, watchers } = deps;
  return {
    ...telemetryRpcHandlers({ authenticate, core, fleet, logger }),
    WatchEvents: (call: grpc.ServerWritableStream<WatchRequestMsg, FleetEventMsg>) => void watchEvents({ authenticate, bus, topic, logger, watchers }, call),
    ...queryServiceHandlers({ authenticate, handlers: deps.queries, fleet, logger, streamedBy: (carId) => core.streamedByOf(carId) }),
    SetStationAvailability: setStationAvailability(deps),
  } as grpc.UntypedServiceImplementation;
}

/** SetStationAvailability: operator tokens only; the coordinator re-plans (src/services/coordination/station-availability.ts). */
function setStationAvailability(deps: FleetServiceDeps): grpc.handleUnaryCall<StationAvailabilityRequestMsg, StationAvailabilityReplyMsg> {
  return (call, callback) => {
    const auth = deps.authenticate(call);
    if (!auth.ok) return callback(auth.error);
    if (!hasRole(auth.principal, 'operator')) return callback(permissionDenied(auth.principal, 'take stations offline or online (an operator token is needed)'));
    const stationId = call.request.station_id ?? '';
    if (!STATION_ID_PATTERN.test(stationId)) return callback(statusError(grpc.status.INVALID_ARGUMENT, 'station_id must be 1–64 characters of A-Z a-z 0-9 _ . : -'));
    const set = deps.queries()?.bookings?.setStationOnline;
    if (!set) return callback(statusError(grpc.status.FAILED_PRECONDITION, 'SetStationAvailability: this server has no coordinator attached; use `greenlane up`'));
    set(stationId, Boolean(call.request.online)).then(
      (r) =>
        callback(null, {
          station_id: r.stationId, online: r.online, changed: r.changed, ports: r.ports, promoted: r.promoted, timestamp: Date.now(),
          replanned: r.replanned.map((p) => ({ car_id: p.carId, was: p.was, booking_id: p.bookingId, status: p.now.status, station_id: p.now.stationId, new_booking_id: p.now.bookingId, reason: p.now.reason, queue_position: p.now.queuePosition })),
        }),
      (err: unknown) => {
        if (err instanceof QueryError && err.kind === 'not_found') return callback(statusError(grpc.status.NOT_FOUND, err.message));
        deps.logger.warn({ err, stationId }, 'ingestion: SetStationAvailability failed');
        callback(statusError(grpc.status.UNAVAILABLE, `SetStationAvailability failed: ${(err as Error).message ?? String(err)}`));
      },
    );
  };
}
