import type { BookingRow, SessionQuery, SessionRow, Store, StoreInfo, TelemetryRow } from '../../ports/store.js';
import { quoteIdent } from './ident.js';
import { runMigrations, type MigrationTarget } from './migrate.js';

export { quoteIdent };

/**
 * SQL shared by the PostgreSQL and PGlite adapters: both speak the same dialect, so the
 * statements, the row mapping and the Store logic live here once; adapters only connect.
 */

export interface SqlResult<R = Record<string, unknown>> {
  rows: R[];
  rowCount?: number | null;
  affectedRows?: number;
}

/** The least a driver must offer: pg's Client/Pool and PGlite both fit (PGlite via a thin wrapper). */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
}

/** Rows per INSERT: big enough to amortise round trips, small enough to keep parameters cheap. */
export const BATCH_ROWS = 1000;


/** The schema a namespace maps to: the namespace itself, or `public` when none. */
export function schemaFor(namespace?: string): string {
  return namespace ? namespace : 'public';
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null || ms === undefined ? null : iso(ms));
/** Unix ms out of a timestamptz, as a JS number in both drivers. */
const epochMs = (col: string) => `round(extract(epoch from ${col}) * 1000)::float8`;

export function chunks<T>(rows: T[], size = BATCH_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function telemetryInsert(schema: string, rows: TelemetryRow[]): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO ${quoteIdent(schema)}.telemetry (time, event_id, car_id, lat, lon, battery, velocity, price_rate)
      SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
      ON CONFLICT (event_id, time) DO NOTHING`,
    values: [
      rows.map((r) => iso(r.time)),
      rows.map((r) => r.eventId),
      rows.map((r) => r.carId),
      rows.map((r) => r.lat),
      rows.map((r) => r.lon),
      rows.map((r) => r.battery),
      rows.map((r) => r.velocity),
      rows.map((r) => r.priceRate ?? null),
    ],
  };
}

export function bookingsInsert(schema: string, rows: BookingRow[]): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO ${quoteIdent(schema)}.bookings (time, event_id, booking_id, car_id, station_id, status, expires_at, reason)
      SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
      ON CONFLICT (event_id, time) DO NOTHING`,
    values: [
      rows.map((r) => iso(r.time)),
      rows.map((r) => r.eventId),
      rows.map((r) => r.bookingId),
      rows.map((r) => r.carId),
      rows.map((r) => r.stationId ?? null),
      rows.map((r) => r.status),
      rows.map((r) => isoOrNull(r.expiresAt)),
      rows.map((r) => r.reason ?? null),
    ],
  };
}

/**
 * Sessions are written at start and again at completion: a re-delivery updates the completion
 * fields, but a late start never overwrites a completed session, and an identical re-delivery
 * is a no-op. RETURNING (xmax = 0) tells fresh inserts from updates.
 */
export function sessionsUpsert(schema: string, rows: SessionRow[]): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO ${quoteIdent(schema)}.charging_sessions AS s
        (time, session_id, station_id, car_id, kwh_usage, price_rate, end_time, start_battery, end_battery, cost)
      SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
                           $7::timestamptz[], $8::float8[], $9::float8[], $10::float8[])
      ON CONFLICT (session_id, time) DO UPDATE SET
        end_time = EXCLUDED.end_time, end_battery = EXCLUDED.end_battery, kwh_usage = EXCLUDED.kwh_usage,
        cost = EXCLUDED.cost, price_rate = EXCLUDED.price_rate,
        start_battery = COALESCE(s.start_battery, EXCLUDED.start_battery)
      WHERE (s.end_time IS NULL OR EXCLUDED.end_time IS NOT NULL)
        AND (s.end_time, s.end_battery, s.kwh_usage, s.cost, s.price_rate, s.start_battery)
            IS DISTINCT FROM (EXCLUDED.end_time, EXCLUDED.end_battery, EXCLUDED.kwh_usage, EXCLUDED.cost, EXCLUDED.price_rate,
                              COALESCE(s.start_battery, EXCLUDED.start_battery))
      RETURNING (xmax = 0) AS inserted`,
    values: [
      rows.map((r) => iso(r.time)),
      rows.map((r) => r.sessionId),
      rows.map((r) => r.stationId),
      rows.map((r) => r.carId),
      rows.map((r) => r.kwhUsage),
      rows.map((r) => r.priceRate),
      rows.map((r) => isoOrNull(r.endTime)),
      rows.map((r) => r.startBattery ?? null),
      rows.map((r) => r.endBattery ?? null),
      rows.map((r) => r.cost ?? null),
    ],
  };
}

/**
 * ON CONFLICT DO UPDATE refuses to touch a row twice in one statement, so a batch keeps one
 * row per session: the completed one if any, else the last seen.
 */
export function dedupeSessions(rows: SessionRow[]): SessionRow[] {
  const byKey = new Map<string, SessionRow>();
  for (const r of rows) {
    const key = `${r.sessionId}\u0000${r.time}`;
    const prev = byKey.get(key);
    if (!prev || r.endTime !== null || prev.endTime === null) byKey.set(key, r);
  }
  return [...byKey.values()];
}

export const DEFAULT_SESSION_LIMIT = 100;
export const MAX_SESSION_LIMIT = 10_000;

export function sessionsSelect(schema: string, q: SessionQuery): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (cond: (p: string) => string, v: unknown) => {
    values.push(v);
    where.push(cond(`$${values.length}`));
  };
  if (q.carId) add((p) => `car_id = ${p}`, q.carId);
  if (q.stationId) add((p) => `station_id = ${p}`, q.stationId);
  if (q.sinceMs !== undefined) add((p) => `time >= ${p}::timestamptz`, iso(q.sinceMs));
  values.push(Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_SESSION_LIMIT)), MAX_SESSION_LIMIT));
  return {
    text: `SELECT session_id, station_id, car_id, ${epochMs('time')} AS time, ${epochMs('end_time')} AS end_time,
        start_battery, end_battery, kwh_usage, price_rate, cost
      FROM ${quoteIdent(schema)}.charging_sessions
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY time DESC, session_id
      LIMIT $${values.length}`,
    values,
  };
}

interface SessionRecord {
  session_id: string;
  station_id: string;
  car_id: string;
  time: number;
  end_time: number | null;
  start_battery: number | null;
  end_battery: number | null;
  kwh_usage: number;
  price_rate: number;
  cost: number | null;
}

export function toSessionRow(r: SessionRecord): SessionRow {
  return {
    sessionId: r.session_id,
    stationId: r.station_id,
    carId: r.car_id,
    time: Number(r.time),
    endTime: r.end_time === null ? null : Number(r.end_time),
    startBattery: r.start_battery,
    endBattery: r.end_battery,
    kwhUsage: r.kwh_usage,
    priceRate: r.price_rate,
    cost: r.cost,
  };
}

export function telemetryCount(schema: string, carIds?: string[]): { text: string; values: unknown[] } {
  const table = `${quoteIdent(schema)}.telemetry`;
  return carIds
    ? { text: `SELECT count(*)::bigint AS n FROM ${table} WHERE car_id = ANY($1::text[])`, values: [carIds] }
    : { text: `SELECT count(*)::bigint AS n FROM ${table}`, values: [] };
}

/** The latest booking row per car since a time, when it is still active by the log (Store.activeBookings). */
export function activeBookingsSelect(schema: string, sinceMs: number): { text: string; values: unknown[] } {
  const s = quoteIdent(schema);
  return {
    text: `SELECT event_id, booking_id, car_id, station_id, status, at AS time, expires_at, reason FROM (
        SELECT DISTINCT ON (car_id) event_id, booking_id, car_id, station_id, status, reason,
          ${epochMs('time')} AS at, ${epochMs('expires_at')} AS expires_at
        FROM ${s}.bookings WHERE time >= $1::timestamptz
        ORDER BY car_id, time DESC, CASE status WHEN 'confirmed' THEN 1 WHEN 'queued' THEN 2 ELSE 0 END
      ) latest
      WHERE status IN ('confirmed', 'queued')
        AND NOT EXISTS (SELECT 1 FROM ${s}.charging_sessions cs WHERE cs.session_id = latest.booking_id AND cs.end_time IS NOT NULL)`,
    values: [iso(sinceMs)],
  };
}

interface ActiveBookingRecord {
  event_id: string;
  booking_id: string;
  car_id: string;
  station_id: string | null;
  status: string;
  time: number;
  expires_at: number | null;
  reason: string | null;
}

/** Versions applied in a schema; empty when the schema was never migrated. */
export async function appliedMigrations(exec: SqlExecutor, schema: string): Promise<string[]> {
  const table = `${quoteIdent(schema)}.schema_migrations`;
  const { rows } = await exec.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [table]);
  if (!rows[0]?.exists) return [];
  const res = await exec.query<{ version: string }>(`SELECT version FROM ${table} ORDER BY version`);
  return res.rows.map((r) => r.version);
}

export async function serverFacts(exec: SqlExecutor): Promise<{ serverVersion: string; timescale: boolean; timescaleAvailable: boolean }> {
  const { rows } = await exec.query<{ v: string; installed: boolean; available: boolean }>(
    `SELECT current_setting('server_version') AS v,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
  );
  return { serverVersion: rows[0]!.v, timescale: rows[0]!.installed, timescaleAvailable: rows[0]!.available };
}

const affected = (r: SqlResult) => r.rowCount ?? r.affectedRows ?? 0;

export interface SqlStoreDeps {
  kind: Store['kind'];
  schema: string;
  /** Runs statements on any connection (pool or the single PGlite instance). */
  exec: SqlExecutor;
  /** Lends one connection for the migration transactions. */
  withMigrationTarget<T>(fn: (target: MigrationTarget) => Promise<T>): Promise<T>;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  close(): Promise<void>;
}

/** The Store port over any executor; the adapters differ only in how they connect. */
export function createSqlStore(deps: SqlStoreDeps): Store {
  const { schema, exec } = deps;
  const insertChunked = async <T>(rows: T[], build: (schema: string, rows: T[]) => { text: string; values: unknown[] }) => {
    let inserted = 0;
    for (const part of chunks(rows)) {
      const { text, values } = build(schema, part);
      inserted += affected(await exec.query(text, values));
    }
    return inserted;
  };

  return {
    kind: deps.kind,
    migrate: () => deps.withMigrationTarget((target) => runMigrations(target, { schema, logger: deps.logger })),
    async info(): Promise<StoreInfo> {
      const facts = await serverFacts(exec);
      return { kind: deps.kind, serverVersion: facts.serverVersion, timescale: facts.timescale, schema, migrations: await appliedMigrations(exec, schema) };
    },
    insertTelemetry: (rows) => insertChunked(rows, telemetryInsert),
    insertBookings: (rows) => insertChunked(rows, bookingsInsert),
    async insertSessions(rows) {
      let inserted = 0;
      for (const part of chunks(dedupeSessions(rows))) {
        const { text, values } = sessionsUpsert(schema, part);
        const res = await exec.query<{ inserted: boolean }>(text, values);
        inserted += res.rows.filter((r) => r.inserted).length;
      }
      return inserted;
    },
    async countTelemetry(carIds) {
      if (carIds && carIds.length === 0) return 0;
      const { text, values } = telemetryCount(schema, carIds);
      const { rows } = await exec.query<{ n: string | number | bigint }>(text, values);
      return Number(rows[0]?.n ?? 0);
    },
    async listSessions(q) {
      const { text, values } = sessionsSelect(schema, q);
      const { rows } = await exec.query<SessionRecord>(text, values);
      return rows.map(toSessionRow);
    },
    async activeBookings(sinceMs) {
      const { text, values } = activeBookingsSelect(schema, sinceMs);
      const { rows } = await exec.query<ActiveBookingRecord>(text, values);
      return rows.map((r) => ({
        eventId: r.event_id, bookingId: r.booking_id, carId: r.car_id, stationId: r.station_id, status: r.status,
        time: Number(r.time), expiresAt: r.expires_at === null ? null : Number(r.expires_at), reason: r.reason,
      }));
    },
    close: deps.close,
  };
}
