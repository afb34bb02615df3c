/**
 * The virtual-time scenarios. `herd` is the live herd of src/sim/herd-scenario.ts and
 * src/commands/sim.ts (1,000 cars at 8–25 %, each charges once then parks, limit 16 simulated h);
 * `day` is 24 h of fleet operation: cars work shifts that follow the hour's demand, drain by the
 * distance they drive (src/domain/battery.ts) and charge whenever they run low.
 * Times are UTC, and so is the tariff (src/domain/pricing.ts: trough 02:00, peak 18:00).
 */
export type ScenarioName = 'herd' | 'day';

export interface ScenarioSpec {
  name: ScenarioName;
  cars: number;
  /** Simulated hours measured (the herd ends earlier once every car has charged or stranded). */
  hours: number;
  /**
   * Hours simulated before the measured window (KPIs ignore them): the day runs a first day so the
   * measured one starts with the energy deferred the evening before, as a real fleet's day does, and
   * ends owing some into the next: a like-for-like day for a policy that moves charging to the night.
   */
  warmupHours: number;
  startMs: number;
  initialBattery: [number, number];
  /** 'park': a charged car is done (the herd); 'roam': it goes back to work. */
  afterCharge: 'park' | 'roam';
  /** Share of the fleet on duty at a UTC hour (0–1); absent: every car drives all the time. */
  demand?: (hourOfDay: number) => number;
  /** Simulated seconds per car update (arrivals are seen at this step; charge targets are exact). */
  stepSec: number;
}

/** Share of cars on duty per UTC hour: quiet nights, busy days, a small evening tail. */
const DEMAND_BY_HOUR = [0.3, 0.25, 0.2, 0.2, 0.2, 0.3, 0.5, 0.7, 0.8, 0.75, 0.7, 0.7, 0.75, 0.7, 0.7, 0.75, 0.8, 0.85, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4];

export function dayDemand(hourOfDay: number): number {
  const h = Math.floor(hourOfDay) % 24;
  const f = hourOfDay - Math.floor(hourOfDay);
  return DEMAND_BY_HOUR[h] * (1 - f) + DEMAND_BY_HOUR[(h + 1) % 24] * f;
}

/** A fixed day, so reports do not depend on when they were run. */
export const SCENARIO_DAY_MS = Date.UTC(2026, 0, 15);

export interface ScenarioOverrides {
  cars?: number;
  hours?: number;
  /** Default: 24 for the day (a 48 h run, the second day measured) unless hours is given; 0 for the herd. */
  warmupHours?: number;
  stepSec?: number;
}

export function scenarioSpec(name: ScenarioName, o: ScenarioOverrides = {}): ScenarioSpec {
  const stepSec = o.stepSec ?? 30;
  if (name === 'herd') {
    return { name, cars: o.cars ?? 1000, hours: o.hours ?? 16, startMs: SCENARIO_DAY_MS + 12 * 3_600_000, initialBattery: [8, 25], afterCharge: 'park', stepSec, warmupHours: o.warmupHours ?? 0 };
  }
  return { name, cars: o.cars ?? 1000, hours: o.hours ?? 24, startMs: SCENARIO_DAY_MS, initialBattery: [35, 95], afterCharge: 'roam', demand: dayDemand, stepSec, warmupHours: o.warmupHours ?? (o.hours === undefined ? 24 : 0) };
}
