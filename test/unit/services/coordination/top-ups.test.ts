import { afterEach, describe, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../../../src/adapters/grid/http-price-source.js';
import { createMemoryEventBus } from '../../../../src/adapters/memory/memory-event-bus.js';
import { createMemoryReservations } from '../../../../src/adapters/memory/memory-reservations.js';
import type { Station } from '../../../../src/domain/charging.js';
import type { TelemetryEvent } from '../../../../src/domain/events.js';
import { createCoordinator, type Coordinator } from '../../../../src/services/coordination/index.js';

// Issue 10: in the virtual day, 1,302 of 1,510 queue episodes were cars above 30 % that had asked for a
// cheap-hour top-up. Cars asking in one batch all saw the same free port; the first took it and the
// others were queued and parked, some for 20 h (p95 wait 326–520 min against greedy's 26–28, and the
// parked cars drove less, so less energy was delivered). A top-up is only ever a free port now, or nothing.
const NIGHT = Date.UTC(2026, 0, 15, 1, 30); // near the 02:00 UTC trough of src/domain/pricing.ts
const station: Station = { id: 'ST-ONE', name: 'One', lat: 40.75, lon: -73.99, ports: 1, powerKw: 150 };
const running: Coordinator[] = [];
afterEach(async () => void (await Promise.all(running.splice(0).map((c) => c.stop()))));

function cars(n: number, battery: number): TelemetryEvent[] {
  return Array.from({ length: n }, (_, i) => ({ event_id: `e-${i}`, event_type: 'telemetry', car_id: `CAR-${i}`, timestamp: NIGHT, lat: 40.751 + i * 1e-4, lon: -73.99, battery, velocity: 0 }));
}

describe('cheap-hour top-ups', () => {
  it('cars that are not low and ask together for one free port: one gets it, none is queued', async () => {
    const reservations = createMemoryReservations();
    const coordinator = createCoordinator({ reservations, bus: createMemoryEventBus(), prices: createLocalPriceSource(undefined, 'UTC'), stations: [station], clock: () => NIGHT, sweepIntervalMs: 0, policy: { topUp: { leaveFreeShare: 0 } } });
    running.push(coordinator);
    await coordinator.start();
    await coordinator.onTelemetry(cars(5, 50));
    const active = await reservations.listActive!();
    expect(active.map((b) => b.status)).toEqual(['held']);
    expect(await reservations.queue()).toEqual([]);
  });

  // Issue 10: with top-ups to any free port, 1,490 top-ups a day drove a median 17 min on a held port
  // (about 30 % of the 58 ports' hours held idle), and a car that needed a charge at night found the
  // nearest free port far away: its wait (request to plug-in) p95 33–36 min against greedy's 26–28.
  it('a top-up goes only to a station within 10 min of driving and leaves a quarter of its ports free for cars that need a charge', async () => {
    const far: Station = { id: 'ST-FAR', name: 'Far', lat: 40.84, lon: -73.94, ports: 4, powerKw: 150 };
    const four: Station = { ...station, id: 'ST-FOUR', ports: 4 };
    const reservations = createMemoryReservations();
    const coordinator = createCoordinator({ reservations, bus: createMemoryEventBus(), prices: createLocalPriceSource(undefined, 'UTC'), stations: [four, far], clock: () => NIGHT, sweepIntervalMs: 0 });
    running.push(coordinator);
    await coordinator.start();
    for (const car of cars(4, 50)) await coordinator.onTelemetry([car]);
    await coordinator.onTelemetry([{ ...cars(1, 25)[0], car_id: 'LOW' }]);
    const byCar = new Map((await reservations.listActive!()).map((x) => [x.carId, x]));
    expect(['CAR-0', 'CAR-1', 'CAR-2'].map((id) => byCar.get(id)?.stationId)).toEqual(['ST-FOUR', 'ST-FOUR', 'ST-FOUR']);
    expect(byCar.has('CAR-3')).toBe(false); // ST-FOUR's last port is left free; ST-FAR is 40 min away
    expect(byCar.get('LOW')).toMatchObject({ status: 'held', stationId: 'ST-FOUR' });
  });
});
