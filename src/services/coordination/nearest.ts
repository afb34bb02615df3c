import type { Station } from '../../domain/charging.js';
import { driveMinutes, type DriveModel } from '../../domain/drive-time.js';
import { haversineKm } from '../../domain/geo.js';
import type { FleetState, NearestStation } from '../../ports/fleet-state.js';
import type { StationStatus } from '../../ports/reservations.js';
import type { StationStatusCache } from './status-cache.js';

export interface NearestRow {
  station: Station;
  distanceKm: number;
  driveMin: number;
  freePorts: number;
  holds: number;
  charging: number;
  queueLength: number;
}

export interface NearestOptions {
  /** Rows returned (default 5). */
  limit?: number;
  /** Only stations with a free port. */
  available?: boolean;
}

export interface NearestDeps {
  /** GEOSEARCH when present; else the distance to every station. */
  fleet?: Pick<FleetState, 'nearestStations'>;
  stations: Station[];
  status: Pick<StationStatusCache, 'get'>;
  drive: DriveModel;
}

/** A station's row: distance, drive time (src/domain/drive-time.ts) and occupancy. */
export function nearestRow({ station, distanceKm }: NearestStation, s: StationStatus | undefined, drive: DriveModel): NearestRow {
  const holds = s?.holds ?? 0;
  const charging = s?.charging ?? 0;
  const ports = s?.ports ?? station.ports;
  return { station, distanceKm, driveMin: driveMinutes(distanceKm, drive), freePorts: Math.max(0, ports - holds - charging), holds, charging, queueLength: s?.queueLength ?? 0 };
}

/** Stations nearest first, with their occupancy; `available` looks through every station for free ports. */
export async function nearestStations(deps: NearestDeps, lat: number, lon: number, opts: NearestOptions = {}): Promise<NearestRow[]> {
  const limit = opts.limit ?? 5;
  const fetch = opts.available ? deps.stations.length : limit;
  const near = deps.fleet
    ? await deps.fleet.nearestStations(lat, lon, fetch)
    : deps.stations
        .map((station) => ({ station, distanceKm: haversineKm({ lat, lon }, station) }))
        .sort((a, b) => a.distanceKm - b.distanceKm)
        .slice(0, fetch);
  const status = await deps.status.get();
  return near
    .map((n) => nearestRow(n, status.get(n.station.id), deps.drive))
    .filter((r) => !opts.available || r.freePorts > 0)
    .slice(0, limit);
}
