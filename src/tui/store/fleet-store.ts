import type { FleetEvent } from '../../domain/events.js';
import type { PricePoint } from '../../ports/price-source.js';
import type { SourceStatus } from '../sources/types.js';
import { CarHistories } from './car-history.js';
import { FeedSampler } from './feed-sampler.js';
import { FleetCars } from './fleet-cars.js';
import { FlushScheduler } from './flush-scheduler.js';
import { StationOccupancy } from './occupancy.js';
import { RateMeter } from './rate-meter.js';
import type { FeedFilter, FleetSnapshot, FleetStore, FleetStoreOptions, NoteTone } from './types.js';

export type { CarView, FeedFilter, FeedItem, FleetSnapshot, FleetStore, FleetStoreOptions, StationView } from './types.js';

/** The feed note for a filter change. */
export function filterNote(filter: FeedFilter): string {
  const parts = [filter.criticalOnly ? 'critical only' : '', filter.carId ? `car ~ "${filter.carId}"` : ''].filter(Boolean);
  return parts.length ? `filter: ${parts.join(', ')}` : 'filter cleared';
}

/** The feed note for a change of source status, if it deserves one (the first loss, a recovery). */
export function statusNote(was: SourceStatus['state'], next: SourceStatus): { text: string; tone: NoteTone } | undefined {
  if (next.state === 'reconnecting' && next.attempt === 1) return { text: `⟳ source lost${next.error ? `: ${next.error}` : ''}; reconnecting with backoff`, tone: 'warn' };
  if (next.state === 'connected' && was === 'reconnecting') return { text: '✓ source reconnected', tone: 'info' };
  return undefined;
}

/** Aggregates the event stream outside React; the UI reads throttled, immutable snapshots. */
export class FleetStoreImpl implements FleetStore {
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly fleet: FleetCars;
  private readonly occupancy: StationOccupancy;
  private readonly feed: FeedSampler;
  private readonly meter: RateMeter;
  private readonly scheduler: FlushScheduler;
  private readonly histories: CarHistories;
  private coordinatorPrice: number | undefined;

  private total = 0;
  private invalid = 0;
  private status: SourceStatus = { state: 'connecting' };
  private lag: number | undefined;
  private price: PricePoint | undefined;
  private forecast: PricePoint[] = [];
  private priceError: string | undefined;
  private version = 0;
  private snapshot: FleetSnapshot;

  constructor(opts: FleetStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    const flushMs = opts.flushIntervalMs ?? 100;
    this.startedAt = this.now();
    this.fleet = new FleetCars(opts.maxCars ?? 50_000);
    this.histories = new CarHistories(Math.min(opts.maxCars ?? 50_000, 5_000));
    this.occupancy = new StationOccupancy(opts.maxStations ?? 2_000);
    this.feed = new FeedSampler({ perFlush: opts.feedPerFlush ?? 12, generationSize: opts.feedGenerationSize ?? 400, flushMs });
    this.meter = new RateMeter(this.startedAt);
    this.scheduler = new FlushScheduler({ intervalMs: flushMs, now: this.now, onFlush: () => this.publish() });
    this.snapshot = this.build();
  }

  ingest(events: FleetEvent[]): void {
    if (!events.length) return;
    this.total += events.length;
    this.meter.count(events.length, this.now());
    for (const e of events) {
      if (e.event_type === 'telemetry') {
        const evicted = this.fleet.upsert(e);
        if (evicted !== undefined) {
          this.occupancy.release(evicted);
          this.histories.drop(evicted);
        }
        this.histories.battery(e.car_id, e.battery, e.timestamp);
      } else {
        this.occupancy.apply(e);
        this.histories.decision(e);
      }
      this.feed.sample(e);
    }
    this.scheduler.markDirty();
  }

  countInvalid(n: number): void {
    this.invalid += n;
    this.scheduler.markDirty();
  }

  setStatus(next: SourceStatus): void {
    const note = statusNote(this.status.state, next);
    this.status = next;
    if (note) this.note(note.text, note.tone);
    this.scheduler.markDirty();
  }

  setLag(next: number | undefined): void {
    this.lag = next;
    this.scheduler.markDirty();
  }

  setStations(list: Parameters<FleetStore['setStations']>[0]): void {
    this.occupancy.setStations(list);
    this.scheduler.markDirty();
  }

  setStationOccupancy(rows: Parameters<FleetStore['setStationOccupancy']>[0]): void {
    this.occupancy.setLive(rows);
    this.coordinatorPrice = rows.find((r) => r.pricePerKwh > 0)?.pricePerKwh ?? this.coordinatorPrice;
    this.scheduler.markDirty();
  }

  setStationsEventsOnly(): void {
    this.occupancy.truth = 'events';
    this.coordinatorPrice = undefined;
    this.scheduler.markDirty();
  }

  setPrices(current: PricePoint | undefined, next: PricePoint[] | undefined, error?: string): void {
    if (current) this.price = current;
    if (next) this.forecast = next;
    this.priceError = error;
    this.scheduler.markDirty();
  }

  setFilter(next: Partial<FeedFilter>): void {
    this.feed.filter = { ...this.feed.filter, ...next };
    this.note(filterNote(this.feed.filter), 'info');
  }

  setPaused(next: boolean): void {
    if (next === this.feed.paused) return;
    if (next) this.note('⏸ paused (counts keep updating; p resumes)', 'info');
    this.feed.paused = next;
    if (!next) {
      this.note(`▶ resumed (${this.feed.pausedSkipped} events were not shown)`, 'info');
      this.feed.pausedSkipped = 0;
    }
    this.scheduler.markDirty();
  }

  note(text: string, tone: NoteTone = 'info'): void {
    this.feed.note(text, tone);
    this.scheduler.markDirty();
  }

  getCar = (carId: string) => this.fleet.get(carId);

  getCarHistory = (carId: string) => this.histories.get(carId);

  getSnapshot = (): FleetSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => this.scheduler.subscribe(listener);

  flush = (): void => this.scheduler.flush();

  dispose(): void {
    this.scheduler.dispose();
  }

  private publish(): void {
    this.version++;
    this.feed.flush();
    this.snapshot = this.build();
  }

  private priceNow(): FleetSnapshot['priceNow'] {
    if (this.coordinatorPrice !== undefined && this.occupancy.truth === 'live') return { value: this.coordinatorPrice, source: 'coordinator' };
    return this.price ? { value: this.price.price_per_kwh, source: 'grid' } : undefined;
  }

  private build(): FleetSnapshot {
    const t = this.now();
    const { fleet, occupancy, feed } = this;
    return {
      version: this.version,
      now: t,
      startedAt: this.startedAt,
      total: this.total,
      invalid: this.invalid,
      rate: this.meter.rate(t),
      status: this.status,
      lag: this.lag,
      cars: fleet.cars,
      bands: { ...fleet.bands },
      criticalCount: fleet.criticalCount,
      critical: fleet.criticalList(),
      stations: occupancy.views(),
      stationTruth: occupancy.truth,
      price: this.price,
      forecast: this.forecast,
      priceError: this.priceError,
      feed: feed.history,
      scrollback: feed.scrollback,
      feedSkipped: feed.skipped,
      priceNow: this.priceNow(),
      paused: feed.paused,
      pausedSkipped: feed.pausedSkipped,
      filter: feed.filter,
    };
  }
}

/** Aggregates the event stream outside React; the UI reads throttled, immutable snapshots. */
export function createFleetStore(opts: FleetStoreOptions = {}): FleetStore {
  return new FleetStoreImpl(opts);
}
