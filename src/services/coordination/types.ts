import type { Registry } from 'prom-client';
import type { PackLike, resolvePolicy } from '../../domain/booking-policy.js';
import type { BookingRequest, Decision } from '../../domain/booking-request.js';
import type { Station } from '../../domain/charging.js';
import type { TelemetryEvent } from '../../domain/events.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { FleetState } from '../../ports/fleet-state.js';
import type { PriceSource } from '../../ports/price-source.js';
import type { Reservations } from '../../ports/reservations.js';
import type { BookingRow } from '../../ports/store.js';
import type { ClockOption } from './clock.js';
import type { NearestOptions, NearestRow } from './nearest.js';
import type { AvailabilityResult } from './station-availability.js';

export interface CoordinatorDeps {
  reservations: Reservations;
  /** For nearest() by GEOSEARCH and the position of cars asking through RequestBooking. */
  fleet?: FleetState;
  bus: EventBus;
  prices?: PriceSource;
  stations: Station[];
  namespace?: string;
  logger?: Logger;
  registry?: Registry;
  pack?: PackLike;
  policy?: Parameters<typeof resolvePolicy>[0];
  /**
   * Reservation clock; defaults to Date.now. 'event-time' follows the telemetry's own timestamps
   * (a watermark that also advances with the wall clock), so a simulator running --speed 60 gets
   * holds, expiry and session times in simulated time without telling the coordinator its speed.
   */
  clock?: ClockOption;
  /** Pushes a decision to the car's stream here; returns false when the car is not connected here. */
  deliver?: (carId: string, decision: Decision) => boolean | void;
  /**
   * Identifies this instance in events (origin_instance: the instance that decided) so it skips its own
   * when routing. Give the reservations adapter the same id as its `origin`: outbox entries then carry
   * it, and an event another instance's relay publishes still names this one. Default: a fresh id.
   */
  instanceId?: string;
  /** Deliver decisions taken by other instances to cars connected here, via the bus (default: when deliver is set). */
  routeViaBus?: boolean;
  sweepIntervalMs?: number;
  /**
   * The booking log's still-active bookings (Store.activeBookings): what lost reservations are
   * rebuilt from. Absent: stations are reloaded and nothing is restored.
   */
  history?: (sinceMs: number) => Promise<BookingRow[]>;
  /** How often the reservations are checked for lost state (default 1 s). */
  recoveryCheckMs?: number;
  /** Most booking events waiting in the outbox before new bookings are refused with reason outbox_full (default 100,000; 0: no bound). */
  outboxMax?: number;
  arrivalRadiusM?: number;
  /** A charging car farther than this from its station drove away: its session ends. */
  departRadiusM?: number;
  /** Load `stations` into the reservations at start (default true). */
  loadStations?: boolean;
  /**
   * A car that stopped streaming loses its booking (hold or queue entry cancelled, session completed,
   * reason lost_contact) once unseen for this long in the coordinator's clock (default 10 min)…
   */
  staleAfterMs?: number;
  /** …and for this long in wall time (default 60 s), so a sped-up simulation's fast clock never drops a live car. */
  staleAfterWallMs?: number;
  /**
   * The wall clock the stale-car window is measured in (default Date.now). A virtual-time simulation
   * (src/sim/virtual/) passes its own clock, with sweepIntervalMs 0 and sweep() called at its own ticks,
   * so no decision depends on the machine's time.
   */
  wallNow?: () => number;
}

export interface Coordinator {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  onTelemetry(events: TelemetryEvent[]): Promise<void>;
  requestBooking(req: BookingRequest & { carId: string }): Promise<Decision>;
  cancelBooking(req: { carId?: string; bookingId?: string; reason?: string }): Promise<Decision>;
  nearest(lat: number, lon: number, opts?: NearestOptions): Promise<NearestRow[]>;
  /** Operator action: takes a station offline (its bookings re-planned elsewhere) or back online. */
  setStationOnline(stationId: string, online: boolean): Promise<AvailabilityResult>;
  /** Runs one expiry sweep now; returns how many holds expired. */
  sweep(): Promise<number>;
  /** Routes booking events taken elsewhere to cars connected here (wired to the bus by start()). */
  onBusRecords(records: { value: string }[]): void;
  readonly decisions$: { subscribe(fn: (d: Decision) => void): () => void };
  readonly instanceId: string;
  /** The reservation clock (event time when so configured): what expiry countdowns are measured against. */
  now?(): number;
}
