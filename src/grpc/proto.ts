import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CarStatusValue } from '../domain/telemetry.js';
import { assetPath } from '../util/assets.js';

/** Loader options shared by server, clients and tests: snake_case fields, int64 as number, enums as names. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type BookingStatusName =
  | 'BOOKING_UNKNOWN'
  | 'BOOKING_CONFIRMED'
  | 'BOOKING_FAILED'
  | 'BOOKING_EXPIRED'
  | 'BOOKING_QUEUED'
  | 'BOOKING_CANCELLED'
  | 'BOOKING_CHARGING'
  | 'BOOKING_COMPLETED'
  | 'BOOKING_DEFERRED';

/** fleet.CarStatus as decoded with PROTO_LOADER_OPTIONS (the same shape validation produces). */
export type CarStatusMsg = CarStatusValue;

export interface CarStatusBatchMsg {
  cars: CarStatusMsg[];
  /** The client's batch number (0 or absent: no acknowledgement wanted). */
  seq?: number;
}

/** fleet.BookingResponse; fields 8+ are additions the original clients ignore. */
export interface BookingResponseMsg {
  booking_id?: string;
  car_id?: string;
  station_id?: string;
  status?: BookingStatusName;
  message?: string;
  timestamp?: number;
  price_rate?: number;
  queue_position?: number;
  expires_at?: number;
  reason?: string;
  event_type?: string;
  /** StreamTelemetryBatch: every batch up to this seq is on the bus. */
  ack_seq?: number;
}

export interface WatchRequestMsg {
  event_types?: string[];
  car_ids?: string[];
}

export interface FleetEventMsg {
  json: string;
  event_type: string;
  car_id: string;
  timestamp: number;
}

export interface CarQueryMsg {
  car_id: string;
}

export interface CarStateMsg extends CarStatusValue {
  state: string;
  found: boolean;
}

export interface StatsReplyMsg {
  accepted: number;
  rejected: number;
  active_streams: number;
  batches: number;
  published: number;
  queued: number;
  paused: number;
  started_at: number;
}

/** fleet.BookingRequest: the original fields 1–4 plus booking_id and an optional position. */
export interface BookingRequestMsg {
  car_id?: string;
  station_id?: string;
  expected_arrival?: number;
  battery_level?: number;
  booking_id?: string;
  latitude?: number;
  longitude?: number;
}

export interface NearestRequestMsg {
  latitude?: number;
  longitude?: number;
  car_id?: string;
  limit?: number;
  available_only?: boolean;
}

export interface StationInfoMsg {
  station_id: string;
  name: string;
  latitude: number;
  longitude: number;
  distance_km: number;
  drive_min: number;
  ports: number;
  free_ports: number;
  holds: number;
  charging: number;
  queue_length: number;
  power_kw: number;
  price_per_kwh: number;
  /** Added (14): an operator took the station offline. */
  offline?: boolean;
}

export interface StationAvailabilityRequestMsg {
  station_id: string;
  online: boolean;
}

export interface ReplannedBookingMsg {
  car_id: string;
  was: string;
  booking_id: string;
  status: string;
  station_id: string;
  new_booking_id: string;
  reason: string;
  queue_position: number;
}

export interface StationAvailabilityReplyMsg {
  station_id: string;
  online: boolean;
  changed: boolean;
  ports: number;
  replanned: ReplannedBookingMsg[];
  promoted: number;
  timestamp: number;
}

export interface StationsReplyMsg {
  stations: StationInfoMsg[];
  latitude: number;
  longitude: number;
  timestamp: number;
}

export interface ListBookingsRequestMsg {
  status?: string;
}

export interface BookingInfoMsg {
  booking_id: string;
  car_id: string;
  station_id: string;
  status: string;
  battery_level: number;
  critical: boolean;
  created_at: number;
  expires_at: number;
  charging_since: number;
  waiting_since: number;
  queue_position: number;
  candidate_station_ids: string[];
}

export interface ListBookingsReplyMsg {
  bookings: BookingInfoMsg[];
  timestamp: number;
}

export interface ListSessionsRequestMsg {
  car_id?: string;
  station_id?: string;
  since_ms?: number;
  limit?: number;
}

export interface SessionInfoMsg {
  session_id: string;
  station_id: string;
  car_id: string;
  start_time: number;
  end_time: number;
  start_battery: number;
  end_battery: number;
  kwh: number;
  price_rate: number;
  cost: number;
}

export interface ListSessionsReplyMsg {
  sessions: SessionInfoMsg[];
}

/** The FleetService constructor as produced by loadPackageDefinition. */
export type FleetServiceCtor = grpc.ServiceClientConstructor;

/** proto/fleet.proto of this package (a file the single executable writes out from its assets). */
export function fleetProtoPath(): string {
  return assetPath('proto/fleet.proto');
}

const cache = new Map<string, { definition: protoLoader.PackageDefinition; FleetService: FleetServiceCtor }>();

/** Loads the fleet package (default: proto/fleet.proto) once per path. */
export function loadFleetProto(path = fleetProtoPath()): { definition: protoLoader.PackageDefinition; FleetService: FleetServiceCtor } {
  let loaded = cache.get(path);
  if (!loaded) {
    const definition = protoLoader.loadSync(path, PROTO_LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { fleet: { FleetService: FleetServiceCtor } };
    loaded = { definition, FleetService: pkg.fleet.FleetService };
    cache.set(path, loaded);
  }
  return loaded;
}
