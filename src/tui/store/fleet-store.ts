import type { FleetEvent, TelemetryEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import type { PricePoint } from '../../ports/price-source.js';
import type { StationRow } from '../../app/stations-view.js';
import type { SourceStatus } from '../sources/types.js';
import { bandOf, isCritical, type Band } from './bands.js';

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
}

export type FeedItem =
  | { id: number; kind: 'event'; event: FleetEvent }
  | { id: number; kind: 'note'; text: string; tone: 'info' | 'warn' | 'error' };

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
  /**
   * Where occupancy comes from: 'live' = the last poll of the server or the engines (events adjust
   * it until the next one); 'events' = only bookings and sessions seen since tail started.
   */
  stationTruth: 'live' | 'events';
  price?: PricePoint;
  forecast: PricePoint[];
  priceError?: string;
  /**
   * Feed history for <Static>: append-only within a generation; a new generation (a new array
   * and key) starts when it reaches its bound, so neither React nor the store grows forever.
   */
  feed: { generation: number; items: FeedItem[] };
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
  setStationOccupancy(rows: StationRow[]): void;
  /** Live answers were lost: occupancy follows events only from here. */
  setStationsEventsOnly(): void;
  setPrices(current: PricePoint | undefined, forecast: PricePoint[] | undefined, error?: string): void;
  setFilter(filter: Partial<FeedFilter>): void;
  setPaused(paused: boolean): void;
  note(text: string, tone?: 'info' | 'warn' | 'error'): void;
  getCar(carId: string): CarView | undefined;
  /** The last flushed snapshot (stable identity between flushes, for useSyncExternalStore). */
  getSnapshot(): FleetSnapshot;
  /** Listeners run at most once per flush interval. */
  subscribe(listener: () => void): () => void;
  /** Flushes now (tests, final render). */
  flush(): void;
  dispose(): void;
}

const RATE_BUCKET_MS = 250;
const RATE_BUCKETS = 20; // 5 s window

/** Aggregates the event stream outside React; the UI reads throttled, immutable snapshots. */
export function createFleetStore(opts: FleetStoreOptions = {}): FleetStore {
  const now = opts.now ?? Date.now;
  const flushMs = opts.flushIntervalMs ?? 100;
  const feedPerFlush = opts.feedPerFlush ?? 12;
  const generationSize = opts.feedGenerationSize ?? 400;
  const maxCars = opts.maxCars ?? 50_000;
  const maxStations = opts.maxStations ?? 2_000;
  const startedAt = now();

  const cars = new Map<string, CarView>();
  const bands: Record<Band, number> = { green: 0, yellow: 0, red: 0 };
  let criticalCount = 0;
  const stations = new Map<string, StationView>();
  const assignments = new Map<string, { stationId: string; state: 'held' | 'charging' | 'queued' }>();
  let stationTruth: FleetSnapshot['stationTruth'] = 'events';
  const rateIdx = new Array<number>(RATE_BUCKETS).fill(-1);
  const rateCount = new Array<number>(RATE_BUCKETS).fill(0);

  let total = 0;
  let invalid = 0;
  let status: SourceStatus = { state: 'connecting' };
  let lag: number | undefined;
  let price: PricePoint | undefined;
  let forecast: PricePoint[] = [];
  let priceError: string | undefined;
  let filter: FeedFilter = { criticalOnly: false, carId: '' };
  let paused = false;
  let pausedSkipped = 0;

  // Feed sampling between flushes: critical events are kept ahead of ordinary ones.
  let pendingCritical: FleetEvent[] = [];
  let pendingOther: FleetEvent[] = [];
  let pendingDropped = 0;
  let pendingNotes: FeedItem[] = [];
  let nextId = 1;
  let feed = { generation: 0, items: [] as FeedItem[] };

  const listeners = new Set<() => void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lastFlush = -Infinity;
  let version = 0;
  let snapshot: FleetSnapshot = build();

  function countRate(n: number, t: number) {
    const idx = Math.floor(t / RATE_BUCKET_MS);
    const slot = idx % RATE_BUCKETS;
    if (rateIdx[slot] !== idx) [rateIdx[slot], rateCount[slot]] = [idx, 0];
    rateCount[slot] += n;
  }

  function rate(t: number): number {
    const idx = Math.floor(t / RATE_BUCKET_MS);
    let sum = 0;
    for (let i = 0; i < RATE_BUCKETS; i++) if (rateIdx[i] > idx - RATE_BUCKETS && rateIdx[i] <= idx) sum += rateCount[i];
    const windowMs = Math.min(RATE_BUCKETS * RATE_BUCKET_MS, Math.max(RATE_BUCKET_MS, t - startedAt));
    return (sum * 1000) / windowMs;
  }

  function upsertCar(e: TelemetryEvent) {
    let car = cars.get(e.car_id);
    if (car) {
      bands[car.band]--;
      if (car.critical) criticalCount--;
      cars.delete(e.car_id); // re-insert: Map order becomes least-recently-updated first
    } else if (cars.size >= maxCars) {
      evictOldestCar();
    }
    car ??= { carId: e.car_id } as CarView;
    car.lat = e.lat;
    car.lon = e.lon;
    car.battery = e.battery;
    car.velocity = e.velocity;
    car.timestamp = e.timestamp;
    car.band = bandOf(e.battery);
    car.critical = isCritical(e.battery);
    bands[car.band]++;
    if (car.critical) criticalCount++;
    cars.set(e.car_id, car);
  }

  function evictOldestCar() {
    const oldest = cars.values().next().value as CarView;
    bands[oldest.band]--;
    if (oldest.critical) criticalCount--;
    cars.delete(oldest.carId);
    release(oldest.carId);
  }

  function stationFor(id: string): StationView | undefined {
    let s = stations.get(id);
    if (!s && stations.size < maxStations) {
      s = { id, name: id, ports: 0, taken: 0, queue: 0 };
      stations.set(id, s);
    }
    return s;
  }

  function release(carId: string) {
    const a = assignments.get(carId);
    if (!a) return;
    const s = stations.get(a.stationId);
    if (s) {
      if (a.state === 'queued') s.queue = Math.max(0, s.queue - 1);
      else s.taken = Math.max(0, s.taken - 1);
    }
    assignments.delete(carId);
  }

  function assign(carId: string, stationId: string, state: 'held' | 'charging' | 'queued') {
    release(carId);
    const s = stationFor(stationId);
    if (!s) return;
    if (state === 'queued') s.queue++;
    else s.taken++;
    assignments.set(carId, { stationId, state });
  }

  /** Occupancy follows each car's latest booking state, so repeated events never double count. */
  function applyBooking(e: Exclude<FleetEvent, TelemetryEvent>) {
    const stationId = e.station_id ?? assignments.get(e.car_id)?.stationId;
    if (stationId && typeof e.price_rate === 'number') {
      const s = stationFor(stationId);
      if (s) s.priceRate = e.price_rate;
    }
    switch (e.event_type) {
      case 'booking_confirmed':
        if (stationId) assign(e.car_id, stationId, 'held');
        break;
      case 'booking_queued':
        if (stationId) assign(e.car_id, stationId, 'queued');
        break;
      case 'charging_started':
        if (stationId) assign(e.car_id, stationId, 'charging');
        break;
      case 'charging_completed':
      case 'booking_expired':
      case 'booking_cancelled':
      case 'booking_failed':
        release(e.car_id);
        break;
      default:
        break;
    }
  }

  function eventIsCritical(e: FleetEvent): boolean {
    return e.event_type === 'battery_critical' || (e.event_type === 'telemetry' && isCritical(e.battery));
  }

  function matches(e: FleetEvent, critical: boolean): boolean {
    if (filter.criticalOnly && !critical) return false;
    return !filter.carId || e.car_id.toLowerCase().includes(filter.carId.toLowerCase());
  }

  function sample(e: FleetEvent) {
    const critical = eventIsCritical(e);
    if (!matches(e, critical)) return;
    if (paused) {
      pausedSkipped++;
      return;
    }
    const list = critical ? pendingCritical : pendingOther;
    list.push(e);
    if (list.length > feedPerFlush) {
      list.shift();
      pendingDropped++;
    }
  }

  function drainFeed(): FeedItem[] {
    const room = Math.max(0, feedPerFlush - pendingCritical.length);
    const other = pendingOther.slice(pendingOther.length - room);
    const dropped = pendingDropped + pendingOther.length - other.length;
    const events = [...pendingCritical, ...other].sort((a, b) => a.timestamp - b.timestamp);
    const items: FeedItem[] = [...pendingNotes, ...events.map((event) => ({ id: nextId++, kind: 'event' as const, event }))];
    if (dropped > 0) items.push({ id: nextId++, kind: 'note', tone: 'info', text: `… ${dropped} more events (the feed shows up to ${feedPerFlush} per ${flushMs} ms; counts include all)` });
    pendingCritical = [];
    pendingOther = [];
    pendingDropped = 0;
    pendingNotes = [];
    return items;
  }

  function appendFeed(items: FeedItem[]) {
    if (!items.length) return;
    if (feed.items.length + items.length > generationSize) feed = { generation: feed.generation + 1, items: items.slice(-generationSize) };
    else feed = { generation: feed.generation, items: [...feed.items, ...items] };
  }

  function criticalList(): CarView[] {
    if (criticalCount === 0) return [];
    const list: CarView[] = [];
    for (const car of cars.values()) if (car.critical) list.push(car);
    return list.sort((a, b) => a.battery - b.battery).slice(0, 5).map((c) => ({ ...c }));
  }

  function build(): FleetSnapshot {
    const t = now();
    return {
      version,
      now: t,
      startedAt,
      total,
      invalid,
      rate: rate(t),
      status,
      lag,
      cars,
      bands: { ...bands },
      criticalCount,
      critical: criticalList(),
      stations: [...stations.values()].map((s) => ({ ...s })),
      stationTruth,
      price,
      forecast,
      priceError,
      feed,
      paused,
      pausedSkipped,
      filter,
    };
  }

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    lastFlush = now();
    version++;
    appendFeed(drainFeed());
    snapshot = build();
    for (const l of listeners) l();
  }

  function markDirty() {
    if (timer) return;
    const wait = Math.max(0, lastFlush + flushMs - now());
    timer = setTimeout(flush, wait);
  }

  return {
    ingest(events) {
      if (!events.length) return;
      const t = now();
      total += events.length;
      countRate(events.length, t);
      for (const e of events) {
        if (e.event_type === 'telemetry') upsertCar(e);
        else applyBooking(e);
        sample(e);
      }
      markDirty();
    },
    countInvalid(n) {
      invalid += n;
      markDirty();
    },
    setStatus(next) {
      const was = status.state;
      status = next;
      if (next.state === 'reconnecting' && next.attempt === 1) this.note(`⟳ source lost${next.error ? `: ${next.error}` : ''}; reconnecting with backoff`, 'warn');
      if (next.state === 'connected' && was === 'reconnecting') this.note('✓ source reconnected', 'info');
      markDirty();
    },
    setLag(next) {
      lag = next;
      markDirty();
    },
    setStations(list) {
      for (const st of list.slice(0, maxStations)) {
        const s = stations.get(st.id) ?? { id: st.id, name: st.name, ports: 0, taken: 0, queue: 0 };
        Object.assign(s, { name: st.name, lat: st.lat, lon: st.lon, ports: st.ports });
        stations.set(st.id, s);
      }
      markDirty();
    },
    setStationOccupancy(rows) {
      // Assignments stay: a car seen booking since the start still frees its port when its event comes.
      for (const row of rows.slice(0, maxStations)) {
        const s = stationFor(row.id);
        if (!s) continue;
        Object.assign(s, { name: row.name, lat: row.lat, lon: row.lon, ports: row.ports, taken: row.holds + row.charging, queue: row.queueLength });
        if (row.pricePerKwh > 0) s.priceRate = row.pricePerKwh;
      }
      stationTruth = 'live';
      markDirty();
    },
    setStationsEventsOnly() {
      stationTruth = 'events';
      markDirty();
    },
    setPrices(current, next, error) {
      if (current) price = current;
      if (next) forecast = next;
      priceError = error;
      markDirty();
    },
    setFilter(next) {
      filter = { ...filter, ...next };
      const parts = [filter.criticalOnly ? 'critical only' : '', filter.carId ? `car ~ "${filter.carId}"` : ''].filter(Boolean);
      this.note(parts.length ? `filter: ${parts.join(', ')}` : 'filter cleared', 'info');
    },
    setPaused(next) {
      if (next === paused) return;
      if (next) {
        this.note('⏸ paused (counts keep updating; p resumes)', 'info');
      }
      paused = next;
      if (!next) {
        this.note(`▶ resumed (${pausedSkipped} events were not shown)`, 'info');
        pausedSkipped = 0;
      }
      markDirty();
    },
    note(text, tone = 'info') {
      pendingNotes.push({ id: nextId++, kind: 'note', text, tone });
      if (pendingNotes.length > feedPerFlush) pendingNotes.shift();
      markDirty();
    },
    getCar: (carId) => cars.get(carId),
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      // Rates and clocks move even when the stream is quiet.
      heartbeat ??= setInterval(markDirty, 1000);
      return () => {
        listeners.delete(listener);
        if (!listeners.size && heartbeat) {
          clearInterval(heartbeat);
          heartbeat = undefined;
        }
      };
    },
    flush,
    dispose() {
      if (timer) clearTimeout(timer);
      if (heartbeat) clearInterval(heartbeat);
      timer = heartbeat = undefined;
      listeners.clear();
    },
  };
}
