import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryReservations } from '../../../../src/adapters/memory/memory-reservations.js';
import { gridStations } from '../../../../src/domain/stations.js';
import type { EventBus } from '../../../../src/ports/event-bus.js';
import type { BookingRow } from '../../../../src/ports/store.js';
import { createCoordinator, type Coordinator } from '../../../../src/services/coordination/index.js';
import { coordinatorMetrics } from '../../../../src/services/coordination/metrics.js';
import { StateRecovery } from '../../../../src/services/coordination/recovery.js';

const stations = gridStations(2, 1);
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const running: Coordinator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('state marker', () => {
  it('rebuilds from the log when the marker is gone although every station is present again', async () => {
    let marker: string | null = null;
    let booked = false; // a fresh namespace at start: nothing in the log
    const restored: unknown[][] = [];
    const registry = new Registry();
    const row: BookingRow = { eventId: 'bk-1:booking_confirmed', bookingId: 'bk-1', carId: 'CAR-1', stationId: stations[0].id, status: 'confirmed', time: 1_000, expiresAt: 2_000, reason: null };
    const recovery = new StateRecovery({
      reservations: {
        // Another instance loaded the stations onto the empty Redis: they are all there.
        stationStatus: async () => stations.map((s) => ({ id: s.id, ports: s.ports, holds: 0, charging: 0, queueLength: 0 })),
        restore: async (_s, list) => (restored.push(list), list.length),
        stateMarker: async () => marker,
        markState: async (c) => (marker ??= c),
      },
      stations,
      history: async () => (booked ? [row] : []),
      outbox: { emit: async () => {} },
      now: () => 10_000,
      metrics: coordinatorMetrics(registry),
      logger: quiet,
      instanceId: 'coord-t',
    });
    await recovery.init();
    const first = marker;
    expect(first).not.toBeNull();
    expect(await recovery.check()).toBe(false); // marker in place, stations present: nothing lost
    booked = true;
    marker = null; // Redis restarted empty
    expect(await recovery.check()).toBe(true);
    expect(restored.at(-1)).toMatchObject([{ bookingId: 'bk-1', carId: 'CAR-1', status: 'held', stationId: stations[0].id }]);
    expect(marker).not.toBeNull();
    expect(marker).not.toBe(first);
    expect((await registry.getSingleMetric('greenlane_coordinator_rebuilds_total')!.get()).values[0].value).toBe(1);
    expect(await recovery.check()).toBe(false);
  });
});

describe('bounded outbox', () => {
  it('refuses a new booking with outbox_full once the outbox holds outboxMax events, without growing it', async () => {
    // Kafka unreachable: every publish fails, so the outbox keeps what it has.
    const bus = { kind: 'memory', publish: async () => Promise.reject(new Error('broker down')), subscribe: async () => ({ stop: async () => {}, lag: async () => undefined }), ensureTopics: async () => {}, close: async () => {} } as EventBus;
    const reservations = createMemoryReservations();
    const registry = new Registry();
    const c = createCoordinator({ reservations, bus, stations, registry, sweepIntervalMs: 0, routeViaBus: false, outboxMax: 1, policy: { deferral: { enabled: false } }, logger: undefined });
    await c.start();
    running.push(c);
    const first = await c.requestBooking({ carId: 'CAR-1', stationId: stations[0].id, battery: 30 });
    expect(first.status).toBe('confirmed');
    const depth = await reservations.outboxDepth();
    expect(depth).toBeGreaterThanOrEqual(1);
    const refused = await c.requestBooking({ carId: 'CAR-2', stationId: stations[1].id, battery: 30 });
    expect(refused).toMatchObject({ status: 'failed', reason: 'outbox_full' });
    expect(await reservations.outboxDepth()).toBe(depth);
    expect(await reservations.activeBookingForCar('CAR-2')).toBeNull();
    expect((await registry.getSingleMetric('greenlane_coordinator_outbox_full_total')!.get()).values[0].value).toBe(1);
  });
});
