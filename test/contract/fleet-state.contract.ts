import { afterEach, expect, it } from 'vitest';
import { haversineKm } from '../../src/domain/geo.js';
import type { CarState, FleetState, Station } from '../../src/ports/fleet-state.js';

/** Deterministic pseudo-random numbers (mulberry32) so a failing layout can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Manhattan box of the original simulator. */
function manhattanPoint(rand: () => number): { lat: number; lon: number } {
  return { lat: 40.7 + rand() * 0.15, lon: -74.02 + rand() * 0.09 };
}

function car(carId: string, over: Partial<CarState> = {}): CarState {
  return { carId, lat: 40.7234, lon: -73.9876, battery: 85.3, velocity: 45.2, timestamp: 1701532800000, ...over };
}

function expectWithinRelative(actual: number, expected: number, tolerance = 0.005): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(expected * tolerance, 0.0005));
}

/** The FleetState contract: every adapter must pass it unchanged. */
export function fleetStateContract(makeState: () => Promise<FleetState>): void {
  const opened: FleetState[] = [];
  const open = async (): Promise<FleetState> => {
    const state = await makeState();
    opened.push(state);
    return state;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('getCar round-trips every number exactly', async () => {
    const fleet = await open();
    const sent = car('CAR-001', { lat: 40.712345678901, lon: -73.987654321012, battery: 12.345678, velocity: 0.1, timestamp: 1701532812345, state: 'driving' });
    await fleet.upsertCars([sent]);
    expect(await fleet.getCar('CAR-001')).toEqual(sent);
    expect(await fleet.getCar('CAR-404')).toBeNull();
  });

  it('upsert overwrites with the latest state and keeps a state the update does not mention', async () => {
    const fleet = await open();
    await fleet.upsertCars([car('CAR-001', { battery: 90, state: 'charging' })]);
    await fleet.upsertCars([car('CAR-001', { battery: 89.5, lat: 40.8, lon: -73.95, timestamp: 1701532814000 })]);
    expect(await fleet.getCar('CAR-001')).toEqual(car('CAR-001', { battery: 89.5, lat: 40.8, lon: -73.95, timestamp: 1701532814000, state: 'charging' }));
    expect(await fleet.countCars()).toBe(1);
    const near = await fleet.carsNear(40.8, -73.95, 1, 10);
    expect(near.map((n) => n.carId)).toEqual(['CAR-001']);
    expect(near[0].distanceKm).toBeLessThan(0.01);
  });

  it('countCars counts distinct cars across batches', async () => {
    const fleet = await open();
    expect(await fleet.countCars()).toBe(0);
    const rand = rng(7);
    const batch = Array.from({ length: 250 }, (_, i) => car(`CAR-${String(i).padStart(3, '0')}`, manhattanPoint(rand)));
    await fleet.upsertCars(batch);
    await fleet.upsertCars(batch.slice(0, 100));
    await fleet.upsertCars([]);
    expect(await fleet.countCars()).toBe(250);
  });

  it('carsNear returns cars within the radius, nearest first, with haversine distances', async () => {
    const fleet = await open();
    const rand = rng(11);
    const cars = Array.from({ length: 200 }, (_, i) => car(`CAR-${i}`, manhattanPoint(rand)));
    await fleet.upsertCars(cars);
    const here = { lat: 40.7580, lon: -73.9855 };
    const expected = cars
      .map((c) => ({ carId: c.carId, distanceKm: haversineKm(here, c) }))
      .filter((c) => c.distanceKm <= 2)
      .sort((a, b) => a.distanceKm - b.distanceKm)
      .slice(0, 15);
    const near = await fleet.carsNear(here.lat, here.lon, 2, 15);
    expect(near.map((n) => n.carId)).toEqual(expected.map((e) => e.carId));
    near.forEach((n, i) => expectWithinRelative(n.distanceKm, expected[i].distanceKm));
  });

  it('nearestStations is nearest first and matches haversine within 0.5 %', async () => {
    const fleet = await open();
    const rand = rng(42);
    const stations: Station[] = Array.from({ length: 60 }, (_, i) => ({
      id: `ST-${String(i).padStart(2, '0')}`,
      name: `Station ${i}`,
      ...manhattanPoint(rand),
      ports: 1 + (i % 8),
      powerKw: i % 2 ? 150 : 50,
    }));
    await fleet.loadStations(stations);
    expect(await fleet.listStations()).toEqual([...stations].sort((a, b) => a.id.localeCompare(b.id)));

    for (let probe = 0; probe < 5; probe++) {
      const here = manhattanPoint(rand);
      const found = await fleet.nearestStations(here.lat, here.lon, 7);
      const expected = stations.map((s) => ({ s, d: haversineKm(here, s) })).sort((a, b) => a.d - b.d).slice(0, 7);
      expect(found).toHaveLength(7);
      for (let i = 1; i < found.length; i++) expect(found[i].distanceKm).toBeGreaterThanOrEqual(found[i - 1].distanceKm);
      found.forEach((f, i) => {
        expect(f.station).toEqual(expected[i].s);
        expectWithinRelative(f.distanceKm, expected[i].d);
      });
    }
  });

  it('nearestStations honours the radius and the limit', async () => {
    const fleet = await open();
    const base = { name: 'S', ports: 4, powerKw: 50 };
    await fleet.loadStations([
      { id: 'near', lat: 40.7580, lon: -73.9855, ...base },
      { id: 'mid', lat: 40.7680, lon: -73.9855, ...base }, // ~1.1 km north
      { id: 'far', lat: 41.7580, lon: -73.9855, ...base }, // ~111 km north
    ]);
    const inRadius = await fleet.nearestStations(40.7580, -73.9855, 10, 5);
    expect(inRadius.map((r) => r.station.id)).toEqual(['near', 'mid']);
    const all = await fleet.nearestStations(40.7580, -73.9855, 10);
    expect(all.map((r) => r.station.id)).toEqual(['near', 'mid', 'far']);
    expectWithinRelative(all[2].distanceKm, haversineKm({ lat: 40.758, lon: -73.9855 }, { lat: 41.758, lon: -73.9855 }));
    expect(await fleet.nearestStations(40.7580, -73.9855, 1)).toHaveLength(1);
  });
}
