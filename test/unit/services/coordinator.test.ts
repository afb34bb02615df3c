import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryEventBus } from '../../../src/adapters/memory/memory-event-bus.js';
import { createMemoryReservations } from '../../../src/adapters/memory/memory-reservations.js';
import { auditEvents } from '../../../src/domain/audit.js';
import { TOPIC_EVENTS, type BookingEvent, type TelemetryEvent } from '../../../src/domain/events.js';
import { gridStations } from '../../../src/domain/stations.js';
import type { EventBus } from '../../../src/ports/event-bus.js';
import type { Station } from '../../../src/ports/fleet-state.js';
import type { PricePoint, PriceSource } from '../../../src/ports/price-source.js';
import type { Reservations } from '../../../src/ports/reservations.js';
import { toBookingResponse } from '../../../src/grpc/booking-codec.js';
import { createCoordinator, type Coordinator, type CoordinatorDeps, type Decision } from '../../../src/services/coordination/index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const A: Station = { id: 'A', name: 'A', lat: 40.75, lon: -73.99, ports: 1, powerKw: 100 };
const B: Station = { id: 'B', name: 'B', lat: 40.76, lon: -73.99, ports: 1, powerKw: 100 };

const telemetry = (car_id: string, lat: number, lon: number, battery: number, timestamp: number): TelemetryEvent => ({
  event_id: `${car_id}-${timestamp}`, event_type: 'telemetry', car_id, lat, lon, battery, velocity: 0, timestamp,
});

const flatPrice = (price: number, curve: (ms: number) => number = () => price): PriceSource => ({
  async priceAt(at) {
    return { timestamp: at, price_per_kwh: curve(at), grid_load: 'Low', energy_source: 'Grid', hour: 0 };
  },
  async forecast(from, hours, step = 15) {
    const out: PricePoint[] = [];
    for (let t = from; t <= from + hours * 3_600_000; t += step * 60_000) out.push({ timestamp: t, price_per_kwh: curve(t), grid_load: 'Low', energy_source: 'Grid', hour: 0 });
    return out;
  },
});

interface Harness {
  coordinator: Coordinator;
  bus: EventBus;
  reservations: Reservations;
  events: BookingEvent[];
  delivered: Decision[];
  clock: { now: number };
}

const running: Coordinator[] = [];
const buses: EventBus[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function harness(stations: Station[], over: Partial<CoordinatorDeps> = {}): Promise<Harness> {
  const bus = over.bus ?? createMemoryEventBus();
  buses.push(bus);
  const reservations = over.reservations ?? createMemoryReservations();
  const clock = { now: T0 };
  const delivered: Decision[] = [];
  const events: BookingEvent[] = [];
  await bus.subscribe({ topic: `ns.${TOPIC_EVENTS}`, groupId: `watch-${Math.random()}`, fromBeginning: true, handleBatch: async (rs) => void events.push(...rs.map((r) => JSON.parse(r.value))) });
  const coordinator = createCoordinator({
    reservations, bus, stations, namespace: 'ns', clock: () => clock.now, sweepIntervalMs: 0,
    deliver: (_carId, d) => void delivered.push(d), routeViaBus: false,
    policy: { deferral: { enabled: false } },
    ...over,
  });
  await coordinator.start();
  running.push(coordinator);
  return { coordinator, bus, reservations, events, delivered, clock };
}

const ofType = (events: BookingEvent[], type: string) => events.filter((e) => e.event_type === type);

describe('coordinator', () => {
  it('books the nearest station when telemetry drops below 30 %, and tells the car', async () => {
    const h = await harness([A, B]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.761, -73.99, 50, T0), telemetry('CAR-2', 40.7605, -73.99, 29, T0)]);
    expect(h.delivered.map((d) => [d.carId, d.status, d.stationId])).toEqual([['CAR-2', 'confirmed', 'B']]);
    expect(h.delivered[0].expiresAt).toBeGreaterThan(T0);
    expect(toBookingResponse(h.delivered[0])).toMatchObject({ status: 'BOOKING_CONFIRMED', station_id: 'B', car_id: 'CAR-2', event_type: 'booking_confirmed' });
    await vi.waitFor(() => expect(ofType(h.events, 'booking_confirmed')).toHaveLength(1));
    expect(h.events[0]).toMatchObject({ event_type: 'booking_confirmed', car_id: 'CAR-2', booking_id: expect.any(String), station_id: 'B', event_id: expect.stringContaining(':booking_confirmed') });
    // A second message of the same car does not book twice.
    await h.coordinator.onTelemetry([telemetry('CAR-2', 40.761, -73.99, 28.9, T0 + 2000)]);
    expect(h.delivered).toHaveLength(1);
  });

  it('the herd through the coordinator: 20 ports, 100 cars, 0 double bookings by the audit', async () => {
    const stations = gridStations(10, 2);
    const h = await harness(stations);
    const cars = Array.from({ length: 100 }, (_, i) => telemetry(`CAR-${i}`, 40.7 + (i % 10) * 0.015, -74.0 + (i % 7) * 0.01, 5 + (i % 24), T0));
    await h.coordinator.onTelemetry(cars);
    const byStatus = (s: string) => h.delivered.filter((d) => d.status === s).length;
    expect([byStatus('confirmed'), byStatus('queued')]).toEqual([20, 80]);
    // Every hold lapses; the sweep promotes the 20 most urgent queued cars.
    h.clock.now = T0 + 21 * 60_000;
    expect(await h.coordinator.sweep()).toBe(20);
    await vi.waitFor(() => expect(ofType(h.events, 'booking_expired')).toHaveLength(20));
    await vi.waitFor(() => expect(ofType(h.events, 'booking_confirmed')).toHaveLength(40));
    const audit = auditEvents(h.events, stations);
    expect(audit.doubleBookings).toBe(0);
    expect(Object.values(audit.peak).every((p) => p === 2)).toBe(true);
    const promoted = ofType(h.events, 'booking_confirmed').filter((e) => e.promoted);
    expect(promoted.every((e) => (e.battery as number) <= 10)).toBe(true); // 5–10 % cars are the 20 most urgent of 100
  });

  it('arrival starts charging; reaching 80 % completes the session with real energy and cost', async () => {
    const h = await harness([A], { prices: flatPrice(0.2, (ms) => (ms < T0 + 30 * 60_000 ? 0.3 : 0.1)) });
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.76, -73.99, 20, T0)]);
    h.clock.now = T0 + 5 * 60_000;
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7503, -73.99, 18, h.clock.now)]); // ~33 m away
    h.clock.now = T0 + 65 * 60_000;
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7503, -73.99, 80, h.clock.now)]);
    expect(h.delivered.map((d) => d.status)).toEqual(['confirmed', 'charging', 'completed']);
    await vi.waitFor(() => expect(ofType(h.events, 'charging_completed')).toHaveLength(1));
    const done = ofType(h.events, 'charging_completed')[0];
    // 62 points of 75 kWh; price 0.30 for the first 25 of 60 minutes, then 0.10.
    expect(done).toMatchObject({ station_id: 'A', start_battery: 18, end_battery: 80, start_time: T0 + 5 * 60_000, end_time: T0 + 65 * 60_000, session_id: done.booking_id });
    expect(done.kwh).toBeCloseTo(46.5, 3);
    expect(done.price_rate).toBeCloseTo((25 * 0.3 + 35 * 0.1) / 60, 3);
    expect(done.cost).toBeCloseTo(46.5 * ((25 * 0.3 + 35 * 0.1) / 60), 2);
    expect((await h.reservations.stationStatus())[0]).toMatchObject({ holds: 0, charging: 0 });
  });

  it('a charging car that drives away ends its session and frees the port for the next', async () => {
    const h = await harness([A]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0), telemetry('CAR-2', 40.751, -73.99, 25, T0)]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0 + 1000)]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.76, -73.99, 40, T0 + 2000)]);
    expect(h.delivered.map((d) => [d.carId, d.status])).toEqual([
      ['CAR-1', 'confirmed'], ['CAR-2', 'queued'], ['CAR-1', 'charging'], ['CAR-1', 'completed'], ['CAR-2', 'confirmed'],
    ]);
    expect(h.delivered[3].reason).toBe('completed:drove_away');
  });

  it('a held car seen approaching keeps its hold past the first estimate; one that stops approaching loses it', async () => {
    const h = await harness([A]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.777, -73.99, 20, T0)]); // ~3 km: an 18 min hold
    const held = h.delivered[0];
    expect(held.expiresAt - T0).toBeCloseTo(18 * 60_000, -4);
    h.clock.now = T0 + 15 * 60_000; // a slow drive: still ~1 km away
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.759, -73.99, 19, h.clock.now)]);
    h.clock.now = T0 + 19 * 60_000;
    expect(await h.coordinator.sweep()).toBe(0); // renewed: 1 km at 1.5x the estimate + grace
    expect((await h.reservations.activeBookingForCar('CAR-1'))?.expiresAt).toBeGreaterThan(T0 + 25 * 60_000);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.759, -73.99, 19, h.clock.now)]); // not closer: no renewal
    h.clock.now = T0 + 27 * 60_000;
    expect(await h.coordinator.sweep()).toBe(1);
  });

  it('a car that stops streaming loses its queue entry and its session; the port goes to a car still streaming', async () => {
    const h = await harness([A], { staleAfterMs: 10 * 60_000, staleAfterWallMs: 0 });
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0), telemetry('CAR-2', 40.751, -73.99, 25, T0), telemetry('CAR-3', 40.752, -73.99, 22, T0)]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0 + 1000)]); // plugged in
    h.clock.now = T0 + 5 * 60_000;
    expect(await h.coordinator.sweep()).toBe(0);
    expect(await h.reservations.listActive!()).toHaveLength(3); // 5 minutes of silence is not stale yet
    h.clock.now = T0 + 11 * 60_000;
    await h.coordinator.onTelemetry([telemetry('CAR-2', 40.751, -73.99, 24, h.clock.now)]); // only CAR-2 still streams
    await h.coordinator.sweep();
    expect(h.delivered.slice(-3).map((d) => [d.carId, d.status, d.reason])).toEqual([
      ['CAR-3', 'cancelled', 'cancelled:lost_contact'],
      ['CAR-1', 'completed', 'completed:lost_contact'],
      ['CAR-2', 'confirmed', ''],
    ]);
    expect((await h.reservations.listActive!()).map((b) => [b.carId, b.status])).toEqual([['CAR-2', 'held']]);
    expect((await h.reservations.stationStatus())[0]).toMatchObject({ holds: 1, charging: 0, queueLength: 0 });
  });

  it('with an injected wall clock, the stale window follows it and not the machine clock', async () => {
    // wallNow follows the coordinator clock here, as in the virtual-time simulation (src/sim/virtual/).
    const ref: { h?: Harness } = {};
    const h = await harness([A], { staleAfterMs: 10 * 60_000, staleAfterWallMs: 60_000, wallNow: () => ref.h?.clock.now ?? T0 });
    ref.h = h;
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0)]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.7501, -73.99, 20, T0 + 1000)]); // plugged in
    await h.coordinator.sweep();
    h.clock.now = T0 + 5 * 60_000;
    await h.coordinator.sweep();
    expect(h.delivered.at(-1)).toMatchObject({ carId: 'CAR-1', status: 'charging' });
    h.clock.now = T0 + 11 * 60_000;
    await h.coordinator.sweep();
    expect(h.delivered.at(-1)).toMatchObject({ carId: 'CAR-1', status: 'completed', reason: 'completed:lost_contact' });
  });

  it('cancel frees the port at once and the queued car is promoted', async () => {
    const h = await harness([A]);
    await h.coordinator.requestBooking({ carId: 'CAR-1', stationId: 'A', battery: 40 });
    const queued = await h.coordinator.requestBooking({ carId: 'CAR-2', stationId: 'A', battery: 12 });
    expect(queued).toMatchObject({ status: 'queued', queuePosition: 1 });
    const cancelled = await h.coordinator.cancelBooking({ carId: 'CAR-1' });
    expect(cancelled.status).toBe('cancelled');
    expect(h.delivered.at(-1)).toMatchObject({ carId: 'CAR-2', status: 'confirmed', stationId: 'A' });
    expect((await h.coordinator.cancelBooking({ carId: 'CAR-9' })).status).toBe('failed');
  });

  it('an idempotent RequestBooking retry returns the same booking', async () => {
    const h = await harness([A, B]);
    const first = await h.coordinator.requestBooking({ carId: 'CAR-1', stationId: 'A', battery: 40, expectedArrival: T0 + 60_000 });
    const again = await h.coordinator.requestBooking({ carId: 'CAR-1', stationId: 'A', battery: 40, expectedArrival: T0 + 60_000 });
    expect(again).toMatchObject({ status: 'confirmed', bookingId: first.bookingId, stationId: 'A' });
    expect(first.expiresAt).toBe(T0 + 60_000 + 5 * 60_000); // arrival + grace
    expect((await h.reservations.stationStatus()).find((s) => s.id === 'A')?.holds).toBe(1);
  });

  it('fails, with a reason, when no station is within range', async () => {
    const far: Station = { ...A, id: 'FAR', lat: 42.5 };
    const h = await harness([far]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 10, T0)]);
    expect(h.delivered).toMatchObject([{ status: 'failed', reason: 'no_reachable_station' }]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 9.9, T0 + 2000)]); // not retried at every message
    expect(h.delivered).toHaveLength(1);
  });

  it('emits battery_critical once per crossing below 15 %', async () => {
    const h = await harness([A]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 14, T0)]);
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 13, T0 + 1)]);
    await vi.waitFor(() => expect(ofType(h.events, 'battery_critical')).toHaveLength(1));
  });

  it('defers a healthy car to a cheaper window and says why', async () => {
    const cheapAt = T0 + 3_600_000;
    const h = await harness([A], { prices: flatPrice(0.4, (ms) => (ms >= cheapAt ? 0.15 : 0.4)), policy: { deferral: { enabled: true, drainPctPerHour: 2 } } });
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 29, T0)]);
    expect(h.delivered).toMatchObject([{ status: 'deferred', reason: 'deferred to 13:00, saves $0.25/kWh' }]);
    expect(toBookingResponse(h.delivered[0]).status).toBe('BOOKING_DEFERRED');
    await h.coordinator.onTelemetry([telemetry('CAR-1', 40.75, -73.99, 14, T0 + 60_000)]); // critical now: books at once
    expect(h.delivered.at(-1)).toMatchObject({ status: 'confirmed' });
  });

  it('decisions taken by another instance reach cars connected here through the bus', async () => {
    const bus = createMemoryEventBus();
    const reservations = createMemoryReservations();
    const here = new Set(['CAR-1']);
    const deliveredHere: Decision[] = [];
    const a = await harness([A], { bus, reservations, routeViaBus: true, deliver: (carId, d) => (here.has(carId) ? void deliveredHere.push(d) : false) });
    const b = await harness([A], { bus, reservations, routeViaBus: false });
    await a.coordinator.requestBooking({ carId: 'CAR-2', stationId: 'A', battery: 40 });
    await a.coordinator.requestBooking({ carId: 'CAR-1', stationId: 'A', battery: 20 }); // CAR-1 is queued, connected to A
    await b.coordinator.cancelBooking({ carId: 'CAR-2' }); // instance B frees the port: CAR-1 promoted by B
    await vi.waitFor(() => expect(deliveredHere.map((d) => d.status)).toEqual(['queued', 'confirmed']), { timeout: 3000 });
    expect(deliveredHere[1]).toMatchObject({ carId: 'CAR-1', stationId: 'A' });
  });

  it('nearest lists stations by distance with free ports, optionally only available ones', async () => {
    const h = await harness([A, B]);
    await h.coordinator.requestBooking({ carId: 'CAR-1', stationId: 'A', battery: 40 });
    const rows = await h.coordinator.nearest(40.7499, -73.99, { limit: 2 });
    expect(rows.map((r) => [r.station.id, r.freePorts])).toEqual([['A', 0], ['B', 1]]);
    expect(rows[0].distanceKm).toBeLessThan(0.02);
    expect((await h.coordinator.nearest(40.7499, -73.99, { limit: 1, available: true })).map((r) => r.station.id)).toEqual(['B']);
  });
});

describe('coordinator event-time clock', () => {
  it('holds follow the telemetry timestamps of a sped-up simulation', async () => {
    const bus = createMemoryEventBus();
    buses.push(bus);
    const delivered: Decision[] = [];
    const c = createCoordinator({ reservations: createMemoryReservations(), bus, stations: [A], clock: 'event-time', sweepIntervalMs: 0, deliver: (_id, d) => void delivered.push(d), routeViaBus: false, policy: { deferral: { enabled: false } } });
    await c.start();
    running.push(c);
    const simNow = Date.now() + 6 * 3_600_000; // the simulation runs hours ahead of the wall clock
    await c.onTelemetry([telemetry('CAR-1', 40.751, -73.99, 20, simNow)]);
    expect(delivered[0].expiresAt).toBeGreaterThan(simNow);
    await c.onTelemetry([telemetry('CAR-2', 40.75, -73.99, 90, simNow + 30 * 60_000)]); // half an hour later in sim time
    expect(await c.sweep()).toBe(1);
  });
});
