import { describe, expect, it } from 'vitest';
import { chargeBattery, DEFAULT_PACK, drainBattery, rangeKm } from '../../src/domain/battery.js';
import { BOUNDS, carId, GRID, mulberry32, onGrid, SimCar } from '../../src/domain/manhattan.js';
import { createFleet, toCarStatus } from '../../src/sim/simulator.js';

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
