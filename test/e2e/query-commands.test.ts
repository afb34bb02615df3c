import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import Bookings from '../../src/commands/bookings.js';
import Sessions, { parseSince, totalsOf } from '../../src/commands/sessions.js';
import StationsList from '../../src/commands/stations/list.js';
import StationsNearest from '../../src/commands/stations/nearest.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { CarStatusMsg } from '../../src/grpc/proto.js';
import type { Stack } from '../../src/app/stack.js';
import { eventually, startTestStack } from '../helpers/query-stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const savedEnv = { ...process.env };

/** Runs a command in-process with only the given GREENLANE_* variables; captures stdout, stderr and the exit code. */
async function run(cmd: { run(argv: string[], root: string): Promise<unknown> }, argv: string[], env: Record<string, string>) {
  for (const k of Object.keys(process.env)) if (k.startsWith('GREENLANE_')) delete process.env[k];
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void (stdout += `${String(line)}\n`));
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void (stderr += `${String(line)}\n`));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  let exitCode = 0;
  let result: unknown;
  try {
    result = await cmd.run(argv, root);
  } catch (err) {
    exitCode = (err as { oclif?: { exit?: number } }).oclif?.exit ?? 1;
  } finally {
    vi.restoreAllMocks();
  }
  return { exitCode, stdout, stderr, result };
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('greenlane stations | bookings | sessions against a running embedded server', () => {
  let stack: Stack;
  let client: FleetClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    const started = await startTestStack();
    stack = started.stack;
    env = { GREENLANE_SERVER: started.address, GREENLANE_DATA_DIR: started.dataDir };
    client = createFleetClient(started.address, started.token);
    await client.requestBooking({ car_id: 'CLI-1', station_id: 'ST-A', battery_level: 28, latitude: 40.75, longitude: -73.98 });
    await client.requestBooking({ car_id: 'CLI-2', station_id: 'ST-A', battery_level: 12, latitude: 40.75, longitude: -73.98 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop({ drainMs: 2_000 });
  });

  it('stations list --json reports live occupancy from the server', async () => {
    const { exitCode, stdout } = await run(StationsList, ['--json'], env);
    expect(exitCode).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.source).toBe(`server ${env.GREENLANE_SERVER}`);
    expect(out.stations.map((s: { id: string; free: number; holds: number; queueLength: number }) => [s.id, s.free, s.holds, s.queueLength])).toEqual([
      ['ST-A', 0, 1, 1],
      ['ST-B', 1, 0, 0],
    ]);
  });

  it('stations list prints a table', async () => {
    const { exitCode, stdout } = await run(StationsList, [], env);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/ST-A\s+Alpha Garage\s+0\/1\s+1\s+0\s+1\s+150/);
  });

  it('stations nearest --available and --car', async () => {
    const near = await run(StationsNearest, ['--lat', '40.7501', '--lon', '-73.9801', '--available', '--json'], env);
    expect(near.exitCode).toBe(0);
    expect(JSON.parse(near.stdout).stations.map((s: { id: string }) => s.id)).toEqual(['ST-B']);
    const stream = client.streamTelemetry();
    stream.on('error', () => {});
    stream.write({ car_id: 'CLI-POS', latitude: 40.7901, longitude: -73.9601, battery_level: 90, velocity: 0, timestamp: Date.now() } satisfies CarStatusMsg);
    await eventually(async () => (await client.getCar('CLI-POS')) ?? undefined);
    stream.end();
    const byCar = await run(StationsNearest, ['--car', 'CLI-POS', '--json'], env);
    expect(byCar.exitCode).toBe(0);
    const out = JSON.parse(byCar.stdout);
    expect(out.from).toMatchObject({ car: 'CLI-POS', lat: 40.7901 });
    expect(out.stations.map((s: { id: string }) => s.id)).toEqual(['ST-B', 'ST-A']);
    const unknown = await run(StationsNearest, ['--car', 'NOBODY'], env);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no known position for car NOBODY/);
    expect((await run(StationsNearest, ['--lat', '40.7'], env)).exitCode).toBe(2);
  });

  it('bookings shows the hold with a countdown and the queue in order', async () => {
    const json = await run(Bookings, ['--json'], env);
    expect(json.exitCode).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.bookings.map((b: { carId: string; status: string; queuePosition: number }) => [b.carId, b.status, b.queuePosition])).toEqual([
      ['CLI-1', 'held', 0],
      ['CLI-2', 'queued', 1],
    ]);
    expect(out.bookings[1].critical).toBe(true);
    const table = await run(Bookings, [], env);
    expect(table.stdout).toMatch(/CLI-1\s+ST-A\s+held\s+\d+m\d\ds/);
    expect(table.stdout).toMatch(/1\s+CLI-2\s+12\.0%\s+yes\s+\d+s\s+ST-A/);
    const queued = await run(Bookings, ['--status', 'queued', '--json'], env);
    expect(JSON.parse(queued.stdout).bookings.map((b: { carId: string }) => b.carId)).toEqual(['CLI-2']);
    expect((await run(Bookings, ['--status', 'everything'], env)).exitCode).toBe(2);
  });

  it('sessions lists a finished session with kWh, cost and the average price', async () => {
    const stream = client.streamTelemetry();
    stream.on('error', () => {});
    const at = (battery: number): CarStatusMsg => ({ car_id: 'CLI-1', latitude: 40.75, longitude: -73.98, battery_level: battery, velocity: 0, timestamp: Date.now() });
    stream.write(at(28));
    await eventually(async () => (await client.listBookings('active')).bookings.find((b) => b.carId === 'CLI-1' && b.status === 'charging'));
    stream.write(at(80));
    await eventually(async () => (await client.listSessions({ carId: 'CLI-1' })).some((s) => s.endTime !== null));
    stream.end();
    const json = await run(Sessions, ['--car', 'CLI-1', '--since', '1h', '--json'], env);
    expect(json.exitCode).toBe(0);
    const out = JSON.parse(json.stdout);
    const done = out.sessions.find((s: { endTime: number | null }) => s.endTime !== null);
    expect(done).toMatchObject({ carId: 'CLI-1', stationId: 'ST-A', startBattery: 28, endBattery: 80 });
    expect(done.kwhUsage).toBeCloseTo(0.52 * 75, 5);
    expect(out.totals.avgPricePerKwh).toBeGreaterThan(0);
    const table = await run(Sessions, ['--station', 'ST-A'], env);
    expect(table.stdout).toMatch(/CLI-1\s+ST-A\s+.*28→80%\s+39\.00\s+\$/);
    expect(table.stdout).toMatch(/sessions, 39\.0 kWh, \$\d+\.\d\d, average \$\d\.\d{3}\/kWh/);
    const none = await run(Sessions, ['--station', 'ST-B', '--json'], env);
    expect(JSON.parse(none.stdout).sessions).toEqual([]);
    expect((await run(Sessions, ['--since', 'yesterday-ish'], env)).exitCode).toBe(2);
  });

  it('exits 4 with "start greenlane up" when no server answers, and 3 for a refused token', async () => {
    const down = await run(StationsList, [], { ...env, GREENLANE_SERVER: '127.0.0.1:1' });
    expect(down.exitCode).toBe(4);
    expect(down.stderr).toMatch(/greenlane up/);
    const never = await run(Bookings, ['--json'], { GREENLANE_SERVER: '127.0.0.1:1', GREENLANE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-empty-')) });
    expect(never.exitCode).toBe(4);
    expect(JSON.parse(never.stdout).error.suggestions.join(' ')).toMatch(/greenlane up/);
    const refused = await run(Sessions, [], { ...env, GREENLANE_API_TOKEN: 'wrong' });
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toMatch(/refused the token/);
  });
});

describe('sessions helpers', () => {
  it('parseSince reads durations back from now and absolute times', () => {
    const now = 1_764_000_000_000;
    expect(parseSince('90s', now)).toBe(now - 90_000);
    expect(parseSince('30m', now)).toBe(now - 1_800_000);
    expect(parseSince('1h', now)).toBe(now - 3_600_000);
    expect(parseSince('2d', now)).toBe(now - 172_800_000);
    expect(parseSince('2024-06-03T12:00:00Z', now)).toBe(Date.parse('2024-06-03T12:00:00Z'));
    expect(() => parseSince('soon', now)).toThrow(/--since/);
  });

  it('totals weight the average price by energy and skip open sessions', () => {
    const s = (kwh: number, cost: number | null) => ({ sessionId: 'x', stationId: 'S', carId: 'C', time: 0, endTime: cost === null ? null : 1, startBattery: 10, endBattery: null, kwhUsage: kwh, priceRate: 0, cost });
    expect(totalsOf([s(10, 2), s(30, 3), s(5, null)])).toEqual({ sessions: 3, kwh: 45, cost: 5, avgPricePerKwh: 5 / 40 });
    expect(totalsOf([]).avgPricePerKwh).toBeNull();
  });
});
