import type { FleetEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import type { PricePoint } from '../../ports/price-source.js';
import type { LiveStationRow } from '../sources/station-rows.js';
import type { SourceStatus } from '../sources/types.js';
import type { Band } from './bands.js';
import type { CarHistory } from './car-history.js';

/** Latest known state of one car, as the screen needs it. Mutated in place by the store. */
export interface CarView {
  carId: string;
  lat: number;
  lon: number;
  battery: number;
  velocity: number;
  timestamp: number;
  band: Band;
  critical: boolean;
}

export interface StationView {
  id: string;
  name: string;
  lat?: number;
  lon?: number;
  /** Total ports; 0 when the station is only known from events. */
  ports: number;
  /** Ports held by a confirmed booking or charging. */
  taken: number;
  queue: number;
  /** The last price the server answered or a booking/charging event at this station carried ($/kWh). */
  priceRate?: number;
  /** An operator took it offline (live answers only). */
  offline?: boolean;
}

/**
 * Where occupancy comes from: 'live' = the last poll of the server or the engines (events adjust
 * it until the next one); 'events' = only bookings and sessions seen since tail started.
 */
export type StationTruth = 'live' | 'events';

export type NoteTone = 'info' | 'warn' | 'error';

export type FeedItem = { id: number; kind: 'event'; event: FleetEvent } | { id: number; kind: 'note'; text: string; tone: NoteTone };

/** Feed history for <Static>: append-only within a generation (see FeedSampler in feed-sampler.ts). */
export interface FeedHistory {
  generation: number;
  items: FeedItem[];
}

export interface FeedFilter {
  criticalOnly: boolean;
  /** Case-insensitive substring of the car id; empty = all cars. */
  carId: string;
}

export interface FleetSnapshot {
  version: number;
  now: number;
  startedAt: number;
  total: number;
  invalid: number;
  /** Events per second over the last few seconds. */
  rate: number;
  status: SourceStatus;
  lag?: number;
  /** Live view of every car (bounded by maxCars); read it during render only. */
  cars: ReadonlyMap<string, CarView>;
  bands: Record<Band, number>;
  criticalCount: number;
  /** Critical cars, lowest battery first (at most 5). */
  critical: CarView[];
  stations: StationView[];
  stationTruth: StationTruth;
  price?: PricePoint;
  forecast: PricePoint[];
  priceError?: string;
  /**
   * Feed history for <Static>: append-only within a generation; a new generation (a new array
   * and key) starts when it reaches its bound, so neither React nor the store grows forever.
   */
  feed: FeedHistory;
  /** The feed panel's scrollback (bounded, newest last). */
  scrollback: FeedItem[];
  /** Events the feed sampled away since the start (counts and panels include them). */
  feedSkipped: number;
  /**
   * The one price every panel shows as "now": the coordinator's (its clock, as ListStations answers
   * it) when live answers come, else the grid's current price.
   */
  priceNow?: { value: number; source: 'coordinator' | 'grid' };
  paused: boolean;
  /** Events not shown in the feed since the pause began. */
  pausedSkipped: number;
  filter: FeedFilter;
}

export interface FleetStoreOptions {
  /** Minimum time between UI flushes (100 ms = at most 10 renders a second). */
  flushIntervalMs?: number;
  /** Feed lines added per flush; the rest are counted in a "… N more" note. */
  feedPerFlush?: number;
  /** Items per <Static> generation. */
  feedGenerationSize?: number;
  maxCars?: number;
  maxStations?: number;
  now?: () => number;
}

export interface FleetStore {
  ingest(events: FleetEvent[]): void;
  countInvalid(n: number): void;
  setStatus(status: SourceStatus): void;
  setLag(lag: number | undefined): void;
  setStations(stations: Station[]): void;
  /** Live occupancy (holds + sessions, queue, price) replaces what events inferred so far. */
  setStationOccupancy(rows: LiveStationRow[]): void;
  /** Live answers were lost: occupancy follows events only from here. */
  setStationsEventsOnly(): void;
  setPrices(current: PricePoint | undefined, forecast: PricePoint[] | undefined, error?: string): void;
  setFilter(filter: Partial<FeedFilter>): void;
  setPaused(paused: boolean): void;
  note(text: string, tone?: NoteTone): void;
  getCar(carId: string): CarView | undefined;
  /** A car's battery trend and last booking decisions (bounded). */
  getCarHistory(carId: string): CarHistory | undefined;
  /** The last flushed snapshot (stable identity between flushes, for useSyncExternalStore). */
  getSnapshot(): FleetSnapshot;
  /** Listeners run at most once per flush interval. */
  subscribe(listener: () => void): () => void;
  /** Flushes now (tests, final render). */
  flush(): void;
  dispose(): void;
}
