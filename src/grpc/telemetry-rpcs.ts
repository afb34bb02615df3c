import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.js';
import type { FleetState } from '../ports/fleet-state.js';
import type { IngestionCore } from '../services/ingestion/ingestion.js';
import { hasRole, may } from '../domain/principals.js';
import { permissionDenied, type Authenticate } from './auth.js';
import type { BookingResponseMsg, CarQueryMsg, CarStateMsg, CarStatusBatchMsg, CarStatusMsg, StatsReplyMsg } from './proto.js';
import { statusError } from './server.js';
import { telemetryRejection, toCarStateMsg, toStatsReplyMsg } from './telemetry-codec.js';

/** What the telemetry RPCs (StreamTelemetry, StreamTelemetryBatch, GetCar, Stats) need. */
export interface TelemetryRpcDeps {
  authenticate: Authenticate;
  core: IngestionCore<BookingResponseMsg>;
  fleet: FleetState;
  logger: Logger;
}

/**
 * Serves one telemetry stream: every CarStatus (one per message, or `unpack`ed from a batch) goes
 * to ingestion; an invalid one is answered on the stream with BOOKING_FAILED naming the field.
 */
export function serveTelemetryStream<T>(deps: TelemetryRpcDeps, call: grpc.ServerDuplexStream<T, BookingResponseMsg>, unpack: (msg: T) => CarStatusMsg[]): void {
  const auth = deps.authenticate(call);
  const denied = !auth.ok ? auth.error : !may(auth.principal, 'stream') ? permissionDenied(auth.principal, 'stream telemetry (use a fleet or car token)') : null;
  if (denied || !auth.ok) {
    call.emit('error', denied);
    return;
  }
  const { core } = deps;
  const slot = core.open(call, auth.principal);
  const finish = () => core.close(slot);
  call.on('data', (msg: T) => {
    for (const car of unpack(msg)) {
      const result = core.receive(slot, car);
      if (result && !result.ok) core.respond(slot, telemetryRejection(car, result, core.now()));
    }
  });
  call.on('end', () => {
    finish();
    if (call.writable) call.end();
  });
  call.on('cancelled', finish);
  call.on('error', finish);
  call.on('close', finish);
}

export function telemetryRpcHandlers(deps: TelemetryRpcDeps) {
  return {
    StreamTelemetry: (call: grpc.ServerDuplexStream<CarStatusMsg, BookingResponseMsg>) => serveTelemetryStream(deps, call, (m) => [m]),
    StreamTelemetryBatch: (call: grpc.ServerDuplexStream<CarStatusBatchMsg, BookingResponseMsg>) => serveTelemetryStream(deps, call, (m) => m.cars ?? []),
    GetCar: (call: grpc.ServerUnaryCall<CarQueryMsg, CarStateMsg>, cb: grpc.sendUnaryData<CarStateMsg>) => void getCar(deps, call, cb),
    Stats: (call: grpc.ServerUnaryCall<unknown, StatsReplyMsg>, cb: grpc.sendUnaryData<StatsReplyMsg>) => {
      const auth = deps.authenticate(call);
      if (!auth.ok) return cb(auth.error);
      if (!may(auth.principal, 'read_fleet')) return cb(permissionDenied(auth.principal, 'read ingestion stats'));
      cb(null, toStatsReplyMsg(deps.core.stats()));
    },
  };
}

async function getCar(deps: TelemetryRpcDeps, call: grpc.ServerUnaryCall<CarQueryMsg, CarStateMsg>, callback: grpc.sendUnaryData<CarStateMsg>): Promise<void> {
  const auth = deps.authenticate(call);
  if (!auth.ok) return callback(auth.error);
  const p = auth.principal;
  const own = hasRole(p, 'car') && p.carId === call.request.car_id;
  if (!may(p, 'read_fleet') && !(own && may(p, 'read_car'))) return callback(permissionDenied(p, `read ${call.request.car_id}`));
  try {
    const car = await deps.fleet.getCar(call.request.car_id);
    callback(null, toCarStateMsg(call.request.car_id, car));
  } catch (err) {
    callback(statusError(grpc.status.UNAVAILABLE, `fleet state: ${(err as Error).message}`));
  }
}
