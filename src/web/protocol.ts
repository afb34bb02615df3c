/**
 * The web view's WebSocket protocol (`/ws`), shared by the hub (src/web/hub.ts) and the page
 * (web/src). JSON text frames. The browser speaks first: `auth` with an operator token; the hub
 * answers `snapshot` (everything) and then `delta` frames at most every 100 ms.
 */

import type { StationView } from '../tui/store/types.js';

/** One car, compact: [car id, lat, lon, battery %, velocity km/h]. */
export type CarTuple = [string, number, number, number, number];

/** Where a car's booking leaves it, as the hub knows from booking events. */
export interface CarBooking {
  carId: string;
  bookingId?: string;
  stationId: string;
  state: 'held' | 'charging' | 'queued';
}

/** A station as the page draws it: the console's station view, one type for both (src/tui/store/types.ts). */
export type WebStation = StationView;

export interface WebKpis {
  cars: number;
  critical: number;
  queued: number;
  charging: number;
  /** Σ cost / Σ kWh of the sessions completed since the hub started ($/kWh); null before the first. */
  avgPricePaid: number | null;
  /** Events per second the hub receives. */
  rate: number;
  bands: { green: number; yellow: number; red: number };
  source: string;
}

export interface WebPricePoint {
  time: number;
  price: number;
}

/** The simulator's street grid: the base layer, drawn from src/domain/manhattan.ts. */
export interface WebGrid {
  bounds: { minLat: number; maxLat: number; minLon: number; maxLon: number };
  avenues: number[];
  streets: number[];
}

export interface SnapshotMsg {
  type: 'snapshot';
  operator: string;
  grid: WebGrid;
  cars: CarTuple[];
  stations: WebStation[];
  bookings: CarBooking[];
  kpis: WebKpis;
  critical: CarTuple[];
  price: WebPricePoint | null;
  forecast: WebPricePoint[];
  /** A basemap tile URL template (`…/{z}/{x}/{y}.png`) from `--tiles`; absent: the street grid alone. */
  tiles?: string;
}

export interface DeltaMsg {
  type: 'delta';
  /** Cars changed since the last frame this client received: the latest state of each. */
  cars: CarTuple[];
  /** Cars the hub no longer tracks. */
  removed: string[];
  kpis: WebKpis;
  critical: CarTuple[];
  /** Present when any station changed. */
  stations?: WebStation[];
  bookings?: CarBooking[];
  price?: WebPricePoint | null;
  forecast?: WebPricePoint[];
}

export interface AuthFailedMsg {
  type: 'auth_failed';
  reason: string;
}

export interface ActionResultMsg {
  type: 'action_result';
  id: string;
  ok: boolean;
  message: string;
}

export type ServerMsg = SnapshotMsg | DeltaMsg | AuthFailedMsg | ActionResultMsg;

export interface AuthMsg {
  type: 'auth';
  token: string;
}

/** Cancel a booking by car (its active booking) or by booking id; needs the operator role. */
export interface CancelMsg {
  type: 'cancel';
  id: string;
  carId?: string;
  bookingId?: string;
}

/** Request a booking for a car (the coordinator picks the station unless one is named); needs the operator role. */
export interface RequestMsg {
  type: 'request';
  id: string;
  carId: string;
  stationId?: string;
}

/** Take a station offline (its bookings re-planned elsewhere) or back online; needs the operator role. */
export interface StationAvailabilityMsg {
  type: 'station';
  id: string;
  stationId: string;
  online: boolean;
}

export type ClientMsg = AuthMsg | CancelMsg | RequestMsg | StationAvailabilityMsg;

/** WebSocket close code for a refused credential (4000–4999: application codes). */
export const CLOSE_UNAUTHORIZED = 4401;
