import { carId, carSeed, mulberry32, SimCar } from '../domain/manhattan.js';
import type { CarStatusMsg } from '../grpc/proto.js';

export interface FleetSpec {
  cars: number;
  seed?: number;
  initialBattery?: [number, number];
  firstCar?: number;
  carPrefix?: string;
}

/** Builds the fleet for a seed: per-car pack (60–100 kWh, 150–220 Wh/km) and initial battery. */
export function createFleet(opts: FleetSpec): SimCar[] {
  const seed = opts.seed ?? 1;
  const [lo, hi] = opts.initialBattery ?? [35, 95];
  const first = opts.firstCar ?? 0;
  const total = first + opts.cars;
  return Array.from({ length: opts.cars }, (_, i) => {
    const index = first + i;
    const traits = mulberry32(carSeed(seed ^ 0x5eed, index));
    const pack = { capacityKwh: Math.round(60 + traits() * 40), whPerKm: Math.round(150 + traits() * 70), auxKw: 0.3 };
    const battery = Math.round((lo + traits() * (hi - lo)) * 10) / 10;
    return new SimCar({ carId: carId(index, total, opts.carPrefix), seed: carSeed(seed, index), battery, pack });
  });
}

export function toCarStatus(car: SimCar, timestamp: number): CarStatusMsg {
  const { lat, lon } = car.position;
  return {
    car_id: car.carId,
    latitude: Math.round(lat * 1e6) / 1e6,
    longitude: Math.round(lon * 1e6) / 1e6,
    battery_level: Math.round(car.battery * 100) / 100,
    velocity: Math.round(car.velocity * 10) / 10,
    timestamp: Math.round(timestamp),
  };
}
