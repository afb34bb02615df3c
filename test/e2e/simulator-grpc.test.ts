import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { TOPIC_EVENTS } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import { createIngestion } from '../../src/grpc/ingestion-server.js';
import { createFleet, createSimulator, toCarStatus } from '../../src/sim/simulator.js';

/** The simulator against a running ingestion server; the fleet model alone is in test/unit/simulator.test.ts. */
describe('simulator over gRPC', () => {
  const TOKEN = 'sim-test-token';
  const bus = createMemoryEventBus();
  const fleetState = createMemoryFleetState();
  let ingestion: ReturnType<typeof createIngestion>;
  const records: ConsumedRecord[] = [];
  let server = '';

  const makeIngestion = (port: number) =>
    createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: port }, namespace: '', bus, fleet: fleetState, tokens: [TOKEN], logger: silentLogger, registry: new Registry() });

  beforeAll(async () => {
    ingestion = makeIngestion(0);
    await ingestion.start();
    server = `127.0.0.1:${ingestion.port}`;
    await bus.subscribe({ topic: TOPIC_EVENTS, groupId: 'sim-test', fromBeginning: true, handleBatch: async (b) => void records.push(...b) });
  });
  afterAll(async () => {
    await ingestion.stop();
    await bus.close();
  });

  it('streams one stream per car; what it sent is what ingestion accepted, in simulated time', async () => {
    const start = Date.now() - 3_600_000; // inside ingestion's timestamp window
    const sim = createSimulator({ cars: 20, seed: 5, hz: 20, durationSec: 1, speed: 30, server, token: TOKEN, logger: silentLogger, startTime: start, carsPerConnection: 8 });
    const before = ingestion.stats().accepted;
    await sim.start();
    const summary = await sim.done;
    expect(summary).toMatchObject({ cars: 20, rejected: 0, errors: 0, reconnects: 0, simulatedSec: 30 });
    expect(summary.sent).toBeGreaterThanOrEqual(20 * 20 - 20);
    expect(ingestion.stats().accepted - before).toBe(summary.sent);
    // Same seed → the first positions on the bus are the model's first positions.
    const model = createFleet({ cars: 20, seed: 5 });
    model.forEach((c) => c.step(30 / 20, start + 1500));
    const first = JSON.parse(records.find((r) => r.key === 'CAR-007')!.value);
    const expected = toCarStatus(model[6], start + 1500);
    expect(first).toMatchObject({ lat: expected.latitude, lon: expected.longitude, battery: expected.battery_level, timestamp: start + 1500 });
  });

  it('batch mode sends through StreamTelemetryBatch', async () => {
    const sim = createSimulator({ cars: 30, seed: 6, hz: 10, durationSec: 1, server, token: TOKEN, logger: silentLogger, batch: true, batchSize: 7 });
    const before = ingestion.stats().accepted;
    await sim.start();
    const s = await sim.done;
    expect(s.sent).toBeGreaterThanOrEqual(30 * 9);
    expect(ingestion.stats().accepted - before).toBe(s.sent);
  });

  it('hands decisions pushed down the stream to the car they are for', async () => {
    const sim = createSimulator({ cars: 3, seed: 8, hz: 10, server, token: TOKEN, logger: silentLogger, initialBattery: [10, 12] });
    const got: string[] = [];
    sim.onResponse((car, res) => {
      got.push(`${car.carId}:${res.status}:${res.station_id}`);
      void car.driveTo(40.75, -73.98);
    });
    await sim.start();
    for (const c of sim.cars()) expect(c.battery).toBeLessThanOrEqual(12);
    const until = Date.now() + 5_000;
    while (!ingestion.hasCar('CAR-002') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(ingestion.sendToCar('CAR-002', { status: 'BOOKING_CONFIRMED', station_id: 'ST-9' })).toBe(true);
    while (!got.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const s = await sim.stop();
    expect(got).toEqual(['CAR-002:BOOKING_CONFIRMED:ST-9']);
    expect(s.responses).toBe(1);
    expect(s.rejected).toBe(0);
  });

  it('stops with a fatal error when the token is refused', async () => {
    const sim = createSimulator({ cars: 2, hz: 10, server, token: 'wrong', logger: silentLogger });
    await sim.start();
    const s = await sim.done;
    expect(s.fatal).toMatch(/invalid x-api-token/);
    expect(s.errors).toBeGreaterThanOrEqual(1);
  });

  it('fails fast when no server listens', async () => {
    const sim = createSimulator({ cars: 1, server: '127.0.0.1:1', token: TOKEN, logger: silentLogger, connectTimeoutMs: 500 });
    await expect(sim.start()).rejects.toThrow(/cannot reach the ingestion server/);
  });

  it('reconnects with backoff when the server restarts', async () => {
    const sim = createSimulator({ cars: 4, hz: 20, server, token: TOKEN, logger: silentLogger });
    await sim.start();
    await new Promise((r) => setTimeout(r, 300));
    const port = ingestion.port;
    await ingestion.stop();
    ingestion = makeIngestion(port);
    await ingestion.start();
    const until = Date.now() + 8_000;
    while (ingestion.stats().accepted < 20 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const s = await sim.stop();
    expect(s.reconnects).toBeGreaterThanOrEqual(4);
    expect(ingestion.stats().accepted).toBeGreaterThanOrEqual(20);
  });
});
