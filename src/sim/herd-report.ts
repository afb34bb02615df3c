import { auditEvents, type LoggedEvent } from '../domain/audit.js';
import { averagePriceOver, type PriceFn } from '../domain/charging.js';

export type { LoggedEvent };

export interface HerdReport {
  cars: number;
  /** Distinct bookings that got a port (at once or by promotion). */
  confirmed: number;
  /** Distinct bookings that had to wait in the queue. */
  queued: number;
  expired: number;
  cancelled: number;
  failed: number;
  sessions: number;
  /** Cars whose battery reached 0 % (from telemetry, plus any the simulator reports). */
  stranded: number;
  /** By the independent audit (src/domain/audit.ts), not the coordinator's counters. */
  doubleBookings: number;
  /** Request → port confirmed; cars still queued at the end count their wait so far. */
  waitP50Ms: number;
  waitP95Ms: number;
  /** Σ cost / Σ kWh over completed sessions ($/kWh); null without sessions. */
  avgPricePaid: number | null;
  /** Time average of the grid price over the run; null without a price function. */
  gridAvgPrice: number | null;
  /** Port-time spent charging / port-time available, 0–1. */
  utilisation: number;
  kwh: number;
  cost: number;
  fromMs: number;
  toMs: number;
}

export interface HerdReportInput {
  events: Iterable<LoggedEvent>;
  stations: { id: string; ports: number }[];
  price?: PriceFn;
  /** Stranded car ids the simulator observed (merged with telemetry at 0 %). */
  strandedCars?: Iterable<string>;
  fromMs?: number;
  toMs?: number;
}

/** The `sim --scenario herd` report, computed only from the event log. */
export function herdReport(input: HerdReportInput): HerdReport {
  const events = dedupe(input.events).sort((a, b) => a.timestamp - b.timestamp);
  const fromMs = input.fromMs ?? events[0]?.timestamp ?? 0;
  const toMs = input.toMs ?? events.at(-1)?.timestamp ?? fromMs;
  const cars = new Set<string>();
  const stranded = new Set(input.strandedCars ?? []);
  const ids = { confirmed: new Set<string>(), queued: new Set<string>(), expired: new Set<string>(), cancelled: new Set<string>(), failed: new Set<string>() };
  const requestedAt = new Map<string, number>();
  const confirmedAt = new Map<string, number>();
  const sessionStart = new Map<string, number>();
  let sessions = 0;
  let kwh = 0;
  let cost = 0;
  let chargingMs = 0;

  for (const e of events) {
    cars.add(e.car_id);
    const key = e.booking_id ?? `car:${e.car_id}`;
    switch (e.event_type) {
      case 'telemetry':
        if ((e.battery ?? 1) <= 0) stranded.add(e.car_id);
        break;
      case 'booking_queued':
        ids.queued.add(key);
        if (!requestedAt.has(key)) requestedAt.set(key, e.timestamp);
        break;
      case 'booking_confirmed':
        ids.confirmed.add(key);
        if (!requestedAt.has(key)) requestedAt.set(key, e.timestamp);
        if (!confirmedAt.has(key)) confirmedAt.set(key, e.timestamp);
        break;
      case 'booking_expired':
      case 'booking_cancelled':
      case 'booking_failed':
        ids[e.event_type.slice('booking_'.length) as 'expired' | 'cancelled' | 'failed'].add(key);
        chargingMs += closeSession(sessionStart, key, e.timestamp, fromMs, toMs);
        break;
      case 'charging_started':
        sessionStart.set(key, e.timestamp);
        break;
      case 'charging_completed':
        sessions++;
        kwh += num(e.kwh);
        cost += num(e.cost);
        chargingMs += closeSession(sessionStart, key, e.timestamp, fromMs, toMs);
        break;
    }
  }
  for (const key of [...sessionStart.keys()]) chargingMs += closeSession(sessionStart, key, toMs, fromMs, toMs);

  const waits = [...requestedAt].map(([key, at]) => (confirmedAt.get(key) ?? toMs) - at);
  const portMs = input.stations.reduce((sum, s) => sum + s.ports, 0) * Math.max(0, toMs - fromMs);
  return {
    cars: cars.size,
    confirmed: ids.confirmed.size,
    queued: ids.queued.size,
    expired: ids.expired.size,
    cancelled: ids.cancelled.size,
    failed: ids.failed.size,
    sessions,
    stranded: stranded.size,
    doubleBookings: auditEvents(events, input.stations).doubleBookings,
    waitP50Ms: percentile(waits, 0.5),
    waitP95Ms: percentile(waits, 0.95),
    avgPricePaid: kwh > 0 ? round(cost / kwh, 4) : null,
    gridAvgPrice: input.price ? round(averagePriceOver(input.price, fromMs, toMs), 4) : null,
    utilisation: portMs > 0 ? round(chargingMs / portMs, 4) : 0,
    kwh: round(kwh, 3),
    cost: round(cost, 2),
    fromMs,
    toMs,
  };
}

/** Nearest-rank percentile; 0 for no samples. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function closeSession(open: Map<string, number>, key: string, at: number, fromMs: number, toMs: number): number {
  const start = open.get(key);
  if (start === undefined) return 0;
  open.delete(key);
  return Math.max(0, Math.min(at, toMs) - Math.max(start, fromMs));
}

function dedupe(events: Iterable<LoggedEvent>): LoggedEvent[] {
  const seen = new Set<string>();
  const out: LoggedEvent[] = [];
  for (const e of events) {
    if (e.event_id !== undefined) {
      if (seen.has(e.event_id)) continue;
      seen.add(e.event_id);
    }
    out.push(e);
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
