import type { LoggedEvent } from '../../domain/audit.js';
import { DEFAULT_TARGET_PCT, type PriceFn, type Station } from '../../domain/charging.js';
import type { TelemetryEvent } from '../../domain/events.js';
import { createFleet } from '../simulator.js';
import { EventQueue, VirtualClock } from './clock.js';
import { FleetDecisions, reports, telemetryOf, type FleetRules, type VCar } from './fleet.js';
import { FleetStats } from './fleet-stats.js';
import { computeKpis, type VirtualKpis } from './kpis.js';
import { createRecordingBus } from './recording-bus.js';
import type { ScenarioSpec } from './scenarios.js';
import { mulberry32 } from '../../domain/manhattan.js';
import type { StrategyFactory } from './types.js';

/**
 * The discrete-event loop: every step the cars move (src/domain/manhattan.ts SimCar), the cars that
 * are low or booked report their telemetry to the strategy, the strategy housekeeps (the
 * coordinator's expiry sweep), and the fleet samples its charging power. A charge reaching its
 * target is an exact event between steps. No wall clock, no timers, no randomness but the seed.
 */
export interface VirtualRunInput {
  spec: ScenarioSpec;
  stations: Station[];
  seed: number;
  strategy: StrategyFactory;
  /** The tariff ($/kWh at an instant) sessions are priced on. */
  price: PriceFn;
  rules?: Partial<FleetRules>;
}

export interface VirtualRun {
  kpis: VirtualKpis;
  events: LoggedEvent[];
}

const HOUR_MS = 3_600_000;

export async function runVirtual(input: VirtualRunInput): Promise<VirtualRun> {
  const { spec, stations, seed } = input;
  const rules: FleetRules = { thresholdPct: 30, targetPct: DEFAULT_TARGET_PCT, carMaxKw: 150, afterCharge: spec.afterCharge, ...input.rules };
  const clock = new VirtualClock(spec.startMs);
  const bus = createRecordingBus();
  const fromMs = spec.startMs + spec.warmupHours * HOUR_MS;
  const stats = new FleetStats(input.price, fromMs);
  const chargeDone = new EventQueue<{ carId: string; bookingId: string }>();
  const cars = buildCars(spec, seed);
  const fleet = [...cars.values()];
  const decisions = new FleetDecisions(cars, stations, rules, stats, chargeDone, () => clock.now());
  const strategy = await input.strategy({ now: () => clock.now(), deliver: (carId, d) => decisions.apply(carId, d), bus, stations });
  await strategy.start();
  const endMs = fromMs + spec.hours * HOUR_MS;
  let atFrom = fleet.map((c) => ({ km: c.sim.odometerKm, battery: c.sim.battery }));
  const stepMs = spec.stepSec * 1000;
  let t = spec.startMs;
  let step = 0;
  let endedBy: 'all_charged' | 'time_limit' = 'time_limit';
  while (t < endMs) {
    const next = Math.min(endMs, t + stepMs);
    for (let due = chargeDone.popDue(next); due; due = chargeDone.popDue(next)) {
      clock.advanceTo(due.at);
      const car = cars.get(due.value.carId)!;
      if (car.phase !== 'charging' || car.bookingId !== due.value.bookingId) continue;
      car.sim.setBattery(rules.targetPct);
      await strategy.telemetry([telemetryOf(car, due.at)]);
    }
    clock.advanceTo(next);
    const batch = advanceFleet(fleet, spec, rules, stats, decisions, t, (next - t) / 1000, step++);
    await strategy.telemetry(batch);
    await strategy.tick();
    sample(fleet, stats, next);
    if (next === fromMs) atFrom = fleet.map((c) => ({ km: c.sim.odometerKm, battery: c.sim.battery }));
    t = next;
    if (spec.afterCharge === 'park' && fleet.every((c) => c.phase === 'done' || c.phase === 'stranded')) {
      endedBy = 'all_charged';
      break;
    }
  }
  stats.closeOpenWaits(t);
  await strategy.stop();
  const events = bus.events();
  const owed = energyOwed(fleet, atFrom, rules.thresholdPct);
  const kmDriven = fleet.reduce((n, c, i) => n + c.sim.odometerKm - atFrom[i].km, 0);
  return { kpis: computeKpis({ spec, seed, policy: strategy.policy, stations, stats, events, fromMs, toMs: t, endedBy, price: input.price, kmDriven, ...owed }), events };
}

/**
 * What the measured window leaves owing: the energy to bring every car back to the battery it had
 * when the window opened (a policy that parks cars to charge after the window owes it), and the cars
 * that end it below the request threshold.
 */
function energyOwed(fleet: VCar[], atFrom: { battery: number }[], thresholdPct: number): { energyOwedKwh: number; carsLowAtEnd: number } {
  let kwh = 0;
  let low = 0;
  fleet.forEach((c, i) => {
    kwh += (Math.max(0, atFrom[i].battery - c.sim.battery) / 100) * c.sim.pack.capacityKwh;
    if (c.sim.battery < thresholdPct) low++;
  });
  return { energyOwedKwh: kwh, carsLowAtEnd: low };
}

/** The scenario's cars: the same packs and batteries as the live simulator for a seed (createFleet). */
function buildCars(spec: ScenarioSpec, seed: number): Map<string, VCar> {
  const duty = mulberry32(seed ^ 0x0d07);
  const sims = createFleet({ cars: spec.cars, seed, initialBattery: spec.initialBattery });
  return new Map(sims.map((sim) => [sim.carId, { sim, duty: duty(), phase: 'roam', bookingId: '', kw: 0, chargeStartMs: 0, chargeStartPct: 0 }]));
}

/**
 * A car that is neither low nor booked, or is parked in a queue (src/sim/virtual/fleet.ts reports),
 * still reports every this many steps (5 min at 30 s steps), staggered across the fleet, as a live car
 * streams all the time: a coordinator may top it up in a cheap hour (src/domain/booking-policy.ts
 * wantsTopUp), refreshes a queued car's urgency, and keeps its booking alive. Cars at or above the
 * charge target stay quiet.
 */
const QUIET_REPORT_EVERY_STEPS = 10;

/** Moves every car by one step from `atMs`; returns the telemetry the strategy needs. */
function advanceFleet(fleet: VCar[], spec: ScenarioSpec, rules: FleetRules, stats: FleetStats, decisions: FleetDecisions, atMs: number, dtSec: number, step: number): TelemetryEvent[] {
  const nowMs = atMs + dtSec * 1000;
  const demand = spec.demand?.(((atMs / HOUR_MS) % 24 + 24) % 24);
  const out: TelemetryEvent[] = [];
  for (let i = 0; i < fleet.length; i++) {
    const car = fleet[i];
    if (car.phase === 'done' || car.phase === 'stranded') continue;
    if (car.phase === 'charging') {
      const gained = ((car.kw * (nowMs - car.chargeStartMs)) / HOUR_MS / car.sim.pack.capacityKwh) * 100;
      car.sim.setBattery(Math.min(rules.targetPct, car.chargeStartPct + gained));
    } else {
      if (demand !== undefined) shift(car, demand);
      car.sim.step(dtSec, atMs);
      if (car.phase === 'to_station' && car.sim.mode === 'arrived') decisions.parkInBay(car);
      if (car.sim.battery <= 0) {
        car.phase = 'stranded';
        stats.stranded.add(car.sim.carId);
        out.push(telemetryOf(car, nowMs)); // the last word: the car is towed away
        continue;
      }
    }
    if (reports(car, rules.thresholdPct) || ((step + i) % QUIET_REPORT_EVERY_STEPS === 0 && car.sim.battery < rules.targetPct)) out.push(telemetryOf(car, nowMs));
  }
  return out;
}

/** Day scenario: a free car works while the hour's demand exceeds its duty share, else it rests parked. */
function shift(car: VCar, demand: number): void {
  const onDuty = demand > car.duty;
  if (car.phase === 'roam' && !onDuty) {
    car.phase = 'idle';
    car.sim.park();
  } else if (car.phase === 'idle' && onDuty) {
    car.phase = 'roam';
    car.sim.resume();
  }
}

function sample(fleet: VCar[], stats: FleetStats, atMs: number): void {
  let kw = 0;
  let anyQueued = false;
  const busy = new Map<string, number>();
  for (const car of fleet) {
    if (car.phase === 'queued') anyQueued = true;
    else if (car.phase === 'charging') {
      kw += car.kw;
      busy.set(car.station!.id, (busy.get(car.station!.id) ?? 0) + 1);
    }
  }
  const hour = ((atMs / HOUR_MS) % 24 + 24) % 24;
  stats.sample(atMs, kw, busy, anyQueued, hour >= 17 && hour < 19);
}
