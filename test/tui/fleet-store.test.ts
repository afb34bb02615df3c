import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetEvent, TelemetryEvent } from '../../src/domain/events.js';
import { createFleetStore } from '../../src/tui/store/fleet-store.js';

const t0 = new Date('2025-01-01T12:00:00Z').getTime();
const tele = (car: string, battery: number, extra: Partial<TelemetryEvent> = {}): TelemetryEvent => ({
  event_id: `${car}-${Math.random()}`,
  event_type: 'telemetry',
  car_id: car,
  lat: 40.75,
  lon: -73.98,
  battery,
  velocity: 30,
  timestamp: Date.now(),
  ...extra,
});
const booking = (type: FleetEvent['event_type'], car: string, station: string): FleetEvent =>
  ({ event_id: `${type}-${car}`, event_type: type, car_id: car, station_id: station, timestamp: Date.now() }) as FleetEvent;

describe('fleet store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(t0);
  });
  afterEach(() => vi.useRealTimers());

  it('notifies listeners at most 10 times a second however fast events arrive', () => {
    const store = createFleetStore();
    const listener = vi.fn();
    store.subscribe(listener);
    for (let ms = 0; ms < 2000; ms++) {
      store.ingest([tele('CAR-001', 80)]);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    // 2.1 s at ≤ 10 Hz; the 1 s heartbeat only marks dirty, it never adds a flush between throttled ones.
    expect(listener.mock.calls.length).toBeLessThanOrEqual(22);
    expect(listener.mock.calls.length).toBeGreaterThanOrEqual(19);
    expect(store.getSnapshot().total).toBe(2000);
  });

  it('keeps the same snapshot object between flushes and publishes a new one after', () => {
    const store = createFleetStore();
    store.subscribe(() => {});
    const before = store.getSnapshot();
    store.ingest([tele('CAR-001', 80)]);
    expect(store.getSnapshot()).toBe(before);
    vi.advanceTimersByTime(100);
    expect(store.getSnapshot()).not.toBe(before);
    expect(store.getSnapshot().total).toBe(1);
  });

  it('counts cars per band and critical cars, moving a car between bands as it drains', () => {
    const store = createFleetStore();
    store.ingest([tele('CAR-001', 80), tele('CAR-002', 35), tele('CAR-003', 19.9), tele('CAR-004', 14.9), tele('CAR-005', 50)]);
    store.flush();
    let s = store.getSnapshot();
    expect(s.bands).toEqual({ green: 1, yellow: 2, red: 2 });
    expect(s.criticalCount).toBe(1);
    expect(s.critical.map((c) => c.carId)).toEqual(['CAR-004']);
    store.ingest([tele('CAR-001', 10)]);
    store.flush();
    s = store.getSnapshot();
    expect(s.bands).toEqual({ green: 0, yellow: 2, red: 3 });
    expect(s.critical.map((c) => c.carId)).toEqual(['CAR-001', 'CAR-004']);
  });

  it('bounds the cars it remembers, evicting the least recently updated', () => {
    const store = createFleetStore({ maxCars: 100 });
    for (let i = 0; i < 250; i++) store.ingest([tele(`CAR-${i}`, i % 2 ? 10 : 90)]);
    store.flush();
    const s = store.getSnapshot();
    expect(s.cars.size).toBe(100);
    expect(s.bands.green + s.bands.yellow + s.bands.red).toBe(100);
    expect(s.criticalCount).toBe(50);
    expect(store.getCar('CAR-0')).toBeUndefined();
    expect(store.getCar('CAR-249')).toBeDefined();
  });

  it('samples the feed per flush, keeps critical events, and says how many were left out', () => {
    const store = createFleetStore({ feedPerFlush: 5 });
    const events = Array.from({ length: 100 }, (_, i) => tele(`CAR-${i}`, i === 3 ? 5 : 90));
    store.ingest(events);
    store.flush();
    const items = store.getSnapshot().feed.items;
    const shown = items.filter((i) => i.kind === 'event');
    expect(shown).toHaveLength(5);
    expect(shown.some((i) => i.kind === 'event' && i.event.car_id === 'CAR-3')).toBe(true);
    expect(items.find((i) => i.kind === 'note')).toMatchObject({ text: expect.stringContaining('95 more events') });
  });

  it('bounds the feed history: a new <Static> generation starts when one is full', () => {
    const store = createFleetStore({ feedPerFlush: 10, feedGenerationSize: 50 });
    for (let i = 0; i < 30; i++) {
      store.ingest(Array.from({ length: 10 }, (_, j) => tele(`CAR-${j}`, 90)));
      store.flush();
      expect(store.getSnapshot().feed.items.length).toBeLessThanOrEqual(50);
    }
    expect(store.getSnapshot().feed.generation).toBeGreaterThanOrEqual(5);
  });

  it('filters the feed (critical only, car id) and pauses it while counts keep going', () => {
    const store = createFleetStore();
    store.setFilter({ criticalOnly: true });
    store.ingest([tele('CAR-001', 90), tele('CAR-002', 9)]);
    store.flush();
    let events = store.getSnapshot().feed.items.filter((i) => i.kind === 'event');
    expect(events.map((i) => i.kind === 'event' && i.event.car_id)).toEqual(['CAR-002']);
    store.setFilter({ criticalOnly: false, carId: '007' });
    store.setPaused(true);
    store.ingest([tele('CAR-007', 90), tele('CAR-008', 90)]);
    store.flush();
    const snap = store.getSnapshot();
    expect(snap.paused).toBe(true);
    expect(snap.pausedSkipped).toBe(1);
    expect(snap.total).toBe(4);
    store.setPaused(false);
    store.ingest([tele('CAR-007', 80), tele('CAR-008', 80)]);
    store.flush();
    events = store.getSnapshot().feed.items.filter((i) => i.kind === 'event');
    expect(events.at(-1)).toMatchObject({ event: { car_id: 'CAR-007', battery: 80 } });
    expect(store.getSnapshot().feed.items.some((i) => i.kind === 'note' && i.text.includes('1 events were not shown'))).toBe(true);
  });

  it('tracks station occupancy and queues from booking and charging events without double counting', () => {
    const store = createFleetStore();
    store.setStations([{ id: 'ST-1', name: 'One', lat: 40.75, lon: -73.98, ports: 2, powerKw: 150 }]);
    store.ingest([
      booking('booking_confirmed', 'CAR-1', 'ST-1'),
      booking('booking_confirmed', 'CAR-1', 'ST-1'), // redelivered
      booking('charging_started', 'CAR-1', 'ST-1'),
      booking('booking_confirmed', 'CAR-2', 'ST-1'),
      booking('booking_queued', 'CAR-3', 'ST-1'),
      { ...booking('booking_queued', 'CAR-4', 'ST-9'), price_rate: 0.42 } as FleetEvent,
    ]);
    store.flush();
    let st = store.getSnapshot().stations;
    expect(st.find((s) => s.id === 'ST-1')).toMatchObject({ taken: 2, queue: 1, ports: 2 });
    expect(st.find((s) => s.id === 'ST-9')).toMatchObject({ taken: 0, queue: 1, ports: 0, priceRate: 0.42 });
    store.ingest([booking('charging_completed', 'CAR-1', 'ST-1'), booking('booking_confirmed', 'CAR-3', 'ST-1'), booking('booking_expired', 'CAR-2', 'ST-1')]);
    store.flush();
    st = store.getSnapshot().stations;
    expect(st.find((s) => s.id === 'ST-1')).toMatchObject({ taken: 1, queue: 0 });
  });

  it('reports events per second over a sliding window and decays to zero when quiet', () => {
    const store = createFleetStore();
    store.subscribe(() => {});
    for (let i = 0; i < 50; i++) {
      store.ingest(Array.from({ length: 100 }, () => tele('CAR-1', 80)));
      vi.advanceTimersByTime(100);
    }
    expect(store.getSnapshot().rate).toBeGreaterThan(800);
    expect(store.getSnapshot().rate).toBeLessThan(1200);
    vi.advanceTimersByTime(7000);
    expect(store.getSnapshot().rate).toBe(0);
  });

  it('notes a lost source once and its recovery', () => {
    const store = createFleetStore();
    store.setStatus({ state: 'connected' });
    store.setStatus({ state: 'reconnecting', attempt: 1, retryInMs: 500, error: 'ECONNREFUSED' });
    store.setStatus({ state: 'reconnecting', attempt: 2, retryInMs: 1000, error: 'ECONNREFUSED' });
    store.setStatus({ state: 'connected' });
    store.flush();
    const notes = store.getSnapshot().feed.items.filter((i) => i.kind === 'note').map((i) => (i.kind === 'note' ? i.text : ''));
    expect(notes).toEqual([expect.stringContaining('source lost: ECONNREFUSED'), '✓ source reconnected']);
  });
});
