import type { FleetEvent } from '../../domain/events.js';
import type { PricePoint } from '../../ports/price-source.js';
import type { Station } from '../../ports/fleet-state.js';
import type { SessionRow } from '../../ports/store.js';
import type { BookingList, NearestFrom, NearestResult } from '../../services/queries/fleet-queries.js';
import type { LiveStationRow } from './station-rows.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface SourceStatus {
  state: ConnectionState;
  /** Why the last connection failed or was lost. */
  error?: string;
  /** Consecutive failed attempts since the last success. */
  attempt?: number;
  /** When reconnecting: the delay before the next attempt. */
  retryInMs?: number;
  /** Set with `stopped` when asking again cannot help (a wrong token, a refused principal). */
  fatal?: boolean;
}

export interface EventSourceHandlers {
  /**
   * A batch of parsed events, in arrival order. A returned promise applies backpressure: the
   * source fetches (Kafka) or reads (gRPC) no further until it settles.
   */
  onEvents(events: FleetEvent[]): void | Promise<void>;
  onStatus(status: SourceStatus): void;
  /** Records the source could not parse (counted, not shown). */
  onInvalid?(count: number): void;
  /** Consumer lag, where the source knows it (Kafka). */
  onLag?(lag: number | undefined): void;
}

/**
 * Where `greenlane tail` gets its events: Kafka, the server's WatchEvents RPC, or a synthetic
 * generator. A source owns its reconnect loop and reports connection state; it never throws
 * after start() resolves.
 */
export interface EventSource {
  readonly kind: 'kafka' | 'server' | 'synthetic';
  /** Short human description, e.g. "kafka 127.0.0.1:19092 fleet-events". */
  readonly label: string;
  start(handlers: EventSourceHandlers): Promise<void>;
  stop(): Promise<void>;
}

/** Grid prices for the price panel; failures are tolerated by the caller. */
export interface PriceFeed {
  current(): Promise<PricePoint>;
  forecast(hours: number): Promise<PricePoint[]>;
}

/**
 * The stations: their positions from a JSON file, and — where the server (ListStations,
 * NearestStations) or the engines (external mode) can answer — their live occupancy.
 */
export interface StationCatalog {
  list(): Promise<Station[]>;
  /** Where live answers come from ("server 127.0.0.1:50051", "redis"); absent: file and events only. */
  readonly liveLabel?: string;
  /** Every station with its holds, sessions, queue and price now. Rejects when unavailable; see StationsUnavailableError. */
  live?(): Promise<LiveStationRow[]>;
  /** The nearest stations by the server's search (distance, drive time, free ports, price). */
  nearest?(from: NearestFrom, limit: number): Promise<NearestResult>;
  close?(): Promise<void>;
}

/** The answer to an operator action, as the confirmation line shows it. */
export interface ActionResult {
  ok: boolean;
  text: string;
  /** The server's status name when it refused (PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND, …). */
  code?: string;
}

/** What the console reads for a drill-down and asks the server to do (RequestBooking, CancelBooking). */
export interface OperatorDesk {
  readonly label: string;
  listBookings(): Promise<BookingList>;
  listSessions(stationId: string): Promise<SessionRow[]>;
  cancelBooking(carId: string): Promise<ActionResult>;
  requestBooking(carId: string, stationId?: string): Promise<ActionResult>;
  /** Takes a station offline (the server re-plans its bookings) or back online. */
  setStationOnline(stationId: string, online: boolean): Promise<ActionResult>;
  close?(): Promise<void>;
}

/** Everything the TUI reads from the outside world, behind one interface. */
export interface TailSources {
  /** Drill-down queries and operator actions; absent where no server answers (Kafka without --server, synthetic). */
  desk?: OperatorDesk;
  events: EventSource;
  prices?: PriceFeed;
  stations?: StationCatalog;
}
