import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import Bookings from '../../src/commands/bookings.js';
import Sessions from '../../src/commands/sessions.js';
import StationsList from '../../src/commands/stations/list.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { createFleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry, serveMetrics } from '../../src/observability/metrics.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { createSimulator } from '../../src/sim/simulator.js';
import { startStack, type Stack } from '../../src/app/stack.js';
import { describeWithEngine, engineEnv, engineProbe, testNamespace } from '../helpers/infra.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'metrics-int-' + Math.random().toString(36).slice(2);

const probe = engineProbe('kafka', 'redis', 'postgres');

/** Prometheus text → { 'name{labels}': value } (samples only). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

await describeWithEngine('kafka+redis+postgres', probe, 'metrics of a running stack move (and the query commands read the engines)', () => {
  const ns = testNamespace('met');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-metrics-'));
  const stackEnv = {
    ...engineEnv(ns),
    GREENLANE_DATA_DIR: dataDir,
  };
  let loaded: LoadedConfig;
  let stack: Stack;
  let metricsServer: Server;
  let scrapeUrl: string;
  const scrape = async () => parseMetrics(await (await fetch(scrapeUrl)).text());

  beforeAll(async () => {
    loaded = loadConfig({ env: { ...stackEnv, GREENLANE_API_TOKENS: TOKEN, GREENLANE_GRPC_PORT: '0', GREENLANE_GRPC_HOST: '127.0.0.1', GREENLANE_GRID_PORT: '0' }, cwd: dataDir });
    expect(loaded.mode).toBe('external');
    const registry = createRegistry(false);
    stack = await startStack({ loaded, logger: silentLogger, registry, services: ['grid', 'worker', 'ingestion'] });
    metricsServer = await serveMetrics({ registry, port: 0, host: '127.0.0.1' });
    scrapeUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`;
  }, 90_000);

  afterAll(async () => {
    metricsServer?.close();
    await stack?.stop({ drainMs: 5_000 });
    if (loaded) await dropNamespace(loaded, ns, silentLogger);
  }, 60_000);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('telemetry, rows written, lag, bookings, price and rejects all show on /metrics', async () => {
    const before = await scrape();
    expect(before.get('greenlane_ingestion_telemetry_accepted_total') ?? 0).toBe(0);
    expect(before.get('greenlane_grid_price_dollars_per_kwh')).toBeGreaterThan(0);

    // A low-battery fleet: every car asks for a port, so the coordinator books.
    const sim = createSimulator({ cars: 8, hz: 2, seed: 7, server: `127.0.0.1:${stack.ingestion!.port}`, token: TOKEN, logger: silentLogger, initialBattery: [10, 20], carPrefix: 'MET-' });
    await sim.start();
    await new Promise((r) => setTimeout(r, 3_000));
    const summary = await sim.stop();
    expect(summary.sent).toBeGreaterThan(0);

    // One invalid message: rejected by reason, the stream goes on.
    const client = createFleetClient(`127.0.0.1:${stack.ingestion!.port}`, TOKEN);
    const stream = client.streamTelemetry();
    const rejected = new Promise<BookingResponseMsg>((resolve) => stream.once('data', resolve));
    stream.write({ car_id: 'MET-BAD', latitude: 40.75, longitude: -73.98, battery_level: 500, velocity: 0, timestamp: Date.now() });
    expect(await rejected).toMatchObject({ status: 'BOOKING_FAILED', reason: 'invalid_battery_level' });
    stream.end();
    client.close();

    const after = await until(async () => {
      const m = await scrape();
      return (m.get('greenlane_worker_rows_written_total{table="telemetry"}') ?? 0) >= summary.sent && m;
    }, 'the worker to persist the telemetry');
    expect(after.get('greenlane_ingestion_telemetry_accepted_total')).toBe(summary.sent);
    expect(after.get('greenlane_worker_rows_written_total{table="telemetry"}')).toBe(summary.sent);
    expect(after.get('greenlane_ingestion_telemetry_rejected_total{reason="battery_level"}')).toBe(1);
    expect(after.get('greenlane_coordinator_bookings_total{status="confirmed"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('greenlane_grid_price_dollars_per_kwh')).toBeGreaterThan(0);
    expect([...after.keys()].some((k) => k.startsWith('greenlane_worker_consumer_lag'))).toBe(true);
    expect([...after.keys()].some((k) => k.startsWith('greenlane_coordinator_station_holds{'))).toBe(true);
    // Engine latency histograms: each real engine call is timed.
    expect(after.get('greenlane_ingestion_engine_seconds_count{engine="redis",op="upsert_cars"}')).toBeGreaterThan(0);
    expect(after.get('greenlane_ingestion_engine_seconds_count{engine="kafka",op="publish"}')).toBeGreaterThan(0);
    expect(after.get('greenlane_worker_engine_seconds_count{engine="postgres",op="insert_telemetry"}')).toBeGreaterThan(0);
  }, 90_000);

  it('in external mode `greenlane bookings`, `stations list` and `sessions` read Redis and PostgreSQL directly', async () => {
    const run = async (cmd: { run(argv: string[], root: string): Promise<unknown> }, argv: string[]) => {
      for (const k of Object.keys(process.env)) if (k.startsWith('GREENLANE_')) delete process.env[k];
      Object.assign(process.env, stackEnv);
      let stdout = '';
      vi.spyOn(console, 'log').mockImplementation((line: unknown) => void (stdout += `${String(line)}\n`));
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        await cmd.run(argv, root);
      } finally {
        vi.restoreAllMocks();
      }
      return JSON.parse(stdout);
    };
    const bookings = await run(Bookings, ['--json']);
    expect(bookings.source).toBe('engines');
    expect(bookings.bookings.length).toBeGreaterThanOrEqual(1);
    expect(bookings.bookings.every((b: { carId: string }) => b.carId.startsWith('MET-'))).toBe(true);
    const stations = await run(StationsList, ['--json']);
    const holds = stations.stations.reduce((n: number, s: { holds: number; charging: number }) => n + s.holds + s.charging, 0);
    expect(holds).toBe(bookings.bookings.filter((b: { status: string }) => b.status !== 'queued').length);
    const sessions = await run(Sessions, ['--since', '1h', '--json']);
    expect(sessions).toMatchObject({ source: 'engines', sessions: expect.any(Array), totals: { sessions: sessions.sessions.length } });
  }, 60_000);
});
