import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetEvent, TelemetryEvent } from '../../src/domain/events.js';
import { eventIsCritical, FeedSampler, matchesFilter } from '../../src/tui/store/feed-sampler.js';
import { FleetCars } from '../../src/tui/store/fleet-cars.js';
import { filterNote, statusNote } from '../../src/tui/store/fleet-store.js';
import { FlushScheduler } from '../../src/tui/store/flush-scheduler.js';
import { assignmentOf, StationOccupancy } from '../../src/tui/store/occupancy.js';
import { RateMeter } from '../../src/tui/store/rate-meter.js';

const tele = (car: string, battery: number, timestamp = 0): TelemetryEvent => ({ event_id: `${car}-${battery}`, event_type: 'telemetry', car_id: car, lat: 40.75, lon: -73.98, battery, velocity: 0, timestamp });
const booking = (type: FleetEvent['event_type'], car: string, station?: string) => ({ event_id: `${type}-${car}`, event_type: type, car_id: car, station_id: station, timestamp: 0 }) as Exclude<FleetEvent, TelemetryEvent>;

describe('the store, piece by piece', () => {
  it('rate meter: events per second over the time so far, then over a 5 s window, then zero', () => {
    const meter = new RateMeter(0);
    meter.count(100, 0);
    expect(meter.rate(500)).toBe(200); // 100 events in the first 0.5 s
    for (let t = 0; t < 10_000; t += 100) meter.count(10, t);
    expect(meter.rate(9_999)).toBe(100); // the 20 buckets of 250 ms ending with the current one
    expect(meter.rate(20_000)).toBe(0);
  });

  it('fleet cars: band counts follow a car, and the least recently updated car is evicted', () => {
    const cars = new FleetCars(2);
    expect(cars.upsert(tele('A', 90))).toBeUndefined();
    expect(cars.upsert(tele('B', 10))).toBeUndefined();
    expect(cars.upsert(tele('A', 30))).toBeUndefined();
    expect([cars.bands, cars.criticalCount]).toEqual([{ green: 0, yellow: 1, red: 1 }, 1]);
    expect(cars.upsert(tele('C', 5))).toBe('B');
    expect(cars.criticalList().map((c) => c.carId)).toEqual(['C']);
  });

  it('occupancy: each car counts once, at its latest station and state', () => {
    expect([assignmentOf('booking_confirmed'), assignmentOf('booking_queued'), assignmentOf('charging_started'), assignmentOf('booking_expired'), assignmentOf('battery_critical')]).toEqual(['held', 'queued', 'charging', 'release', undefined]);
    const occ = new StationOccupancy(10);
    occ.setStations([{ id: 'S', name: 'S', lat: 1, lon: 2, ports: 2, powerKw: 50 }]);
    occ.apply(booking('booking_queued', 'A', 'S'));
    occ.apply(booking('booking_confirmed', 'A', 'S'));
    occ.apply(booking('charging_started', 'A')); // no station: the car's own
    expect(occ.views()).toEqual([{ id: 'S', name: 'S', lat: 1, lon: 2, ports: 2, taken: 1, queue: 0 }]);
    occ.release('A');
    expect(occ.views()[0]).toMatchObject({ taken: 0, queue: 0 });
    expect(occ.truth).toBe('events');
  });

  it('feed sampler: critical events first, the rest counted, filter and pause applied', () => {
    const feed = new FeedSampler({ perFlush: 2, generationSize: 3, flushMs: 100 });
    expect([eventIsCritical(tele('A', 14)), eventIsCritical(tele('A', 15))]).toEqual([true, false]);
    expect(matchesFilter({ criticalOnly: false, carId: 'ab' }, tele('CAR-AB', 90), false)).toBe(true);
    for (const e of [tele('A', 90, 1), tele('B', 5, 2), tele('C', 90, 3), tele('D', 90, 4)]) feed.sample(e);
    const items = feed.drain();
    expect(items.map((i) => (i.kind === 'event' ? i.event.car_id : i.text))).toEqual(['B', 'D', '… 2 more events (the feed shows up to 2 per 100 ms; counts include all)']);
    feed.paused = true;
    feed.sample(tele('E', 90));
    expect([feed.pausedSkipped, feed.drain()]).toEqual([1, []]);
    feed.append(items);
    feed.append(items.slice(0, 1));
    expect(feed.history.generation).toBe(1);
  });

  it('notes for a filter and for a lost and recovered source', () => {
    expect([filterNote({ criticalOnly: true, carId: '7' }), filterNote({ criticalOnly: false, carId: '' })]).toEqual(['filter: critical only, car ~ "7"', 'filter cleared']);
    expect(statusNote('connected', { state: 'reconnecting', attempt: 2 })).toBeUndefined();
    expect(statusNote('reconnecting', { state: 'connected' })).toEqual({ text: '✓ source reconnected', tone: 'info' });
  });
});

describe('flush scheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes at most once per interval, then tells the listeners', () => {
    const onFlush = vi.fn();
    const s = new FlushScheduler({ intervalMs: 100, now: Date.now, onFlush });
    const listener = vi.fn();
    const unsubscribe = s.subscribe(listener);
    s.flush();
    for (let i = 0; i < 50; i++) s.markDirty();
    vi.advanceTimersByTime(99);
    expect(onFlush).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect([onFlush.mock.calls.length, listener.mock.calls.length]).toEqual([2, 2]);
    unsubscribe();
    vi.advanceTimersByTime(5_000); // no heartbeat once nobody listens
    expect(onFlush).toHaveBeenCalledTimes(2);
    s.dispose();
  });
});
