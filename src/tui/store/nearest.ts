import { driveMinutes } from '../../domain/drive-time.js';
import { haversineKm, type LatLon } from '../../domain/geo.js';
import type { NearestFrom, NearestResult } from '../../services/queries/fleet-queries.js';
import type { LiveNearestRow } from '../sources/station-rows.js';
import type { CarView, StationView } from './types.js';

export type NearestQuery = { kind: 'point'; lat: number; lon: number } | { kind: 'car'; carId: string };

export interface NearestRow {
  station: StationView;
  distanceKm: number;
  driveMinutes: number;
  /** Free ports (ports − taken), or undefined when the total is unknown. */
  freePorts?: number;
  price?: number;
}

export type NearestAnswer =
  | {
      ok: true;
      origin: LatLon;
      label: string;
      rows: NearestRow[];
      /** Who computed it: the server's search (free ports now) or this process from the station list. */
      source: 'server' | 'local';
      /** Why a server answer was not used, when it was asked. */
      note?: string;
    }
  | { ok: false; error: string; pending?: boolean };

export interface NearestDeps {
  stations: StationView[];
  getCar: (id: string) => CarView | undefined;
  currentPrice?: number;
  limit?: number;
}

/** "40.75,-73.98" (or with a space) → a point; anything else is a car id. */
export function parseNearestQuery(text: string): NearestQuery | null {
  const t = text.trim();
  if (!t) return null;
  const m = /^(-?\d+(?:\.\d+)?)\s*[,\s]\s*(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const lat = Number(m[1]);
    const lon = Number(m[2]);
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return { kind: 'point', lat, lon };
  }
  return { kind: 'car', carId: t.toUpperCase() };
}

/**
 * Top stations by straight-line distance from a point or a car's last position seen in the
 * stream, computed locally from the station list (the fallback when the server cannot answer).
 * Drive times use the one drive-time model (src/domain/drive-time.ts), as the server's answers do.
 */
export function answerNearest(text: string, deps: NearestDeps): NearestAnswer {
  const q = parseNearestQuery(text);
  if (!q) return { ok: false, error: 'type "lat,lon" (e.g. 40.758,-73.985) or a car id (e.g. CAR-007)' };
  let origin: LatLon;
  let label: string;
  if (q.kind === 'point') {
    origin = { lat: q.lat, lon: q.lon };
    label = `${q.lat.toFixed(4)}, ${q.lon.toFixed(4)}`;
  } else {
    const car = deps.getCar(q.carId);
    if (!car) return { ok: false, error: `no position seen for ${q.carId} yet` };
    origin = { lat: car.lat, lon: car.lon };
    label = `${car.carId} at ${car.lat.toFixed(4)}, ${car.lon.toFixed(4)} (${car.battery.toFixed(1)}%)`;
  }
  const located = deps.stations.filter((s) => s.lat !== undefined && s.lon !== undefined);
  if (!located.length) return { ok: false, error: 'no station positions known (load deploy/stations/*.json or set --stations-file)' };
  const rows = located
    .map((station) => {
      const distanceKm = haversineKm(origin, { lat: station.lat!, lon: station.lon! });
      return {
        station,
        distanceKm,
        driveMinutes: driveMinutes(distanceKm),
        freePorts: station.ports > 0 ? Math.max(0, station.ports - station.taken) : undefined,
        price: station.priceRate ?? deps.currentPrice,
      };
    })
    .sort((a, b) => a.distanceKm - b.distanceKm)
    .slice(0, deps.limit ?? 5);
  return { ok: true, origin, label, rows, source: 'local' };
}

/**
 * The nearest stations by the server's search (a car is looked up where the server last saw it),
 * falling back to answerNearest when there is no server, it fails, or it knows no stations.
 */
export async function askNearest(
  text: string,
  deps: NearestDeps & { remote?: (from: NearestFrom, limit: number) => Promise<NearestResult> },
): Promise<NearestAnswer> {
  const q = parseNearestQuery(text);
  if (!q || !deps.remote) return answerNearest(text, deps);
  let why: string;
  try {
    const res = await deps.remote(q.kind === 'point' ? { lat: q.lat, lon: q.lon } : { carId: q.carId }, deps.limit ?? 5);
    if (res.stations.length) return fromServer(q, res, deps);
    why = 'the server knows no stations';
  } catch (err) {
    why = `server: ${(err as Error).message}`;
  }
  const local = answerNearest(text, deps);
  return local.ok ? { ...local, note: `${why}; computed here from the station list` } : { ok: false, error: `${local.error} (${why})` };
}

function fromServer(q: NearestQuery, res: NearestResult, deps: NearestDeps): NearestAnswer {
  const origin = { lat: res.from.lat, lon: res.from.lon };
  const at = `${origin.lat.toFixed(4)}, ${origin.lon.toFixed(4)}`;
  const car = q.kind === 'car' ? deps.getCar(q.carId) : undefined;
  const label = q.kind === 'point' ? at : `${q.carId} at ${at}${car ? ` (${car.battery.toFixed(1)}%)` : ''}`;
  const rows = res.stations.map((r): NearestRow => {
    const station = liveStationView(r);
    return { station, distanceKm: r.distanceKm, driveMinutes: r.driveMin, freePorts: r.free, price: station.priceRate ?? deps.currentPrice };
  });
  return { ok: true, origin, label, rows, source: 'server' };
}

function liveStationView(r: LiveNearestRow): StationView {
  return { id: r.id, name: r.name, lat: r.lat, lon: r.lon, ports: r.ports, taken: r.holds + r.charging, queue: r.queueLength, priceRate: r.pricePerKwh > 0 ? r.pricePerKwh : undefined };
}
