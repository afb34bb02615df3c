import type { LoadedConfig } from '../config/load.js';
import { defaultPolicy } from '../domain/booking-policy.js';
import { haversineKm } from '../domain/geo.js';
import { priceAt as localPriceAt } from '../domain/pricing.js';
import { readStationsFile } from '../domain/stations.js';
import type { Logger } from '../observability/logger.js';
import type { FleetState, NearestStation, Station } from '../ports/fleet-state.js';
import type { Reservations, StationStatus } from '../ports/reservations.js';

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
}

export interface NearestStationRow extends StationRow {
  distanceKm: number;
  driveMin: number;
}

/**
 * What the `stations` commands read. External mode reads the live state in Redis (fleet state
 * and reservations). Embedded mode keeps that state inside `greenlane up`, so without a server
 * RPC these commands can only show the stations file with every port free (`live: false`).
 */
export interface StationsView {
  readonly live: boolean;
  readonly source: string;
  list(): Promise<StationRow[]>;
  nearest(lat: number, lon: number, opts: { limit: number; available: boolean }): Promise<NearestStationRow[]>;
  carPosition(carId: string): Promise<{ lat: number; lon: number } | null>;
  load(stations: Station[]): Promise<void>;
  close(): Promise<void>;
}

export async function openStationsView(loaded: LoadedConfig, logger: Logger, stationsFile: string): Promise<StationsView> {
  const { config } = loaded;
  if (!config.redisUrl) return fileView(stationsFile);
  const { createRedisFleetState } = await import('../adapters/redis/redis-fleet-state.js');
  const { createRedisReservations } = await import('../adapters/redis/redis-reservations.js');
  const { createHttpPriceSource } = await import('../adapters/http-price-source.js');
  const fleet = await createRedisFleetState({ url: config.redisUrl, namespace: config.namespace, logger });
  const reservations = await createRedisReservations({ url: config.redisUrl, namespace: config.namespace, logger }).catch(async (err) => {
    await fleet.close();
    throw err;
  });
  const prices = createHttpPriceSource({ gridUrl: config.gridUrl, logger, timeoutMs: 1_000 });
  return redisView(fleet, reservations, async () => (await prices.priceAt(Date.now())).price_per_kwh, async () => {
    prices.close();
    await Promise.all([fleet.close(), reservations.close()]);
  });
}

function redisView(fleet: FleetState, reservations: Reservations, price: () => Promise<number>, close: () => Promise<void>): StationsView {
  const statusMap = async () => new Map((await reservations.stationStatus()).map((s) => [s.id, s]));
  return {
    live: true,
    source: 'redis',
    async list() {
      const [stations, status, p] = await Promise.all([fleet.listStations(), statusMap(), price()]);
      return stations.map((s) => stationRow(s, status.get(s.id), p));
    },
    async nearest(lat, lon, opts) {
      // --available filters after the search, so it searches every station (still nearest first).
      const count = opts.available ? (await fleet.listStations()).length : opts.limit;
      const [near, status, p] = await Promise.all([fleet.nearestStations(lat, lon, count), statusMap(), price()]);
      return nearestRows(near, status, p, opts);
    },
    async carPosition(carId) {
      const car = await fleet.getCar(carId);
      return car && { lat: car.lat, lon: car.lon };
    },
    async load(stations) {
      await fleet.loadStations(stations);
      await reservations.loadStations(stations, Date.now());
    },
    close,
  };
}

async function fileView(path: string): Promise<StationsView> {
  const stations = await readStationsFile(path);
  const price = () => localPriceAt(Date.now()).price_per_kwh;
  return {
    live: false,
    source: path,
    async list() {
      return stations.map((s) => stationRow(s, undefined, price()));
    },
    async nearest(lat, lon, opts) {
      const near = stations.map((station) => ({ station, distanceKm: haversineKm({ lat, lon }, station) })).sort((a, b) => a.distanceKm - b.distanceKm);
      return nearestRows(near, new Map(), price(), opts);
    },
    async carPosition() {
      return null;
    },
    async load() {
      throw new Error('embedded mode has no shared station state to load into');
    },
    async close() {},
  };
}

export function stationRow(s: Station, status: StationStatus | undefined, pricePerKwh: number): StationRow {
  const ports = status?.ports ?? s.ports;
  const holds = status?.holds ?? 0;
  const charging = status?.charging ?? 0;
  return {
    id: s.id, name: s.name, lat: s.lat, lon: s.lon, ports, free: Math.max(0, ports - holds - charging), holds, charging,
    queueLength: status?.queueLength ?? 0, powerKw: s.powerKw, pricePerKwh,
  };
}

/** Nearest first (the order GEOSEARCH … ASC gave), with drive time and free ports. */
export function nearestRows(near: NearestStation[], status: Map<string, StationStatus>, pricePerKwh: number, opts: { limit: number; available: boolean }): NearestStationRow[] {
  return near
    .map(({ station, distanceKm }) => ({
      ...stationRow(station, status.get(station.id), pricePerKwh),
      distanceKm,
      driveMin: ((distanceKm * defaultPolicy.roadFactor) / defaultPolicy.avgSpeedKmh) * 60,
    }))
    .filter((r) => !opts.available || r.free > 0)
    .slice(0, opts.limit);
}
