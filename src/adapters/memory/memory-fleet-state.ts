import { haversineKm } from '../../domain/geo.js';
import type { CarState, FleetState, NearbyCar, NearestStation, Station } from '../../ports/fleet-state.js';

/** In-process fleet state for embedded mode and unit tests: a Map of cars and one of stations. */
export function createMemoryFleetState(): FleetState {
  const cars = new Map<string, CarState>();
  const stations = new Map<string, Station>();

  return {
    kind: 'memory',

    async upsertCars(batch) {
      for (const car of batch) {
        // Like HSET, a write without `state` keeps the previous state.
        const state = car.state ?? cars.get(car.carId)?.state;
        cars.set(car.carId, state === undefined ? { ...car } : { ...car, state });
      }
    },

    async getCar(carId) {
      const car = cars.get(carId);
      return car ? { ...car } : null;
    },

    async countCars() {
      return cars.size;
    },

    async carsNear(lat, lon, radiusKm, limit) {
      const near: NearbyCar[] = [];
      for (const car of cars.values()) {
        const distanceKm = haversineKm({ lat, lon }, car);
        if (distanceKm <= radiusKm) near.push({ carId: car.carId, distanceKm });
      }
      return near.sort((a, b) => a.distanceKm - b.distanceKm).slice(0, limit);
    },

    async loadStations(list) {
      for (const station of list) stations.set(station.id, { ...station });
    },

    async listStations() {
      return [...stations.values()].sort((a, b) => a.id.localeCompare(b.id)).map((s) => ({ ...s }));
    },

    async nearestStations(lat, lon, limit, radiusKm = Number.POSITIVE_INFINITY) {
      const found: NearestStation[] = [];
      for (const station of stations.values()) {
        const distanceKm = haversineKm({ lat, lon }, station);
        if (distanceKm <= radiusKm) found.push({ station: { ...station }, distanceKm });
      }
      return found.sort((a, b) => a.distanceKm - b.distanceKm).slice(0, limit);
    },

    async close() {},
  };
}
