import { auditEvents, type LoggedEvent } from '../../domain/audit.js';
import { averagePriceOver, type PriceFn, type Station } from '../../domain/charging.js';
import { percentile } from '../herd-report.js';
import type { FleetStats } from './fleet-stats.js';
import type { ScenarioSpec } from './scenarios.js';
import type { PolicyName } from './types.js';

/**
 * The KPIs of a virtual run, computed the same way for every policy: from what the fleet observed
 * (src/sim/virtual/fleet-stats.ts) and, for double bookings, from an independent replay of the
 * event log (src/domain/audit.ts). Waits run from a car's request to its plug-in, so a drive to the
 * station counts for both policies alike. Times are simulated; prices in $/kWh.
 */
export interface VirtualKpis {
  scenario: string;
  policy: PolicyName;
  seed: number;
  cars: number;
  ports: number;
  simulatedHours: number;
  endedBy: 'all_charged' | 'time_limit';
  /** Cars with at least one completed session. */
  charged: number;
  sessions: number;
  /** Cars whose battery reached 0 %. */
  stranded: number;
  doubleBookings: number;
  waitP50Min: number;
  waitP95Min: number;
  waitMaxMin: number;
  /**
   * The waits of cars that asked below the request threshold (they needed a charge now), request to
   * plug-in: the queue a driver feels. waitP50/P95 also count cheap-hour top-ups (a car not yet low
   * charging where a port is free: its "wait" is its drive there); a deferral is never counted (the car
   * works until its window or the floor, and its wait starts when it then asks).
   */
  needWaitP50Min: number;
  needWaitP95Min: number;
  needWaitMaxMin: number;
  /** Charging episodes begun above the request threshold (top-ups). */
  topUps: number;
  /** Charging port-time over available port-time, 0–1 (sampled every step). */
  utilisation: number;
  /** The same, over the steps in which some car waited in a queue (null: none ever did). */
  utilisationWhileQueued: number | null;
  stationUtilisation: Record<string, number>;
  energyKwh: number;
  /** Energy to bring every car back to its battery at the window's start (energy used in the window, not yet put back). */
  energyOwedKwh: number;
  /** Cars ending the window below the request threshold (they need a charge now). */
  carsLowAtEnd: number;
  /** Distance the fleet drove: its service. A policy that parks cars to wait for cheap hours drives less. */
  kmDriven: number;
  avgPricePaid: number | null;
  gridAvgPrice: number;
  peakKw: number;
  peakAt: string;
  /** Highest charging power between 17:00 and 19:00 UTC (the tariff's 18:00 peak); null if the run missed it. */
  eveningPeakKw: number | null;
  eveningPeakAt: string | null;
  /** Decisions delivered to cars (every one the coordinator or the greedy habit took). */
  decisions: number;
  deferred: number;
  events: number;
}

export interface KpiInput {
  spec: ScenarioSpec;
  seed: number;
  policy: PolicyName;
  stations: Station[];
  stats: FleetStats;
  events: LoggedEvent[];
  fromMs: number;
  toMs: number;
  endedBy: 'all_charged' | 'time_limit';
  price: PriceFn;
  kmDriven: number;
  energyOwedKwh: number;
  carsLowAtEnd: number;
}

export function computeKpis(i: KpiInput): VirtualKpis {
  const { stats } = i;
  const ports = i.stations.reduce((n, s) => n + s.ports, 0);
  const kwh = stats.sessions.reduce((n, s) => n + s.kwh, 0);
  const cost = stats.sessions.reduce((n, s) => n + s.cost, 0);
  const minutes = (ms: number) => round(ms / 60_000, 1);
  const stationUtilisation: Record<string, number> = {};
  for (const s of i.stations) stationUtilisation[s.id] = stats.samples ? round((stats.busyByStation.get(s.id) ?? 0) / (stats.samples * s.ports), 4) : 0;
  const sawEvening = stats.eveningPeakAtMs > 0 || spansEvening(i.fromMs, i.toMs);
  return {
    scenario: i.spec.name,
    policy: i.policy,
    seed: i.seed,
    cars: i.spec.cars,
    ports,
    simulatedHours: round((i.toMs - i.fromMs) / 3_600_000, 2),
    endedBy: i.endedBy,
    charged: stats.charged.size,
    sessions: stats.sessions.length,
    stranded: stats.stranded.size,
    doubleBookings: auditEvents(i.events, i.stations).doubleBookings,
    waitP50Min: minutes(percentile(stats.waitsMs, 0.5)),
    waitP95Min: minutes(percentile(stats.waitsMs, 0.95)),
    waitMaxMin: minutes(stats.waitsMs.reduce((m, w) => Math.max(m, w), 0)),
    needWaitP50Min: minutes(percentile(stats.needWaitsMs, 0.5)),
    needWaitP95Min: minutes(percentile(stats.needWaitsMs, 0.95)),
    needWaitMaxMin: minutes(stats.needWaitsMs.reduce((m, w) => Math.max(m, w), 0)),
    topUps: stats.topUps,
    utilisation: stats.samples ? round(stats.busyPortSamples / (stats.samples * ports), 4) : 0,
    utilisationWhileQueued: stats.samplesWhileQueued ? round(stats.busyPortSamplesWhileQueued / (stats.samplesWhileQueued * ports), 4) : null,
    stationUtilisation,
    energyKwh: round(kwh, 1),
    energyOwedKwh: round(i.energyOwedKwh, 1),
    carsLowAtEnd: i.carsLowAtEnd,
    kmDriven: round(i.kmDriven, 0),
    avgPricePaid: kwh > 0 ? round(cost / kwh, 4) : null,
    gridAvgPrice: round(averagePriceOver(i.price, i.fromMs, i.toMs), 4),
    peakKw: stats.peakKw,
    peakAt: new Date(stats.peakAtMs || i.fromMs).toISOString(),
    eveningPeakKw: sawEvening ? stats.eveningPeakKw : null,
    eveningPeakAt: sawEvening && stats.eveningPeakAtMs ? new Date(stats.eveningPeakAtMs).toISOString() : null,
    decisions: stats.decisions,
    deferred: stats.deferred,
    events: i.events.length,
  };
}

/** Whether [fromMs, toMs] contains some instant between 17:00 and 19:00 UTC. */
function spansEvening(fromMs: number, toMs: number): boolean {
  for (let t = fromMs; t <= toMs; t += 15 * 60_000) {
    const h = (t / 3_600_000) % 24;
    if (h >= 17 && h < 19) return true;
  }
  return false;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
