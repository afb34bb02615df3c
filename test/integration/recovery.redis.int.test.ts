import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import { createRedisReservations, type RedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { gridStations } from '../../src/domain/stations.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { Store } from '../../src/ports/store.js';
import { createCoordinator, type Coordinator } from '../../src/services/coordination/index.js';
import { createWorker, type Worker } from '../../src/services/worker.js';
import { describeWithEngine, engineProbe } from '../helpers/infra.js';

// A private Redis: this test wipes it under a running coordinator, so it never touches the shared one.
const PORT = 6390;
const url = `redis://127.0.0.1:${PORT}`;

await describeWithEngine('redis', engineProbe('redis'), 'Reservations lost in Redis are rebuilt from the booking log', () => {
  let server: ChildProcess;
  let reservations: RedisReservations;
  let store: Store;
  let worker: Worker;
  let coordinator: Coordinator;
  const bus = createMemoryEventBus();
  const registry = createRegistry(false);

  beforeAll(async () => {
    server = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    probe.on('error', () => {});
    await vi.waitFor(async () => expect(await probe.ping()).toBe('PONG'), { timeout: 5000, interval: 100 });
    probe.disconnect();
  });

  afterAll(async () => {
    await coordinator?.stop();
    await worker?.stop();
    await reservations?.close();
    await store?.close();
    await bus.close();
    server?.kill('SIGTERM');
  });

  it('a flush under a running coordinator: stations back and active bookings restored within 15 s, counted and logged', async () => {
    const stations = gridStations(3, 1);
    store = await createPgliteStore();
    await store.migrate();
    worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: '', logger: silentLogger, registry });
    await worker.start();
    reservations = await createRedisReservations({ url });
    coordinator = createCoordinator({
      reservations, bus, stations, registry, sweepIntervalMs: 0, routeViaBus: false, recoveryCheckMs: 250,
      history: (since) => store.activeBookings!(since), policy: { deferral: { enabled: false } },
    });
    await coordinator.start();
    const asks = ['CAR-1', 'CAR-2', 'CAR-3', 'CAR-4'].map((carId, i) => ({ carId, stationId: stations[i % 3].id, battery: 30 }));
    const decisions = [];
    for (const a of asks) decisions.push(await coordinator.requestBooking(a));
    expect(decisions.map((d) => d.status)).toEqual(['confirmed', 'confirmed', 'confirmed', 'queued']);
    // The worker has the log before the loss.
    await vi.waitFor(async () => expect(await store.activeBookings!(0)).toHaveLength(4), { timeout: 10_000, interval: 100 });
    const before = await reservations.stationStatus();

    await reservations.redis.flushall();
    const lostAt = Date.now();
    await vi.waitFor(
      async () => {
        expect(await reservations.stationStatus()).toEqual(before);
        expect((await reservations.listActive!()).map((b) => [b.carId, b.status]).sort()).toEqual([['CAR-1', 'held'], ['CAR-2', 'held'], ['CAR-3', 'held'], ['CAR-4', 'queued']]);
      },
      { timeout: 15_000, interval: 100 },
    );
    const recoveredMs = Date.now() - lostAt;
    console.log(`recovery after a Redis flush: ${recoveredMs} ms`);
    expect(recoveredMs).toBeLessThan(15_000);
    expect((await registry.getSingleMetric('greenlane_coordinator_rebuilds_total')!.get()).values[0].value).toBe(1);
    // The rebuilt state works like any other: freeing CAR-1's port promotes the queued CAR-4 there.
    const cancelled = await coordinator.cancelBooking({ carId: 'CAR-1' });
    expect(cancelled.status).toBe('cancelled');
    expect(await reservations.activeBookingForCar('CAR-4')).toMatchObject({ status: 'held', stationId: stations[0].id });
  });
});
