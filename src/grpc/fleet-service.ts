import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { FleetState } from '../ports/fleet-state.js';
import type { IngestionCore } from '../services/ingestion/ingestion.js';
import type { QueryHandlers } from '../services/queries/fleet-queries.js';
import type { Authenticate } from './auth.js';
import type { BookingResponseMsg, FleetEventMsg, WatchRequestMsg } from './proto.js';
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
  } as grpc.UntypedServiceImplementation;
}
