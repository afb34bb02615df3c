import { randomBytes } from 'node:crypto';
import { auditEvents } from '../domain/audit.js';
import type { PriceFn } from '../domain/charging.js';
import { createFleetClient, type FleetClient } from '../grpc/client.js';
import type { TlsFiles } from '../grpc/tls.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';
import { attachPacer, type Pacer } from './pacer.js';
import { openEventLog, releaseBookings, type EventLog } from './herd-event-log.js';
import { herdReport, type HerdReport } from './herd-report.js';
import { attachSimDriver, type DriverCounts, type SimDriver } from './driver.js';
import { createSimulator, type Simulator, type SimSummary } from './simulator.js';

/**
 * `greenlane sim --scenario herd`: every car starts low at once against the stations of a running
 * server (`greenlane up`, or ingestion instances on real engines). The cars obey the decisions
 * (drive, charge, wait), the run ends when each car has charged (or stranded) or at a limit in
 * simulated time, and the report is computed from the event log alone: the server's WatchEvents
 * stream (fleet-events, relayed verbatim from Kafka in external mode), subscribed before the
 * first car moves. The coordinator's counters are never read.
 *
 * The server's coordinator runs on event time, which only moves forward: give each run a server
 * whose clock has not been pushed ahead by an earlier sped-up run (restart `greenlane up`, or use
 * a fresh GREENLANE_NAMESPACE on real engines). Cars get ids unique to the run (HERD-<run>-0001…).
 */
export interface HerdOptions {
  server: string;
  token: string;
  /** TLS towards the server. */
  tls?: TlsFiles;
  cars: number;
  seed: number;
  /** Simulated seconds per wall second. */
  speed: number;
  hz: number;
  initialBattery: [number, number];
  /** Stop after this many simulated hours even if some cars never charged. */
  limitHours: number;
  /** The server's stations (the cars drive to them; the audit counts their ports). */
  stations: Station[];
  logger: Logger;
  /** The grid curve for the report's time-average price (built over the run's window once it is known). */
  priceOver?: (fromMs: number, toMs: number) => Promise<PriceFn>;
  batch?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: HerdProgress) => void;
  progressEveryMs?: number;
  /**
   * Most simulated lag tolerated between this run's clock and the server's decisions, seconds
   * (default 60): beyond it the run slows simulated time instead of letting holds lapse. 0 keeps the speed fixed.
   */
  maxLagSec?: number;
}

export interface HerdProgress {
  simulatedHours: number;
  charged: number;
  stranded: number;
  cars: number;
  events: number;
  driver: DriverCounts;
  /** Simulated seconds per wall second right now (below the speed asked for while the server catches up). */
  speed: number;
  slowdowns: number;
}

export type HerdEnd = 'all_charged' | 'time_limit' | 'interrupted';

export interface HerdResult extends HerdReport {
  scenario: 'herd';
  endedBy: HerdEnd;
  /** Cars of this run that completed a session, by the event log. */
  charged: number;
  simulatedHours: number;
  wallSec: number;
  /** Booking events of other clients' cars seen during the run (they count in the audit only). */
  otherCarsEvents: number;
  /** This run's bookings still active when the cars stopped, cancelled then (not part of the counts above). */
  releasedAtEnd: number;
  carPrefix: string;
  /** The speed asked for, and the average achieved (simulated ÷ wall seconds) once the run slowed for the server. */
  targetSpeed: number;
  effectiveSpeed: number;
  /** Times the run lowered its speed because the server fell behind, and the lowest speed it ran at. */
  slowdowns: number;
  minSpeed: number;
  sim: SimSummary;
}

export class HerdClockError extends Error {}

const TRAILING_EVENTS_MS = 2_000;
/** Decisions stamped further ahead of the simulated clock than this mean the server's clock was pushed ahead earlier. */
const CLOCK_AHEAD_MS = 10 * 60_000;
/** Holds get the drive time plus a 5 min grace: a minute of lag leaves most of it. */
const DEFAULT_MAX_LAG_SEC = 60;

export async function runHerdScenario(opts: HerdOptions): Promise<HerdResult> {
  const carPrefix = `HERD-${randomBytes(2).toString('hex')}-`;
  const ownCar = (carId: string) => carId.startsWith(carPrefix);
  const client = createFleetClient(opts.server, opts.token, { separateConnection: true, tls: opts.tls });
  const log = await openEventLog(client, ownCar);
  const startTime = Date.now();
  const run = startHerdFleet(opts, carPrefix, startTime, client);
  const wallStart = Date.now();
  try {
    await run.sim.start(opts.signal);
  } catch (err) {
    run.pacer?.stop();
    log.close();
    client.close();
    throw err;
  }
  const endedBy = await waitForHerdEnd(run, log, opts);
  const summary = await run.sim.stop();
  run.driver.detach();
  run.pacer?.stop();
  await log.settle(TRAILING_EVENTS_MS, 30_000);
  log.close();
  // The fleet is gone: give back whatever it still holds (cars cut off at a time limit), at once
  // rather than when the coordinator notices the cars stopped streaming.
  const releasedAtEnd = await releaseBookings(client, ownCar, opts.logger);
  client.close();
  if (run.clock.error) throw new HerdClockError(run.clock.error);
  const report = await reportFromLog(log, run, opts, startTime, startTime + summary.simulatedSec * 1000);
  return {
    scenario: 'herd',
    ...report,
    cars: opts.cars,
    endedBy,
    charged: log.charged.size,
    simulatedHours: round(summary.simulatedSec / 3600, 2),
    wallSec: round((Date.now() - wallStart) / 1000, 1),
    otherCarsEvents: log.others.length,
    releasedAtEnd,
    carPrefix,
    ...pacing(run, opts.speed, summary),
    sim: summary,
  };
}

function pacing(run: HerdRun, targetSpeed: number, summary: SimSummary): Pick<HerdResult, 'targetSpeed' | 'effectiveSpeed' | 'slowdowns' | 'minSpeed'> {
  const state = run.pacer?.state();
  const effectiveSpeed = summary.durationSec > 0 ? round(summary.simulatedSec / summary.durationSec, 1) : targetSpeed;
  return { targetSpeed, effectiveSpeed, slowdowns: state?.slowdowns ?? 0, minSpeed: round(state?.minSpeedSeen ?? targetSpeed, 1) };
}

/** A herd in motion: the simulated fleet, the cars obeying decisions, and the server-clock check. */
export interface HerdRun {
  sim: Simulator;
  driver: SimDriver;
  clock: { error?: string };
  pacer?: Pacer;
}

/** Builds the low fleet, its driver and its pacer; nothing moves until sim.start(). */
export function startHerdFleet(opts: HerdOptions, carPrefix: string, startTime: number, client?: FleetClient): HerdRun {
  const sim = createSimulator({
    cars: opts.cars,
    seed: opts.seed,
    hz: opts.hz,
    speed: opts.speed,
    server: opts.server,
    token: opts.token,
    tls: opts.tls,
    logger: opts.logger,
    initialBattery: opts.initialBattery,
    carPrefix,
    batch: opts.batch,
    startTime,
  });
  // A charged car is done with the herd: it parks off duty instead of draining back below the threshold.
  const driver = attachSimDriver(sim, { stations: opts.stations, logger: opts.logger, afterCharge: 'park' });
  const clock: HerdRun['clock'] = {};
  sim.onResponse((_car, res) => {
    clock.error ??= clockAheadError(res.timestamp, startTime + sim.summary().simulatedSec * 1000);
  });
  const maxLagSec = opts.maxLagSec ?? DEFAULT_MAX_LAG_SEC;
  const pacer = maxLagSec > 0 ? attachPacer(sim, { targetSpeed: opts.speed, hz: opts.hz, maxLagMs: maxLagSec * 1000, probe: client && (() => client.stats(5_000)) }) : undefined;
  return { sim, driver, clock, pacer };
}

/** Why a decision stamped at `decidedAt` shows the server's clock was pushed ahead by an earlier run, if it does. */
export function clockAheadError(decidedAt: number | undefined, simNow: number): string | undefined {
  if (!decidedAt || decidedAt - simNow <= CLOCK_AHEAD_MS) return undefined;
  return `the server's coordination clock is ${Math.round((decidedAt - simNow) / 60_000)} min ahead of this run's simulated time`;
}

/** Reports progress and resolves when every car charged or stranded, at the time limit, or on interruption. */
export function waitForHerdEnd(run: HerdRun, log: Pick<EventLog, 'charged' | 'own'>, opts: HerdOptions): Promise<HerdEnd> {
  const { sim, driver } = run;
  return new Promise((resolve) => {
    let lastProgress = 0;
    const timer = setInterval(() => {
      const simulatedHours = sim.summary().simulatedSec / 3600;
      if (Date.now() - lastProgress >= (opts.progressEveryMs ?? 5_000)) {
        lastProgress = Date.now();
        const { speed, slowdowns } = run.pacer?.state() ?? { speed: sim.speed(), slowdowns: 0 };
        opts.onProgress?.({ simulatedHours, charged: log.charged.size, stranded: driver.stranded.size, cars: opts.cars, events: log.own.length, driver: driver.counts(), speed: round(speed, 1), slowdowns });
      }
      const done = new Set([...log.charged, ...driver.stranded]).size;
      const interrupted = opts.signal?.aborted || run.clock.error || sim.summary().fatal;
      const end: HerdEnd | null = interrupted ? 'interrupted' : done >= opts.cars ? 'all_charged' : simulatedHours >= opts.limitHours ? 'time_limit' : null;
      if (end) {
        clearInterval(timer);
        resolve(end);
      }
    }, 250);
  });
}

/** The run's KPIs from the event log alone; occupancy is audited over every car the server booked, not only this run's. */
async function reportFromLog(log: EventLog, run: HerdRun, opts: HerdOptions, fromMs: number, toMs: number): Promise<HerdReport> {
  const report = herdReport({
    events: log.own,
    stations: opts.stations,
    strandedCars: run.driver.stranded,
    price: opts.priceOver ? await opts.priceOver(fromMs, toMs) : undefined,
    fromMs,
    toMs,
  });
  report.doubleBookings = auditEvents([...log.own, ...log.others], opts.stations).doubleBookings;
  return report;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
