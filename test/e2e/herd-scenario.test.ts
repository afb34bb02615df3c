import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createFleetClient } from '../../src/grpc/client.js';
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
    const result = await runHerdScenario({
      server: address, token: stack.tokens[0], cars: 50, seed: 11, speed: 1200, hz: 10, initialBattery: [10, 25], limitHours: 24, stations: STATIONS, logger: silentLogger,
    });
    expect(result).toMatchObject({ scenario: 'herd', endedBy: 'all_charged', charged: 50, stranded: 0, doubleBookings: 0, failed: 0 });
    expect(result.confirmed).toBeGreaterThanOrEqual(50);
    expect(result.queued).toBeGreaterThan(0); // 50 cars, 6 ports: most waited
    expect(result.sessions).toBe(50); // one each: charged cars park off duty instead of coming back
    expect(result.waitP95Ms).toBeGreaterThan(result.waitP50Ms);
    expect(result.utilisation).toBeGreaterThan(0);
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
