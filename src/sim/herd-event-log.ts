import type * as grpc from '@grpc/grpc-js';
import type { FleetClient } from '../grpc/client.js';
import type { FleetEventMsg } from '../grpc/proto.js';
import { eventTypes } from '../domain/events.js';
import type { Logger } from '../observability/logger.js';
import type { LoggedEvent } from './herd-report.js';

const WATCH_READY_MS = 10_000;

/** Cancels every active booking of this run's cars (reason: the simulation stopped); returns how many. */
export async function releaseBookings(client: FleetClient, ownCar: (carId: string) => boolean, logger: Logger): Promise<number> {
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

export interface EventLog {
  /** This run's cars: booking events and telemetry at 0 %. */
  own: LoggedEvent[];
  /** Other cars' booking events (for the occupancy audit). */
  others: LoggedEvent[];
  charged: Set<string>;
  /** Messages the watch delivered (every car's booking events). */
  received: number;
  /** Resolves once no event has arrived for `quietMs` (at most `maxMs`): the log has caught up. */
  settle(quietMs: number, maxMs: number): Promise<void>;
  close(): void;
}

/**
 * Booking events only. Telemetry is most of the topic (every car, 4–8 times a simulated minute at
 * 240×); with it the watch fell minutes behind on a loaded machine, and the report was read from
 * a log that lagged the server (148 of 1,000 charged, 277 "double bookings", while the server had
 * completed 1,000 sessions). Stranded cars come from the simulator's own cars (driver.stranded).
 */
const WATCHED = eventTypes.filter((t) => t !== 'telemetry');

/** Subscribes to WatchEvents and resolves once the server says the subscription is live. */
export function openEventLog(client: FleetClient, ownCar: (carId: string) => boolean): Promise<EventLog> {
  let lastAt = Date.now();
  const settle = async (quietMs: number, maxMs: number) => {
    const end = Date.now() + maxMs;
    while (Date.now() < end && Date.now() - lastAt < quietMs) await new Promise((r) => setTimeout(r, Math.min(quietMs, 100)));
  };
  const log: EventLog = { own: [], others: [], charged: new Set(), received: 0, settle, close: () => stream.cancel() };
  const stream: grpc.ClientReadableStream<FleetEventMsg> = client.watchEvents({ event_types: WATCHED, car_ids: [] });
  stream.on('data', (msg: FleetEventMsg) => {
    lastAt = Date.now();
    log.received++;
    keep(log, msg, ownCar);
  });
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
