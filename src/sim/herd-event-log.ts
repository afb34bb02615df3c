import type * as grpc from '@grpc/grpc-js';
import type { FleetClient } from '../grpc/client.js';
import type { FleetEventMsg } from '../grpc/proto.js';
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
  close(): void;
}

/** Subscribes to WatchEvents and resolves once the server says the subscription is live. */
export function openEventLog(client: FleetClient, ownCar: (carId: string) => boolean): Promise<EventLog> {
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
