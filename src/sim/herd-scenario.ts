import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { auditEvents } from '../domain/audit.js';
import type { PriceFn } from '../domain/charging.js';
import { createFleetClient, type FleetClient } from '../grpc/client.js';
import type { TlsFiles } from '../grpc/tls.js';
import type { FleetEventMsg } from '../grpc/proto.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';
import { herdReport, type HerdReport, type LoggedEvent } from './herd-report.js';
import { attachSimDriver, type DriverCounts } from './driver.js';
import { createSimulator, type SimSummary } from './simulator.js';

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
}

export interface HerdProgress {
  simulatedHours: number;
  charged: number;
  stranded: number;
  cars: number;
  events: number;
  driver: DriverCounts;
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
  sim: SimSummary;
}

export class HerdClockError extends Error {}

const WATCH_READY_MS = 10_000;
const TRAILING_EVENTS_MS = 2_000;
/** Decisions stamped further ahead of the simulated clock than this mean the server's clock was pushed ahead earlier. */
const CLOCK_AHEAD_MS = 10 * 60_000;

export async function runHerdScenario(opts: HerdOptions): Promise<HerdResult> {
  const carPrefix = `HERD-${randomBytes(2).toString('hex')}-`;
  const ownCar = (carId: string) => carId.startsWith(carPrefix);
  const client = createFleetClient(opts.server, opts.token, { separateConnection: true, tls: opts.tls });
  const log = await openEventLog(client, ownCar);
  const startTime = Date.now();
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
  let clockError: string | undefined;
  sim.onResponse((_car, res) => {
    const simNow = startTime + sim.summary().simulatedSec * 1000;
    if (!clockError && res.timestamp && res.timestamp - simNow > CLOCK_AHEAD_MS) {
      clockError = `the server's coordination clock is ${Math.round((res.timestamp - simNow) / 60_000)} min ahead of this run's simulated time`;
    }
  });

  const wallStart = Date.now();
  try {
    await sim.start(opts.signal);
  } catch (err) {
    log.close();
    client.close();
    throw err;
  }
  const endedBy = await waitForEnd();
  const summary = await sim.stop();
  driver.detach();
  await sleep(TRAILING_EVENTS_MS);
  log.close();
  // The fleet is gone: give back whatever it still holds (cars cut off at a time limit), at once
  // rather than when the coordinator notices the cars stopped streaming.
  const releasedAtEnd = await releaseBookings(client, ownCar, opts.logger);
  client.close();
  if (clockError) throw new HerdClockError(clockError);

  const toMs = startTime + summary.simulatedSec * 1000;
  const report = herdReport({
    events: log.own,
    stations: opts.stations,
    strandedCars: driver.stranded,
    price: opts.priceOver ? await opts.priceOver(startTime, toMs) : undefined,
    fromMs: startTime,
    toMs,
  });
  // Occupancy is judged over every car the server booked during the run, not only this run's.
  report.doubleBookings = auditEvents([...log.own, ...log.others], opts.stations).doubleBookings;
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
    sim: summary,
  };

  function waitForEnd(): Promise<HerdEnd> {
    return new Promise((resolve) => {
      let lastProgress = 0;
      const timer = setInterval(() => {
        const simulatedHours = sim.summary().simulatedSec / 3600;
        const done = new Set([...log.charged, ...driver.stranded]).size;
        if (Date.now() - lastProgress >= (opts.progressEveryMs ?? 5_000)) {
          lastProgress = Date.now();
          opts.onProgress?.({ simulatedHours, charged: log.charged.size, stranded: driver.stranded.size, cars: opts.cars, events: log.own.length, driver: driver.counts() });
        }
        const end: HerdEnd | null = opts.signal?.aborted || clockError || sim.summary().fatal ? 'interrupted' : done >= opts.cars ? 'all_charged' : simulatedHours >= opts.limitHours ? 'time_limit' : null;
        if (end) {
          clearInterval(timer);
          resolve(end);
        }
      }, 250);
    });
  }
}

/** Cancels every active booking of this run's cars (reason: the simulation stopped); returns how many. */
async function releaseBookings(client: FleetClient, ownCar: (carId: string) => boolean, logger: Logger): Promise<number> {
  try {
    const { bookings } = await client.listBookings('all');
    const own = bookings.filter((b) => ownCar(b.carId));
    await Promise.all(own.map((b) => client.cancelBooking({ car_id: b.carId, booking_id: b.bookingId })));
    return own.length;
  } catch (err) {
    logger.warn({ err }, 'could not release the run’s remaining bookings; the coordinator ends them when the cars are seen no more');
    return 0;
  }
}

interface EventLog {
  /** This run's cars: booking events and telemetry at 0 %. */
  own: LoggedEvent[];
  /** Other cars' booking events (for the occupancy audit). */
  others: LoggedEvent[];
  charged: Set<string>;
  close(): void;
}

/** Subscribes to WatchEvents and resolves once the server says the subscription is live. */
function openEventLog(client: FleetClient, ownCar: (carId: string) => boolean): Promise<EventLog> {
  const log: EventLog = { own: [], others: [], charged: new Set(), close: () => stream.cancel() };
  const stream: grpc.ClientReadableStream<FleetEventMsg> = client.watchEvents({});
  stream.on('data', (msg: FleetEventMsg) => keep(log, msg, ownCar));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`WatchEvents did not start within ${WATCH_READY_MS / 1000} s`)), WATCH_READY_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      stream.cancel();
      reject(err);
    };
    stream.once('metadata', () => {
      clearTimeout(timer);
      stream.on('error', () => undefined); // cancel() at the end surfaces as CANCELLED
      resolve(log);
    });
    stream.once('error', (err) => fail(err));
  });
}

function keep(log: EventLog, msg: FleetEventMsg, ownCar: (carId: string) => boolean): void {
  const isTelemetry = msg.event_type === 'telemetry';
  if (isTelemetry && !ownCar(msg.car_id)) return;
  let e: LoggedEvent;
  try {
    e = JSON.parse(msg.json) as LoggedEvent;
  } catch {
    return;
  }
  if (isTelemetry && (e.battery ?? 1) > 0) return; // only an empty battery matters to the report
  if (!ownCar(e.car_id)) {
    log.others.push(e);
    return;
  }
  log.own.push(e);
  if (e.event_type === 'charging_completed') log.charged.add(e.car_id);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
