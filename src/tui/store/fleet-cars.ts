import type { TelemetryEvent } from '../../domain/events.js';
import { bandOf, isCritical, type Band } from './bands.js';
import type { CarView } from './types.js';

/** How many critical cars a snapshot lists. */
export const CRITICAL_LIST_SIZE = 5;

/**
 * The latest position and battery of every car, with per-band and critical counts kept in step.
 * Bounded: past maxCars the least recently updated car is evicted.
 */
export class FleetCars {
  /** Insertion order = least recently updated first (a car is re-inserted on each update). */
  readonly cars = new Map<string, CarView>();
  readonly bands: Record<Band, number> = { green: 0, yellow: 0, red: 0 };
  criticalCount = 0;

  constructor(private readonly maxCars: number) {}

  get(carId: string): CarView | undefined {
    return this.cars.get(carId);
  }

  /** Applies a telemetry event; returns the id of a car evicted to make room, if any. */
  upsert(e: TelemetryEvent): string | undefined {
    let car = this.cars.get(e.car_id);
    let evicted: string | undefined;
    if (car) {
      this.uncount(car);
      this.cars.delete(e.car_id); // re-insert: Map order becomes least-recently-updated first
    } else if (this.cars.size >= this.maxCars) {
      evicted = this.evictOldest();
    }
    car ??= { carId: e.car_id } as CarView;
    car.lat = e.lat;
    car.lon = e.lon;
    car.battery = e.battery;
    car.velocity = e.velocity;
    car.timestamp = e.timestamp;
    car.band = bandOf(e.battery);
    car.critical = isCritical(e.battery);
    this.bands[car.band]++;
    if (car.critical) this.criticalCount++;
    this.cars.set(e.car_id, car);
    return evicted;
  }

  /** Critical cars, lowest battery first, as copies (at most CRITICAL_LIST_SIZE). */
  criticalList(): CarView[] {
    if (this.criticalCount === 0) return [];
    const list: CarView[] = [];
    for (const car of this.cars.values()) if (car.critical) list.push(car);
    return list
      .sort((a, b) => a.battery - b.battery)
      .slice(0, CRITICAL_LIST_SIZE)
      .map((c) => ({ ...c }));
  }

  private evictOldest(): string {
    const oldest = this.cars.values().next().value as CarView;
    this.uncount(oldest);
    this.cars.delete(oldest.carId);
    return oldest.carId;
  }

  private uncount(car: CarView): void {
    this.bands[car.band]--;
    if (car.critical) this.criticalCount--;
  }
}
