import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createFleetClient } from '../../src/grpc/client.js';
import type { FleetEventMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Station } from '../../src/ports/fleet-state.js';
import { runHerdScenario } from '../../src/sim/herd-scenario.js';
import { startStack, type Stack } from '../../src/app/stack.js';

/** Three two-port stations in midtown: the herd of 50 must share six ports. */
const STATIONS: Station[] = [
  { id: 'H-1', name: 'West', lat: 40.755, lon: -73.99, ports: 2, powerKw: 150 },
  { id: 'H-2', name: 'Mid', lat: 40.765, lon: -73.975, ports: 2, powerKw: 150 },
  { id: 'H-3', name: 'East', lat: 40.75, lon: -73.965, ports: 2, powerKw: 150 },
];

describe('greenlane sim --scenario herd against an embedded stack (memory adapters, PGlite)', () => {
  let stack: Stack;
  let address: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-herd-'));
    const stationsFile = join(dir, 'stations.json');
    writeFileSync(stationsFile, JSON.stringify(STATIONS));
    const loaded = loadConfig({ env: { GREENLANE_DATA_DIR: join(dir, 'data'), GREENLANE_STATIONS_FILE: stationsFile, GREENLANE_GRPC_PORT: '0', GREENLANE_GRPC_HOST: '127.0.0.1' }, cwd: dir });
    stack = await startStack({ loaded, logger: silentLogger, registry: new Registry(), services: ['ingestion', 'worker'], ephemeralStore: true });
    address = `127.0.0.1:${stack.ingestion!.port}`;
  }, 60_000);

  afterAll(async () => {
    await stack?.stop({ drainMs: 2_000 });
  });

  it('50 low cars all charge: 0 double bookings by the audit, 0 stranded, nothing left booked', async () => {
    const watcher = await watchAll(address, stack.tokens[0]);
    const result = await runHerdScenario({
      server: address, token: stack.tokens[0], cars: 50, seed: 11, speed: 1200, hz: 10, initialBattery: [10, 25], limitHours: 24, stations: STATIONS, logger: silentLogger,
    }).finally(() => watcher.close());
    expect(result).toMatchObject({ scenario: 'herd', endedBy: 'all_charged', charged: 50, stranded: 0, doubleBookings: 0, failed: 0 });
    expect(result.confirmed).toBeGreaterThanOrEqual(50);
    expect(result.queued).toBeGreaterThan(0); // 50 cars, 6 ports: most waited
    expect(result.sessions).toBe(50); // one each: charged cars park off duty instead of coming back
    expect(result.waitP95Ms).toBeGreaterThan(result.waitP50Ms);
    expect(result.utilisation).toBeGreaterThan(0);
    expect(result.effectiveSpeed).toBeGreaterThan(0);
    expect(result.effectiveSpeed).toBeLessThanOrEqual(1200 * 1.05);
    expect(result.slowdowns).toBeGreaterThanOrEqual(0);

    // The report agrees with the event log, read by a second, independent subscriber …
    const own = watcher.events.filter((e) => e.car_id.startsWith(result.carPrefix));
    const distinct = (type: string, key: (e: { car_id: string; booking_id?: string }) => string) => new Set(own.filter((e) => e.event_type === type).map(key)).size;
    expect(result.charged).toBe(distinct('charging_completed', (e) => e.car_id));
    expect(result.sessions).toBe(own.filter((e) => e.event_type === 'charging_completed').length);
    expect(result.confirmed).toBe(distinct('booking_confirmed', (e) => e.booking_id ?? e.car_id));
    // … and with what the worker persisted (completed sessions of this run's cars in the store).
    const persisted = await until(async () => (await stack.engines.store!.listSessions({ limit: 10_000 })).filter((s) => s.carId.startsWith(result.carPrefix) && s.endTime !== null), (rows) => rows.length >= result.sessions);
    expect(persisted.length).toBe(result.sessions);
    expect(new Set(persisted.map((s) => s.carId)).size).toBe(result.charged);
    const client = createFleetClient(address, stack.tokens[0]);
    try {
      const left = (await client.listBookings('all')).bookings;
      expect(left).toEqual([]);
      expect((await client.listStations()).map((s) => [s.id, s.holds, s.charging, s.queueLength])).toEqual(STATIONS.map((s) => [s.id, 0, 0, 0]));
    } finally {
      client.close();
    }
  }, 120_000);
});

/** Every booking event on WatchEvents, from now on. */
async function watchAll(address: string, token: string): Promise<{ events: { event_type: string; car_id: string; booking_id?: string }[]; close(): void }> {
  const client = createFleetClient(address, token, { separateConnection: true });
  const stream = client.watchEvents({});
  const events: { event_type: string; car_id: string; booking_id?: string }[] = [];
  stream.on('data', (msg: FleetEventMsg) => {
    if (msg.event_type !== 'telemetry') events.push(JSON.parse(msg.json) as (typeof events)[number]);
  });
  stream.on('error', () => undefined);
  await new Promise((resolve) => stream.once('metadata', resolve));
  return {
    events,
    close() {
      stream.cancel();
      client.close();
    },
  };
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
