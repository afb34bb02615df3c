import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../../../src/adapters/memory/memory-event-bus.js';
import { createMemoryReservations } from '../../../../src/adapters/memory/memory-reservations.js';
import type { TelemetryEvent } from '../../../../src/domain/events.js';
import { parseStations } from '../../../../src/config/stations-file.js';
import { createCoordinator, type Coordinator } from '../../../../src/services/coordination/index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const manhattan = parseStations(JSON.parse(readFileSync(new URL('../../../../deploy/stations/manhattan.json', import.meta.url), 'utf8')));
const running: Coordinator[] = [];
afterEach(async () => void (await Promise.all(running.splice(0).map((c) => c.stop()))));

/** A herd of `n` low cars spread over Manhattan's grid (deterministic), all asking at once. */
function herd(n: number, battery: number): TelemetryEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: `e-${i}`, event_type: 'telemetry', car_id: `CAR-${i}`, timestamp: T0,
    lat: 40.705 + ((i * 37) % 100) / 100 * 0.14, lon: -74.01 + ((i * 61) % 100) / 100 * 0.07, battery: battery + (i % 5), velocity: 0,
  }));
}

async function start() {
  const reservations = createMemoryReservations();
  const coordinator = createCoordinator({ reservations, bus: createMemoryEventBus(), stations: manhattan, namespace: 'wc', clock: () => T0, sweepIntervalMs: 0, policy: { deferral: { enabled: false } } });
  running.push(coordinator);
  await coordinator.start();
  return { reservations, coordinator };
}

describe('work-conserving booking on the shipped Manhattan stations', () => {
  it('while reachable cars wait, no port stays free, and every station (the 50 kW ones too) receives cars', async () => {
    const { reservations, coordinator } = await start();
    const cars = herd(400, 20);
    for (let i = 0; i < cars.length; i += 50) await coordinator.onTelemetry(cars.slice(i, i + 50));
    const status = await reservations.stationStatus();
    const ports = manhattan.reduce((n, s) => n + s.ports, 0);
    expect((await reservations.queue()).length).toBe(cars.length - ports);
    expect(status.filter((s) => s.holds < s.ports).map((s) => s.id)).toEqual([]);
    expect(status.find((s) => s.id === 'ST-TRIBECA')?.holds).toBe(3);
    expect(status.find((s) => s.id === 'ST-KIPS-BAY')?.holds).toBe(2);
  });

  it('cars asking together from one corner still fill every reachable port, and a freed port is refilled at once', async () => {
    const { reservations, coordinator } = await start();
    // 120 cars next to Hudson Yards, in one batch (one status snapshot): every station is within their range.
    const cars = herd(120, 20).map((e) => ({ ...e, lat: 40.7538, lon: -74.0012 }));
    await coordinator.onTelemetry(cars);
    const ports = manhattan.reduce((n, s) => n + s.ports, 0);
    const free = async () => (await reservations.stationStatus()).filter((s) => s.holds + s.charging < s.ports).map((s) => s.id);
    expect(await free()).toEqual([]);
    expect((await reservations.queue()).length).toBe(cars.length - ports);
    const atKipsBay = (await reservations.listActive!()).find((b) => b.status === 'held' && b.stationId === 'ST-KIPS-BAY');
    await coordinator.cancelBooking({ bookingId: atKipsBay!.bookingId, reason: 'test' });
    expect(await free()).toEqual([]);
    expect((await reservations.queue()).length).toBe(cars.length - ports - 1);
  });
});
