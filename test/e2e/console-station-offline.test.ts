import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import StationsList from '../../src/commands/stations/list.js';
import StationsOffline from '../../src/commands/stations/offline.js';
import StationsOnline from '../../src/commands/stations/online.js';
import { startStack, type Stack } from '../../src/app/stack.js';
import { createOperatorDesk } from '../../src/app/tail-desk.js';
import { loadConfig } from '../../src/config/load.js';
import { issueCarToken } from '../../src/domain/principals.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { StationAvailabilityReplyMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { StationRow } from '../../src/services/queries/station-rows.js';
import { TINY_STATIONS } from '../helpers/query-stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'console-e2e-secret-0123456789abcdef0123';
const savedEnv = { ...process.env };

/** Runs a command in-process with only the given GREENLANE_* variables; captures output and the exit code. */
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

describe('operator action: a station offline and back online, against a running embedded server', () => {
  let stack: Stack;
  let client: FleetClient;
  let env: Record<string, string>;
  let carToken: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-offline-'));
    const stationsFile = join(dir, 'stations.json');
    writeFileSync(stationsFile, JSON.stringify(TINY_STATIONS));
    const dataDir = join(dir, 'data');
    const loaded = loadConfig({ env: { GREENLANE_DATA_DIR: dataDir, GREENLANE_STATIONS_FILE: stationsFile, GREENLANE_GRPC_PORT: '0', GREENLANE_GRPC_HOST: '127.0.0.1', GREENLANE_TOKEN_SECRET: SECRET }, cwd: dir });
    stack = await startStack({ loaded, logger: silentLogger, registry: new Registry(), services: ['ingestion', 'worker'], ephemeralStore: true });
    const address = `127.0.0.1:${stack.ingestion!.port}`;
    env = { GREENLANE_SERVER: address, GREENLANE_DATA_DIR: dataDir };
    client = createFleetClient(address, stack.tokens[0]);
    carToken = issueCarToken(SECRET, 'OFF-1');
    await client.requestBooking({ car_id: 'OFF-1', station_id: 'ST-A', battery_level: 28, latitude: 40.75, longitude: -73.98 });
    await client.requestBooking({ car_id: 'OFF-2', station_id: 'ST-A', battery_level: 12, latitude: 40.75, longitude: -73.98 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop({ drainMs: 2_000 });
  });

  const stationA = async () => ((await run(StationsList, ['--json'], env)).result as { stations: StationRow[] }).stations.find((s) => s.id === 'ST-A')!;

  it('is refused with a car token (exit 3, nothing changes)', async () => {
    const res = await run(StationsOffline, ['ST-A', '--json', '--token', carToken], env);
    expect(res.exitCode).toBe(3);
    // --json: the error is the JSON document on stdout.
    const error = (JSON.parse(res.stdout) as { error: { code: string; message: string; suggestions: string[] } }).error;
    expect(error).toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/car:OFF-1 may not take stations offline/) });
    expect(error.suggestions.join(' ')).toContain('operator token');
    expect(await stationA()).toMatchObject({ ports: 1, holds: 1 });
    // The console's desk says the same refusal on its result line.
    const desk = createOperatorDesk(env.GREENLANE_SERVER, () => createFleetClient(env.GREENLANE_SERVER, carToken));
    const r = await desk.setStationOnline('ST-A', false);
    await desk.close?.();
    expect(r).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
  });

  it('offline with the operator token: no ports, its hold and queue re-planned, then online again', async () => {
    const off = await run(StationsOffline, ['ST-A', '--json'], env);
    expect(off.exitCode).toBe(0);
    const reply = off.result as StationAvailabilityReplyMsg;
    expect(reply).toMatchObject({ station_id: 'ST-A', online: false, changed: true, ports: 0 });
    expect(reply.replanned.map((p) => [p.car_id, p.was, p.status, p.station_id])).toEqual([
      ['OFF-1', 'held', 'confirmed', 'ST-B'],
      ['OFF-2', 'queued', 'queued', ''],
    ]);
    expect(await stationA()).toMatchObject({ ports: 0, holds: 0, queueLength: 0, offline: true });
    const active = await client.listBookings('all');
    expect(active.bookings.filter((b) => b.stationId === 'ST-A' || b.candidates.includes('ST-A'))).toEqual([]);

    const on = await run(StationsOnline, ['ST-A'], env);
    expect(on.exitCode).toBe(0);
    expect(on.stdout).toContain('ST-A is online with 1 ports; 1 queued cars got a port.');
    expect(await stationA()).toMatchObject({ ports: 1, holds: 1 });
    expect((await stationA()).offline).toBeUndefined();
  });
});
