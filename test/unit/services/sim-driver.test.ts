import { describe, expect, it } from 'vitest';
import { haversineKm } from '../../../src/domain/geo.js';
import { SimCar } from '../../../src/domain/manhattan.js';
import type { BookingResponseMsg } from '../../../src/grpc/proto.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Station } from '../../../src/ports/fleet-state.js';
import { attachSimDriver, type SimDriverOptions } from '../../../src/sim/driver.js';

const ST: Station = { id: 'ST-1', name: 'One', lat: 40.76, lon: -73.98, ports: 2, powerKw: 50 };
const T0 = Date.UTC(2026, 0, 1, 3, 0); // 03:00 UTC: no rush hour

/** The simulator surface the driver uses, over real SimCars, ticked by hand. */
function fakeSim(cars: SimCar[]) {
  const responses = new Set<(car: SimCar, res: BookingResponseMsg) => void>();
  const ticks = new Set<(simNowMs: number, dtSec: number) => void>();
  let now = T0;
  return {
    cars: () => cars,
    car: (id: string) => cars.find((c) => c.carId === id),
    onResponse(fn: (car: SimCar, res: BookingResponseMsg) => void) {
      responses.add(fn);
      return () => void responses.delete(fn);
    },
    onTick(fn: (simNowMs: number, dtSec: number) => void) {
      ticks.add(fn);
      return () => void ticks.delete(fn);
    },
    respond(car: SimCar, res: Partial<BookingResponseMsg>) {
      for (const fn of responses) fn(car, { car_id: car.carId, booking_id: 'bk-1', station_id: ST.id, ...res } as BookingResponseMsg);
    },
    /** Steps the cars then the listeners, as the simulator does. */
    run(seconds: number, dtSec = 1) {
      for (let t = 0; t < seconds; t += dtSec) {
        now += dtSec * 1000;
        for (const c of cars) c.step(dtSec, now);
        for (const fn of ticks) fn(now, dtSec);
      }
    },
  };
}

function setup(battery = 20, opts: Partial<SimDriverOptions> = {}) {
  const car = new SimCar({ carId: 'CAR-1', seed: 7, battery });
  const sim = fakeSim([car]);
  const driver = attachSimDriver(sim, { stations: [ST], logger: silentLogger, ...opts });
  return { car, sim, driver };
}

const atStation = (car: SimCar) => haversineKm(car.position, ST) * 1000;

describe('sim driver: simulated cars obey the coordinator', () => {
  it('confirmed: drives to the station at once and parks in its bay', async () => {
    const { car, sim, driver } = setup();
    const startKm = haversineKm(car.position, ST);
    sim.respond(car, { status: 'BOOKING_CONFIRMED' });
    expect(driver.now()).toEqual({ drivingToStation: 1, waiting: 0, charging: 0 });
    sim.run(5 * 60);
    expect(haversineKm(car.position, ST)).toBeLessThan(startKm); // under way at once, no further decision needed
    sim.run(3 * 3600);
    await new Promise((r) => setImmediate(r)); // arrival at the grid resolves a promise; the bay is off the grid
    expect(atStation(car)).toBeLessThan(1);
    expect(car.mode).toBe('parked');
    expect(driver.counts().confirmed).toBe(1);
  });

  it('charging: charges at min(port, car) kW in simulated time up to the target, then parks or roams as configured', () => {
    for (const afterCharge of ['park', 'roam'] as const) {
      const { car, sim, driver } = setup(20, { afterCharge });
      sim.respond(car, { status: 'BOOKING_CHARGING' });
      expect(car.mode).toBe('parked');
      sim.run(30 * 60, 10); // 30 min at 50 kW = 25 kWh = 33 points of 75 kWh
      expect(car.battery).toBeGreaterThan(50);
      expect(car.battery).toBeLessThan(55);
      sim.run(3600, 10);
      expect(car.battery).toBe(80);
      sim.respond(car, { status: 'BOOKING_COMPLETED' });
      sim.run(60);
      expect(car.mode === 'parked').toBe(afterCharge === 'park');
      expect([...driver.charged]).toEqual(['CAR-1']);
    }
  });

  it('queued: waits parked; a late queued decision never stops a car already promoted and driving', () => {
    const { car, sim, driver } = setup();
    sim.respond(car, { status: 'BOOKING_QUEUED', queue_position: 3 });
    expect(car.mode).toBe('parked');
    expect(driver.now().waiting).toBe(1);
    sim.respond(car, { status: 'BOOKING_CONFIRMED' });
    sim.respond(car, { status: 'BOOKING_QUEUED', queue_position: 3 }); // relayed late through the bus
    sim.run(5);
    expect(car.mode).not.toBe('parked');
    expect(driver.now()).toEqual({ drivingToStation: 1, waiting: 0, charging: 0 });
  });

  it('deferred: the car keeps working until it is booked (at its window or the floor), parked or not before', () => {
    const { car, sim, driver } = setup(25);
    sim.respond(car, { status: 'BOOKING_CONFIRMED' });
    sim.respond(car, { status: 'BOOKING_EXPIRED' });
    expect(car.mode).toBe('parked');
    sim.respond(car, { status: 'BOOKING_DEFERRED', booking_id: '', station_id: '', reason: 'deferred to 01:00, saves $0.27/kWh' });
    sim.run(5);
    expect(car.mode).not.toBe('parked');
    expect(driver.counts()).toMatchObject({ expired: 1, deferred: 1 });
    expect(driver.now()).toEqual({ drivingToStation: 0, waiting: 0, charging: 0 });
    const roaming = setup(60);
    roaming.sim.respond(roaming.car, { status: 'BOOKING_DEFERRED', booking_id: '', station_id: '', reason: 'deferred to 01:00, saves $0.27/kWh' });
    roaming.sim.run(5);
    expect(roaming.car.mode).not.toBe('parked');
    expect(roaming.driver.counts().deferred).toBe(1);
  });

  it('a late confirmation of an older booking does not pull a charging car out of its bay', () => {
    const { car, sim } = setup();
    sim.respond(car, { status: 'BOOKING_CHARGING', booking_id: 'bk-2' });
    sim.respond(car, { status: 'BOOKING_CONFIRMED', booking_id: 'bk-1' });
    sim.run(600, 10);
    expect(atStation(car)).toBeLessThan(1);
    expect(car.battery).toBeGreaterThan(20);
  });

  it('expired: a low car waits where it is for the next decision; a car at 0 % is counted stranded once', () => {
    const { car, sim, driver } = setup(0.01);
    sim.respond(car, { status: 'BOOKING_CONFIRMED' });
    sim.respond(car, { status: 'BOOKING_EXPIRED' });
    expect(car.mode).toBe('parked');
    expect(driver.counts()).toMatchObject({ confirmed: 1, expired: 1 });
    car.resume();
    sim.run(600);
    expect(car.battery).toBe(0);
    expect([...driver.stranded]).toEqual(['CAR-1']);
    expect(driver.counts().stranded).toBe(1);
  });

  it('ignores decisions about another booking than the one it follows, and detach stops obeying', () => {
    const { car, sim, driver } = setup();
    sim.respond(car, { status: 'BOOKING_CONFIRMED', booking_id: 'bk-2' });
    sim.respond(car, { status: 'BOOKING_EXPIRED', booking_id: 'bk-1' });
    expect(driver.counts().expired).toBe(0);
    driver.detach();
    sim.respond(car, { status: 'BOOKING_CANCELLED', booking_id: 'bk-2' });
    expect(driver.counts().cancelled).toBe(0);
  });
});
