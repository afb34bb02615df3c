import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startStack, type Stack } from '../../src/app/stack.js';

/** Two one-port stations ~5 km apart, so a second car must queue for ST-A. */
export const TINY_STATIONS = [
  { id: 'ST-A', name: 'Alpha Garage', lat: 40.75, lon: -73.98, ports: 1, powerKw: 150 },
  { id: 'ST-B', name: 'Bravo Lot', lat: 40.79, lon: -73.96, ports: 1, powerKw: 50 },
];

/** An embedded stack (memory adapters, in-memory PGlite) on a free port, with the tiny stations file. */
export async function startTestStack(): Promise<{ stack: Stack; address: string; token: string; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gl-queries-'));
  const stationsFile = join(dir, 'stations.json');
  writeFileSync(stationsFile, JSON.stringify(TINY_STATIONS));
  const dataDir = join(dir, 'data');
  const loaded = loadConfig({ env: { GREENLANE_DATA_DIR: dataDir, GREENLANE_STATIONS_FILE: stationsFile, GREENLANE_GRPC_PORT: '0', GREENLANE_GRPC_HOST: '127.0.0.1' }, cwd: dir });
  expect(loaded.mode).toBe('embedded');
  const stack = await startStack({ loaded, logger: silentLogger, registry: new Registry(), services: ['ingestion', 'worker'], ephemeralStore: true });
  return { stack, address: `127.0.0.1:${stack.ingestion!.port}`, token: stack.tokens[0], dataDir };
}

export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

