/** A telemetry row; idempotent on eventId. */
export interface TelemetryRow {
  eventId: string;
  carId: string;
  time: number; // Unix ms
  lat: number;
  lon: number;
  battery: number;
  velocity: number;
  priceRate: number | null;
}

/** A charging session: the original columns plus what a real session needs. Idempotent on sessionId. */
export interface SessionRow {
  sessionId: string;
  stationId: string;
  carId: string;
  time: number; // session start, Unix ms (the original `time` column)
  endTime: number | null;
  startBattery: number | null;
  endBattery: number | null;
  kwhUsage: number;
  priceRate: number; // average $/kWh over the session
  cost: number | null;
}

export interface BookingRow {
  eventId: string;
  bookingId: string;
  carId: string;
  stationId: string | null;
  status: string;
  time: number;
  expiresAt: number | null;
  reason: string | null;
}

export interface StoreInfo {
  kind: 'postgres' | 'pglite';
  serverVersion: string;
  timescale: boolean;
  schema: string;
  migrations: string[];
}

export interface SessionQuery {
  carId?: string;
  stationId?: string;
  sinceMs?: number;
  limit?: number;
}

export interface Store {
  readonly kind: 'postgres' | 'pglite';
  /** Applies pending versioned migrations; idempotent. Returns the versions applied now. */
  migrate(): Promise<string[]>;
  info(): Promise<StoreInfo>;
  /** Batch insert, ignoring rows whose eventId exists. Returns rows newly inserted. */
  insertTelemetry(rows: TelemetryRow[]): Promise<number>;
  insertSessions(rows: SessionRow[]): Promise<number>;
  insertBookings(rows: BookingRow[]): Promise<number>;
  countTelemetry(carIds?: string[]): Promise<number>;
  listSessions(q: SessionQuery): Promise<SessionRow[]>;
  /**
   * The latest booking row of each car since `sinceMs` whose booking is still active by the log:
   * status confirmed or queued, and no completed charging session for it. What the coordinator
   * rebuilds its reservations from when they are lost.
   */
  activeBookings?(sinceMs: number): Promise<BookingRow[]>;
  close(): Promise<void>;
}
