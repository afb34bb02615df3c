import { afterEach, expect, it, vi } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { TOPIC_EVENTS, type BookingEvent } from '../../src/domain/events.js';
import type { Station } from '../../src/ports/fleet-state.js';
import type { Reservations } from '../../src/ports/reservations.js';
import { createCoordinator, UnknownStationError, type Coordinator, type Decision } from '../../src/services/coordination/index.js';
import { isOffline } from '../../src/services/coordination/station-availability.js';
import { stationRow } from '../../src/services/queries/station-rows.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const A: Station = { id: 'A', name: 'A', lat: 40.75, lon: -73.99, ports: 1, powerKw: 100 };
const B: Station = { id: 'B', name: 'B', lat: 40.752, lon: -73.99, ports: 1, powerKw: 100 };
const C: Station = { id: 'C', name: 'C', lat: 40.76, lon: -73.99, ports: 2, powerKw: 100 };

/** A fresh, empty Reservations of the adapter under test, and how to drop its state. */
export type MakeReservations = () => Promise<{ reservations: Reservations; close(): Promise<void> }>;

/**
 * An operator takes a station offline and back online: the same coordinator code on every
 * Reservations adapter (memory in test/contract/station-availability.memory.test.ts, the Lua
 * scripts in test/integration/station-availability.redis.int.test.ts).
 */
export function stationAvailabilityContract(make: MakeReservations): void {
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function harness() {
  const bus = createMemoryEventBus();
  const { reservations, close } = await make();
  const fleet = createMemoryFleetState();
  const delivered: Decision[] = [];
  const events: BookingEvent[] = [];
  await bus.subscribe({ topic: TOPIC_EVENTS, groupId: 'watch', fromBeginning: true, handleBatch: async (rs) => void events.push(...rs.map((r) => JSON.parse(r.value))) });
  const coordinator: Coordinator = createCoordinator({
    reservations, bus, fleet, stations: [A, B, C], clock: () => T0, sweepIntervalMs: 0,
    deliver: (_carId, d) => void delivered.push(d), routeViaBus: false, policy: { deferral: { enabled: false } },
  });
  await coordinator.start();
  stops.push(() => coordinator.stop(), () => bus.close(), close);
  const car = async (carId: string, battery: number, stationId?: string) => {
    await fleet.upsertCars([{ carId, lat: 40.751, lon: -73.99, battery, velocity: 0, timestamp: T0 }]);
    return coordinator.requestBooking({ carId, stationId });
  };
  const status = async (id: string) => (await reservations.stationStatus()).find((s) => s.id === id)!;
  return { coordinator, reservations, delivered, events, car, status };
}

  it('offline: no ports; its hold, session and queue are re-planned elsewhere and every car is told', async () => {
    const h = await harness();
    expect((await h.car('CAR-1', 40, 'A')).status).toBe('confirmed');
    expect((await h.car('CAR-2', 30, 'A')).status).toBe('queued'); // A's queue
    expect((await h.car('CAR-3', 50, 'B')).status).toBe('confirmed');
    h.delivered.length = 0;

    const res = await h.coordinator.setStationOnline('A', false);
    expect(res).toMatchObject({ stationId: 'A', online: false, changed: true, ports: 0 });
    expect(res.replanned.map((r) => [r.carId, r.was, r.now.status, r.now.stationId])).toEqual([
      ['CAR-1', 'held', 'confirmed', 'C'],
      ['CAR-2', 'queued', 'confirmed', 'C'],
    ]);
    expect((await h.status('A')).ports).toBe(0);
    expect(isOffline(A, await h.status('A'))).toBe(true);
    expect(stationRow(A, await h.status('A'), 0.2)).toMatchObject({ ports: 0, free: 0, offline: true });
    // Each car heard that its booking ended (why) and where it goes now, on its own stream.
    expect(h.delivered.map((d) => [d.carId, d.status, d.status === 'cancelled' ? d.reason : d.stationId])).toEqual([
      ['CAR-1', 'cancelled', 'cancelled:station_offline'],
      ['CAR-1', 'confirmed', 'C'],
      ['CAR-2', 'cancelled', 'cancelled:station_offline'],
      ['CAR-2', 'confirmed', 'C'],
    ]);
    await vi.waitFor(() => expect(h.events.filter((e) => e.event_type === 'booking_cancelled').map((e) => e.reason)).toEqual(['cancelled:station_offline', 'cancelled:station_offline']));
    // While offline it is never chosen, asked for by name or not.
    expect((await h.car('CAR-4', 20, 'A'))).toMatchObject({ status: 'failed', reason: 'station_offline' });
    expect((await h.car('CAR-4', 20)).status).toBe('queued'); // B and C full, A offline
    expect((await h.coordinator.setStationOnline('A', false)).changed).toBe(false);
  });

  it('online: the configured ports return and the head of the queue takes them', async () => {
    const h = await harness();
    await h.coordinator.setStationOnline('A', false);
    await h.car('CAR-1', 50, 'B');
    await h.car('CAR-2', 50, 'C');
    await h.car('CAR-3', 50, 'C');
    const queued = await h.car('CAR-4', 12);
    expect(queued.status).toBe('queued');
    const res = await h.coordinator.setStationOnline('A', true);
    expect(res).toMatchObject({ online: true, changed: true, ports: 1, promoted: 1 });
    expect(res.replanned.map((r) => [r.carId, r.now.status, r.now.stationId])).toEqual([['CAR-4', 'confirmed', 'A']]);
    expect(await h.status('A')).toMatchObject({ ports: 1, holds: 1 });
    expect(isOffline(A, await h.status('A'))).toBe(false);
  });

  it('refuses an unknown station by name', async () => {
    const h = await harness();
    await expect(h.coordinator.setStationOnline('NOPE', false)).rejects.toBeInstanceOf(UnknownStationError);
  });
}
