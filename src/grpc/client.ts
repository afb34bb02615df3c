import * as grpc from '@grpc/grpc-js';
import type { SessionQuery, SessionRow } from '../ports/store.js';
import type { BookingFilter, BookingList, NearestResult } from '../services/queries/fleet-queries.js';
import type { StationRow } from '../services/queries/station-rows.js';
import {
  loadFleetProto,
  type BookingRequestMsg,
  type BookingResponseMsg,
  type ListBookingsReplyMsg,
  type ListSessionsReplyMsg,
  type NearestRequestMsg,
  type StationsReplyMsg,
  type StationAvailabilityReplyMsg,
  type StationAvailabilityRequestMsg,
  type CarStateMsg,
  type CarStatusBatchMsg,
  type CarStatusMsg,
  type FleetEventMsg,
  type StatsReplyMsg,
  type WatchRequestMsg,
} from './proto.js';
import { bookingListFromMsg, nearestFromMsg, sessionFromMsg, stationFromMsg } from './query-codec.js';
import { channelCredentials, type TlsFiles } from './tls.js';

/** Keepalive so idle car streams survive NATs and dead peers are noticed. */
export const CLIENT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

export interface FleetClientOptions {
  /** Own TCP connection instead of grpc-js's process-wide subchannel pool (spreads load over cores). */
  separateConnection?: boolean;
  /** Load a different proto (e.g. the original fixture in compatibility tests). */
  protoPath?: string;
  /** TLS: a CA to trust the server (--tls-ca), a client certificate (--tls-cert/--tls-key). Insecure without. */
  tls?: TlsFiles;
}

export interface FleetClient {
  readonly raw: grpc.Client;
  /** Metadata carrying x-api-token for one call. */
  metadata(): grpc.Metadata;
  streamTelemetry(): grpc.ClientDuplexStream<CarStatusMsg, BookingResponseMsg>;
  streamTelemetryBatch(): grpc.ClientDuplexStream<CarStatusBatchMsg, BookingResponseMsg>;
  watchEvents(req?: WatchRequestMsg): grpc.ClientReadableStream<FleetEventMsg>;
  /** The latest state of a car, or null when the server has never seen it. */
  getCar(carId: string, deadlineMs?: number): Promise<CarStateMsg | null>;
  stats(deadlineMs?: number): Promise<StatsReplyMsg>;
  /** RequestBooking: a port now (or the queue); rejects with INVALID_ARGUMENT naming a bad field. */
  requestBooking(req: BookingRequestMsg, deadlineMs?: number): Promise<BookingResponseMsg>;
  /** CancelBooking by car_id or booking_id. */
  cancelBooking(req: BookingRequestMsg, deadlineMs?: number): Promise<BookingResponseMsg>;
  nearestStations(req: NearestRequestMsg, deadlineMs?: number): Promise<NearestResult>;
  listStations(deadlineMs?: number): Promise<StationRow[]>;
  listBookings(status?: BookingFilter, deadlineMs?: number): Promise<BookingList>;
  listSessions(q?: SessionQuery, deadlineMs?: number): Promise<SessionRow[]>;
  /** SetStationAvailability (operator): offline re-plans the station's bookings; online restores its ports. */
  setStationAvailability(stationId: string, online: boolean, deadlineMs?: number): Promise<StationAvailabilityReplyMsg>;
  waitForReady(timeoutMs?: number): Promise<void>;
  close(): void;
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A typed FleetService client that attaches x-api-token to every call. */
export function createFleetClient(address: string, token: string, opts: FleetClientOptions = {}): FleetClient {
  const { FleetService } = loadFleetProto(opts.protoPath);
  const options: grpc.ChannelOptions = { ...CLIENT_CHANNEL_OPTIONS };
  if (opts.separateConnection) options['grpc.use_local_subchannel_pool'] = 1;
  const raw = new FleetService(address, channelCredentials(opts.tls), options) as AnyClient;
  const metadata = () => {
    const md = new grpc.Metadata();
    md.set('x-api-token', token);
    return md;
  };
  const unary = <Req, Res>(method: string, req: Req, deadlineMs: number) =>
    new Promise<Res>((resolve, reject) => {
      raw[method](req, metadata(), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
    });
  return {
    raw,
    metadata,
    streamTelemetry: () => raw.StreamTelemetry(metadata()) as grpc.ClientDuplexStream<CarStatusMsg, BookingResponseMsg>,
    streamTelemetryBatch: () => raw.StreamTelemetryBatch(metadata()) as grpc.ClientDuplexStream<CarStatusBatchMsg, BookingResponseMsg>,
    watchEvents: (req = {}) => raw.WatchEvents(req, metadata()) as grpc.ClientReadableStream<FleetEventMsg>,
    async getCar(carId, deadlineMs = 5_000) {
      const res = await unary<{ car_id: string }, CarStateMsg>('GetCar', { car_id: carId }, deadlineMs);
      return res.found ? res : null;
    },
    stats: (deadlineMs = 5_000) => unary<object, StatsReplyMsg>('Stats', {}, deadlineMs),
    requestBooking: (req, deadlineMs = 5_000) => unary<BookingRequestMsg, BookingResponseMsg>('RequestBooking', req, deadlineMs),
    cancelBooking: (req, deadlineMs = 5_000) => unary<BookingRequestMsg, BookingResponseMsg>('CancelBooking', req, deadlineMs),
    async nearestStations(req, deadlineMs = 5_000) {
      const res = await unary<NearestRequestMsg, StationsReplyMsg>('NearestStations', req, deadlineMs);
      return { from: { lat: res.latitude, lon: res.longitude }, stations: (res.stations ?? []).map(nearestFromMsg) };
    },
    async listStations(deadlineMs = 5_000) {
      const res = await unary<object, StationsReplyMsg>('ListStations', {}, deadlineMs);
      return (res.stations ?? []).map(stationFromMsg);
    },
    async listBookings(status = 'all', deadlineMs = 5_000) {
      return bookingListFromMsg(await unary<object, ListBookingsReplyMsg>('ListBookings', { status }, deadlineMs));
    },
    async listSessions(q = {}, deadlineMs = 5_000) {
      const req = { car_id: q.carId ?? '', station_id: q.stationId ?? '', since_ms: q.sinceMs ?? 0, limit: q.limit ?? 0 };
      const res = await unary<object, ListSessionsReplyMsg>('ListSessions', req, deadlineMs);
      return (res.sessions ?? []).map(sessionFromMsg);
    },
    async setStationAvailability(stationId, online, deadlineMs = 15_000) {
      const res = await unary<StationAvailabilityRequestMsg, StationAvailabilityReplyMsg>('SetStationAvailability', { station_id: stationId, online }, deadlineMs);
      return { ...res, replanned: res.replanned ?? [] };
    },
    waitForReady: (timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()))),
    close: () => raw.close(),
  };
}
