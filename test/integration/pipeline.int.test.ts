import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { createFleetClient } from '../../src/grpc/client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { startStack, type Stack } from '../../src/app/stack.js';
import { describeWithEngine, engineEnv, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const ORIGINAL_PROTO = fileURLToPath(new URL('../fixtures/original-fleet.proto', import.meta.url));
const TOKEN = 'pipeline-int-' + Math.random().toString(36).slice(2);

const probe = engineProbe('kafka', 'redis', 'postgres');

await describeWithEngine('kafka+redis+postgres', probe, 'the steel thread on real engines', () => {
  const ns = testNamespace('pipe');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-pipeline-'));
  let loaded: LoadedConfig;
  let stack: Stack;
  let db: pg.Client;

  beforeAll(async () => {
    loaded = loadConfig({
      env: {
        ...engineEnv(ns),
        GREENLANE_DATA_DIR: dataDir,
        GREENLANE_API_TOKENS: TOKEN,
        GREENLANE_GRPC_PORT: '0',
        GREENLANE_GRPC_HOST: '127.0.0.1',
        GREENLANE_GRID_PORT: '0',
      },
      cwd: dataDir,
    });
    stack = await startStack({ loaded, logger: silentLogger, registry: createRegistry(false), services: ['grid', 'worker', 'ingestion'] });
    db = new pg.Client({ connectionString: infra.databaseUrl });
    await db.connect();
  }, 90_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop({ drainMs: 5_000 });
    if (loaded) await dropNamespace(loaded, ns, silentLogger);
  }, 60_000);

  it('telemetry from a client built from the ORIGINAL proto is persisted in PostgreSQL, priced, exactly once', async () => {
    const client = createFleetClient(`127.0.0.1:${stack.ingestion!.port}`, TOKEN, { protoPath: ORIGINAL_PROTO });
    const call = client.streamTelemetry();
    const start = Date.now() - 60_000;
    const sent = Array.from({ length: 30 }, (_, i) => ({
      car_id: `ORIG-${String(i % 3).padStart(2, '0')}`,
      latitude: 40.75 + i * 0.0005,
      longitude: -73.98,
      battery_level: 80 - i * 0.2,
      velocity: 30,
      timestamp: start + i * 1000,
    }));
    for (const msg of sent) call.write(msg);
    call.end();

    const rows = async () =>
      (await db.query(`SELECT car_id, lat, battery, price_rate, extract(epoch from time) * 1000 AS ms FROM "${ns}".telemetry ORDER BY time`)).rows as {
        car_id: string;
        lat: number;
        battery: number;
        price_rate: number | null;
        ms: string;
      }[];
    const deadline = Date.now() + 30_000;
    while ((await rows()).length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const got = await rows();
    client.close();

    expect(got).toHaveLength(sent.length);
    expect(got.map((r) => Math.round(Number(r.ms)))).toEqual(sent.map((m) => m.timestamp));
    expect(got.map((r) => r.car_id)).toEqual(sent.map((m) => m.car_id));
    expect(got.every((r) => r.price_rate !== null && r.price_rate >= 0.1 && r.price_rate <= 0.4)).toBe(true);
    const latest = await stack.engines.fleet!.getCar('ORIG-02');
    expect(latest?.lat).toBeCloseTo(sent[29].latitude, 9);
  });
});
