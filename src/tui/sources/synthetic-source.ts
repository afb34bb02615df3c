import { randomUUID } from 'node:crypto';
import type { FleetEvent, TelemetryEvent } from '../../domain/events.js';
import type { Station } from '../../ports/fleet-state.js';
import { FLEET_AREA } from '../store/map-grid.js';
import type { EventSource } from './types.js';

export interface SyntheticSourceOptions {
  /** Events per second. */
  rate: number;
  cars?: number;
  /** Stations to book at (a booking event every ~200 events when given). */
  stations?: Station[];
  /** Batteries start between these (percent); a low floor shows critical alerts. */
  initialBattery?: [number, number];
  tickMs?: number;
  random?: () => number;
}

/**
 * Generates fleet events at a fixed rate, in the original simulator's shape: for demos,
 * the benchmark and tests where no stack is running.
 */
export function createSyntheticSource(opts: SyntheticSourceOptions): EventSource {
  const rnd = opts.random ?? Math.random;
  const carCount = opts.cars ?? 100;
  const [lo, hi] = opts.initialBattery ?? [10, 100];
  const { minLat, maxLat, minLon, maxLon } = FLEET_AREA;
  const cars = Array.from({ length: carCount }, (_, i) => ({
    id: `CAR-${String(i + 1).padStart(3, '0')}`,
    lat: minLat + rnd() * (maxLat - minLat),
    lon: minLon + rnd() * (maxLon - minLon),
    battery: lo + rnd() * (hi - lo),
  }));
  let timer: ReturnType<typeof setInterval> | undefined;
  let emitted = 0;
  let next = 0;

  function telemetry(now: number): TelemetryEvent {
    const car = cars[next++ % carCount];
    car.lat = clamp(car.lat + (rnd() - 0.5) * 0.001, minLat, maxLat);
    car.lon = clamp(car.lon + (rnd() - 0.5) * 0.001, minLon, maxLon);
    car.battery = car.battery <= 1 ? hi : car.battery - (0.1 + rnd() * 0.4);
    return { event_id: randomUUID(), event_type: 'telemetry', car_id: car.id, lat: car.lat, lon: car.lon, battery: Math.round(car.battery * 10) / 10, velocity: Math.round(rnd() * 600) / 10, timestamp: now };
  }

  function booking(now: number): FleetEvent {
    const car = cars[Math.floor(rnd() * carCount)];
    const station = opts.stations![Math.floor(rnd() * opts.stations!.length)];
    const types = ['booking_confirmed', 'charging_started', 'charging_completed', 'booking_queued'] as const;
    return { event_id: randomUUID(), event_type: types[Math.floor(rnd() * types.length)], car_id: car.id, station_id: station.id, price_rate: 0.3, timestamp: now };
  }

  return {
    kind: 'synthetic',
    label: `synthetic ${opts.rate}/s, ${carCount} cars`,
    async start(h) {
      h.onStatus({ state: 'connected' });
      const started = Date.now();
      const tick = opts.tickMs ?? 10;
      timer = setInterval(() => {
        const now = Date.now();
        const due = Math.floor(((now - started) * opts.rate) / 1000) - emitted;
        if (due <= 0) return;
        const n = Math.min(due, opts.rate); // never more than a second's worth at once after a stall
        const events: FleetEvent[] = new Array(n);
        for (let i = 0; i < n; i++) events[i] = opts.stations?.length && rnd() < 0.005 ? booking(now) : telemetry(now);
        emitted += due;
        void h.onEvents(events);
      }, tick);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

const clamp = (v: number, a: number, b: number) => Math.min(b, Math.max(a, v));
