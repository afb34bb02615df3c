import { driveMinutes } from '../../domain/drive-time.js';
import type { NearestStation, Station } from '../../ports/fleet-state.js';
import type { StationStatus } from '../../ports/reservations.js';
import { isOffline } from '../coordination/station-availability.js';

/** A station as the query commands, the RPCs and the console show it. */
export interface StationRow {
  id: string;
  name: string;
  lat: number;
  lon: number;
  ports: number;
  free: number;
  holds: number;
  charging: number;
  queueLength: number;
  powerKw: number;
  pricePerKwh: number;
  /** An operator took it offline (its ports are unavailable until it is back online). */
  offline?: boolean;
}

export interface NearestStationRow extends StationRow {
  distanceKm: number;
  driveMin: number;
}

export function stationRow(s: Station, status: StationStatus | undefined, pricePerKwh: number): StationRow {
  const ports = status?.ports ?? s.ports;
  const holds = status?.holds ?? 0;
  const charging = status?.charging ?? 0;
  return {
    id: s.id, name: s.name, lat: s.lat, lon: s.lon, ports, free: Math.max(0, ports - holds - charging), holds, charging,
    queueLength: status?.queueLength ?? 0, powerKw: s.powerKw, pricePerKwh, ...(isOffline(s, status) ? { offline: true } : {}),
  };
}

/** Nearest first (the order GEOSEARCH … ASC gave), with drive time and free ports. */
export function nearestRows(near: NearestStation[], status: Map<string, StationStatus>, pricePerKwh: number, opts: { limit: number; available: boolean }): NearestStationRow[] {
  return near
    .map(({ station, distanceKm }) => ({
      ...stationRow(station, status.get(station.id), pricePerKwh),
      distanceKm,
      driveMin: driveMinutes(distanceKm),
    }))
    .filter((r) => !opts.available || r.free > 0)
    .slice(0, opts.limit);
}
