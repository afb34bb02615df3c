import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { chargeBattery, DEFAULT_PACK, drainBattery, rangeKm } from '../../src/domain/battery.js';
import { TOPIC_EVENTS } from '../../src/domain/events.js';
import { BOUNDS, carId, GRID, mulberry32, onGrid, SimCar } from '../../src/domain/manhattan.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import { createIngestion } from '../../src/grpc/ingestion-server.js';
import { createFleet, createSimulator, toCarStatus } from '../../src/sim/simulator.js';

const T0 = Date.UTC(2024, 5, 3, 14, 0, 0);

function trace(seed: number, cars: number, steps: number) {
  const fleet = createFleet({ cars, seed });
  const out: string[][] = fleet.map(() => []);
  for (let t = 1; t <= steps; t++) {
    fleet.forEach((car, i) => {
      car.step(1, T0 + t * 1000);
      const s = toCarStatus(car, T0 + t * 1000);
      out[i].push(`${s.latitude},${s.longitude},${s.battery_level},${s.velocity}`);
    });
  }
  return out;
}

describe('Manhattan fleet model', () => {
  it('is deterministic for a seed, differs across seeds, and a car does not depend on the fleet size', () => {
    const a = trace(42, 5, 200);
    expect(trace(42, 5, 200)).toEqual(a);
    expect(trace(43, 5, 200)).not.toEqual(a);
    expect(trace(42, 12, 200).slice(0, 5)).toEqual(a);
    expect(new Set(a.map((t) => t[0])).size).toBe(5); // cars start in different places
  });

  it('keeps cars inside the original bounding box, on avenues or streets, at plausible speeds', () => {
    const fleet = createFleet({ cars: 30, seed: 7 });
    let moved = 0;
    for (let t = 1; t <= 1500; t++) {
      for (const car of fleet) {
        const before = car.position;
        car.step(2, T0 + t * 2000);
        const { lat, lon } = car.position;
        expect(lat).toBeGreaterThanOrEqual(BOUNDS.minLat);
        expect(lat).toBeLessThanOrEqual(BOUNDS.maxLat);
        expect(lon).toBeGreaterThanOrEqual(BOUNDS.minLon);
        expect(lon).toBeLessThanOrEqual(BOUNDS.maxLon);
        expect(onGrid(lat, lon)).toBe(true);
        expect(car.velocity).toBeGreaterThanOrEqual(0);
        expect(car.velocity).toBeLessThanOrEqual(70);
        if (before.lat !== lat || before.lon !== lon) moved++;
      }
    }
    // Not a random walk: the cars cover real distance (≈ 3 h of driving each at city speeds).
    const km = fleet.map((c) => c.odometerKm);
    expect(Math.min(...km)).toBeGreaterThan(5);
    expect(moved).toBeGreaterThan(30 * 1500 * 0.5);
    // Both kinds of lines are used.
    const positions = fleet.map((c) => c.position);
    expect(positions.some((p) => GRID.avenues.includes(p.lon))).toBe(true);
  });

  it('drains the battery by distance from the pack model', () => {
    const car = new SimCar({ carId: 'CAR-001', seed: 1, battery: 80, pack: { capacityKwh: 60, whPerKm: 200, auxKw: 0 } });
    let last = car.battery;
    for (let t = 1; t <= 600; t++) {
      car.step(1, T0 + t * 1000);
      expect(car.battery).toBeLessThanOrEqual(last);
      last = car.battery;
    }
    // 200 Wh/km on 60 kWh: 1 km costs 1/3 %.
    expect(80 - car.battery).toBeCloseTo((car.odometerKm * 200) / 60_000 * 100, 6);
    expect(car.odometerKm).toBeGreaterThan(1);

    const parked = new SimCar({ carId: 'CAR-002', seed: 1, battery: 80, pack: { capacityKwh: 60, whPerKm: 200, auxKw: 0 } });
    parked.park();
    parked.step(600, T0);
    expect(parked.battery).toBe(80);
    expect(drainBattery(DEFAULT_PACK, 50, 10, 0)).toBeCloseTo(50 - (10 * 180) / 75_000 * 100, 9);
    expect(rangeKm(DEFAULT_PACK, 100)).toBeCloseTo(75_000 / 180, 6);
  });

  it('strands an empty car and charging brings it back (tapering above 80 %)', () => {
    const car = new SimCar({ carId: 'CAR-003', seed: 3, battery: 0.01, pack: { capacityKwh: 60, whPerKm: 200, auxKw: 0.3 } });
    car.step(600, T0);
    expect(car.mode).toBe('stranded');
    expect(car.velocity).toBe(0);
    const fast = chargeBattery(DEFAULT_PACK, 20, 150, 0.25);
    const slow = chargeBattery(DEFAULT_PACK, 80, 150, 0.25);
    expect(fast.batteryPct - 20).toBeGreaterThan(slow.batteryPct - 80);
    car.setBattery(fast.batteryPct);
    car.resume();
    car.step(10, T0);
    expect(car.mode === 'driving' || car.mode === 'waiting').toBe(true);
  });

  it('drives to a destination along the grid and reports arrival', async () => {
    const car = createFleet({ cars: 1, seed: 9 })[0];
    const arrived = car.driveTo(40.8, -73.95);
    let t = 0;
    while (car.mode !== 'arrived' && t < 20_000) car.step(5, T0 + (t += 5) * 1000);
    expect(await arrived).toBe(true);
    const { lat, lon } = car.position;
    expect(Math.abs(lat - 40.8)).toBeLessThan(0.0025);
    expect(Math.abs(lon + 73.95)).toBeLessThan(0.005);
    car.step(60, T0);
    expect(car.position).toEqual({ lat, lon });
  });

  it('names cars like the original simulator', () => {
    expect(carId(0, 50)).toBe('CAR-001');
    expect(carId(1233, 5000)).toBe('CAR-1234');
    expect(mulberry32(1)()).toBe(mulberry32(1)());
  });
});

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
