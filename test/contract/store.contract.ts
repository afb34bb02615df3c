import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BookingRow, SessionRow, Store, TelemetryRow } from '../../src/ports/store.js';

/** Runs SQL beside the store (same database), to look at what the port does not expose. */
export type Introspect = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** The original contract's columns, exactly (docs/ARCHITECTURE.md, PostgreSQL tables). */
const ORIGINAL_SESSION_COLUMNS = [
  { column_name: 'time', data_type: 'timestamp with time zone', is_nullable: 'NO' },
  { column_name: 'session_id', data_type: 'text', is_nullable: 'NO' },
  { column_name: 'station_id', data_type: 'text', is_nullable: 'NO' },
  { column_name: 'car_id', data_type: 'text', is_nullable: 'NO' },
  { column_name: 'kwh_usage', data_type: 'double precision', is_nullable: 'NO' },
  { column_name: 'price_rate', data_type: 'double precision', is_nullable: 'NO' },
];

/**
 * The Store contract, run against every adapter. makeStore() returns a store on a fresh,
 * empty schema; cleanup (dropping the schema) is the caller's job.
 */
export function storeContract(makeStore: () => Promise<Store>, introspect: Introspect): void {
  let store: Store;
  const T0 = Date.UTC(2025, 0, 15, 8, 0, 0);

  beforeAll(async () => {
    store = await makeStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  const telemetry = (i: number, carId = 'CAR-001'): TelemetryRow => ({
    eventId: `tel-${i}`,
    carId,
    time: T0 + i * 1000,
    lat: 40.75 + i / 1e4,
    lon: -73.98,
    battery: 80 - i / 10,
    velocity: 30,
    priceRate: i % 2 ? 0.31 : null,
  });

  const session = (id: string, over: Partial<SessionRow> = {}): SessionRow => ({
    sessionId: id,
    stationId: 'ST-1',
    carId: 'CAR-001',
    time: T0,
    endTime: null,
    startBattery: 12.5,
    endBattery: null,
    kwhUsage: 0,
    priceRate: 0.25,
    cost: null,
    ...over,
  });

  it('migrates once: the second run applies nothing and the tables exist', async () => {
    const first = await store.migrate();
    expect(first).toContain('001-core');
    expect(await store.migrate()).toEqual([]);
    const info = await store.info();
    expect(info.migrations).toEqual(first);
    expect(info.serverVersion).toMatch(/^\d+/);
  });

  it('creates the four tables, charging_sessions with the original columns first and unchanged', async () => {
    const { schema } = await store.info();
    const tables = await introspect(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(['bookings', 'charging_sessions', 'schema_migrations', 'stations', 'telemetry']);
    const columns = await introspect(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'charging_sessions' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.slice(0, 6)).toEqual(ORIGINAL_SESSION_COLUMNS);
    expect(columns.slice(6).map((c) => c.column_name)).toEqual(['end_time', 'start_battery', 'end_battery', 'cost']);
  });

  it('round-trips a session exactly', async () => {
    const row = session('s-types', { kwhUsage: 1.25, priceRate: 0.3125, time: T0 - 1 });
    expect(await store.insertSessions([row])).toBe(1);
    const [back] = await store.listSessions({ carId: 'CAR-001', sinceMs: T0 - 1, limit: 100 }).then((r) => r.filter((s) => s.sessionId === 's-types'));
    expect(back).toEqual(row);
  });

  it('inserts a telemetry batch once, however often it is delivered', async () => {
    const batch = Array.from({ length: 25 }, (_, i) => telemetry(i));
    expect(await store.insertTelemetry(batch)).toBe(25);
    expect(await store.insertTelemetry(batch)).toBe(0);
    expect(await store.countTelemetry()).toBe(25);
  });

  it('inserts only the new rows of a batch mixing new and existing ids', async () => {
    const mixed = [telemetry(3), telemetry(100, 'CAR-002'), telemetry(4), telemetry(101, 'CAR-002')];
    expect(await store.insertTelemetry(mixed)).toBe(2);
    expect(await store.countTelemetry(['CAR-002'])).toBe(2);
    expect(await store.countTelemetry(['CAR-001', 'CAR-002'])).toBe(27);
    expect(await store.countTelemetry([])).toBe(0);
  });

  it('chunks large batches and stays idempotent across chunks', async () => {
    const big = Array.from({ length: 2500 }, (_, i) => telemetry(10_000 + i, 'CAR-BIG'));
    expect(await store.insertTelemetry(big)).toBe(2500);
    expect(await store.insertTelemetry(big.slice(1000, 2600))).toBe(0);
    expect(await store.countTelemetry(['CAR-BIG'])).toBe(2500);
  });

  it('is idempotent on booking event ids', async () => {
    const b: BookingRow = { eventId: 'bk-1', bookingId: 'B-1', carId: 'CAR-001', stationId: 'ST-1', status: 'confirmed', time: T0, expiresAt: T0 + 20 * 60_000, reason: null };
    const q: BookingRow = { ...b, eventId: 'bk-2', stationId: null, status: 'queued', reason: 'station full, it\'s "busy"' };
    expect(await store.insertBookings([b, q])).toBe(2);
    expect(await store.insertBookings([b, q])).toBe(0);
  });

  it('upserts sessions: the completion updates the started session, re-deliveries change nothing', async () => {
    const started = session('s-1');
    const completed = session('s-1', { endTime: T0 + 3_600_000, endBattery: 80, kwhUsage: 40.5, priceRate: 0.28, cost: 11.34 });
    expect(await store.insertSessions([started])).toBe(1);
    expect(await store.insertSessions([completed])).toBe(0);
    expect(await store.insertSessions([started])).toBe(0); // a late start must not undo the completion
    expect(await store.insertSessions([completed, completed])).toBe(0); // duplicates in one batch
    const rows = (await store.listSessions({ carId: 'CAR-001' })).filter((s) => s.sessionId === 's-1');
    expect(rows).toEqual([completed]);
  });

  it('lists sessions newest first, filtered by car, station, since and limit', async () => {
    const rows = [
      session('f-1', { carId: 'CAR-F1', stationId: 'ST-A', time: T0 + 1000 }),
      session('f-2', { carId: 'CAR-F1', stationId: 'ST-B', time: T0 + 2000 }),
      session('f-3', { carId: 'CAR-F2', stationId: 'ST-A', time: T0 + 3000 }),
      session('f-4', { carId: 'CAR-F1', stationId: 'ST-A', time: T0 + 4000 }),
    ];
    expect(await store.insertSessions(rows)).toBe(4);
    const ids = (xs: SessionRow[]) => xs.map((s) => s.sessionId);
    expect(ids(await store.listSessions({ carId: 'CAR-F1' }))).toEqual(['f-4', 'f-2', 'f-1']);
    expect(ids(await store.listSessions({ stationId: 'ST-A', sinceMs: T0 + 1000 }))).toEqual(['f-4', 'f-3', 'f-1']);
    expect(ids(await store.listSessions({ stationId: 'ST-A', sinceMs: T0 + 1001 }))).toEqual(['f-4', 'f-3']);
    expect(ids(await store.listSessions({ carId: 'CAR-F1', stationId: 'ST-A' }))).toEqual(['f-4', 'f-1']);
    expect(ids(await store.listSessions({ carId: 'CAR-F1', limit: 2 }))).toEqual(['f-4', 'f-2']);
    expect(await store.listSessions({ carId: 'CAR-NONE' })).toEqual([]);
  });

  it('lists the latest still-active booking per car from the log (what lost reservations are rebuilt from)', async () => {
    const row = (eventId: string, bookingId: string, carId: string, status: string, at: number): BookingRow => ({ eventId, bookingId, carId, stationId: 'ST-9', status, time: T0 + at, expiresAt: status === 'confirmed' ? T0 + at + 60_000 : null, reason: null });
    await store.insertBookings([
      row('ab-1', 'AB-1', 'AB-CAR-1', 'confirmed', 0), // held
      row('ab-2q', 'AB-2', 'AB-CAR-2', 'queued', 0), row('ab-2c', 'AB-2', 'AB-CAR-2', 'confirmed', 5_000), // promoted
      row('ab-3q', 'AB-3', 'AB-CAR-3', 'queued', 0), // still queued
      row('ab-4c', 'AB-4', 'AB-CAR-4', 'confirmed', 0), row('ab-4x', 'AB-4', 'AB-CAR-4', 'cancelled', 9_000), // ended
      row('ab-5c', 'AB-5', 'AB-CAR-5', 'confirmed', 0), // its session completed
      row('ab-6c', 'AB-6', 'AB-CAR-6', 'confirmed', -3_600_000), // too old for the window
    ]);
    await store.insertSessions([{ sessionId: 'AB-5', stationId: 'ST-9', carId: 'AB-CAR-5', time: T0 + 1_000, endTime: T0 + 2_000, startBattery: 20, endBattery: 80, kwhUsage: 45, priceRate: 0.3, cost: 13.5 }]);
    const active = (await store.activeBookings!(T0 - 60_000)).filter((r) => r.carId.startsWith('AB-'));
    expect(active.map((r) => [r.bookingId, r.status, r.time, r.expiresAt]).sort()).toEqual([
      ['AB-1', 'confirmed', T0, T0 + 60_000],
      ['AB-2', 'confirmed', T0 + 5_000, T0 + 65_000],
      ['AB-3', 'queued', T0, null],
    ]);
  });
}
