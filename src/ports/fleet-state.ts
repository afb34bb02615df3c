import type { Station } from '../domain/charging.js';

/** Latest known state of a car (Redis car:{id} HASH + fleet:locations GEO). */
export interface CarState {
  carId: string;
  lat: number;
  lon: number;
  battery: number;
  velocity: number;
  timestamp: number;
  state?: string;
}

export type { Station };

export interface NearestStation {
  station: Station;
  distanceKm: number;
}

export interface NearbyCar {
  carId: string;
  distanceKm: number;
}

/** Live fleet state. Coordination methods (reservations, queue) are added by the coordination work. */
export interface FleetState {
  readonly kind: 'memory' | 'redis';
  /** Upserts latest positions and car hashes in one round trip (pipelined). */
  upsertCars(cars: CarState[]): Promise<void>;
  getCar(carId: string): Promise<CarState | null>;
  countCars(): Promise<number>;
  /** Cars within radiusKm, nearest first. */
  carsNear(lat: number, lon: number, radiusKm: number, limit: number): Promise<NearbyCar[]>;
  loadStations(stations: Station[]): Promise<void>;
  listStations(): Promise<Station[]>;
  /** Stations nearest first (GEOSEARCH … ASC COUNT n, never ANY). */
  nearestStations(lat: number, lon: number, limit: number, radiusKm?: number): Promise<NearestStation[]>;
  close(): Promise<void>;
}
