import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { readStationsFile } from '../../src/config/stations-file.js';
import { auditEvents, type LoggedEvent } from '../../src/domain/audit.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import { openEventBus } from '../../src/app/engines.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { DEFAULT_STATIONS_FILE, startStack, type Stack } from '../../src/app/stack.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { EventBus, Subscription } from '../../src/ports/event-bus.js';
import { describeWithEngine, engineEnv, engineProbe, infra, testNamespace } from '../helpers/infra.js';
import { scrapeMetric, sleep } from '../helpers/net.js';
import { runCli } from '../helpers/run-cli.js';

const ORIGINAL_PROTO = fileURLToPath(new URL('../fixtures/original-fleet.proto', import.meta.url));
const TOKEN = 'procs-int-' + Math.random().toString(36).slice(2);

/**
 * `greenlane ingestion --processes 2` on real Kafka and Redis (issue 16, every core): the steel
 * thread and the booking contest through two processes that share one port, each with its own
 * coordinator, with the worker of an in-test stack persisting to PostgreSQL.
 */
await describeWithEngine('kafka+redis+postgres', engineProbe('kafka', 'redis', 'postgres'), 'ingestion as two processes on one port', () => {
  const ns = testNamespace('procs');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-procs-'));
  const env = {
    ...engineEnv(ns),
    GREENLANE_DATA_DIR: dataDir,
    GREENLANE_API_TOKENS: TOKEN,
  };
  let loaded: LoadedConfig;
  let stack: Stack;
  let proc: ResultPromise | undefined;
  let out = '';
  let grpcAddress = '';
  let metricsUrl = '';
  let db: pg.Client;
  let bus: EventBus;
  let watch: Subscription;
  const events: LoggedEvent[] = [];
  const clients: FleetClient[] = [];

  beforeAll(async () => {
    loaded = loadConfig({ env: { ...env, GREENLANE_GRID_PORT: '0' }, cwd: dataDir });
    // The worker (and the grid the coordinators price from) in this process; ingestion is the CLI's.
    stack = await startStack({ loaded, logger: silentLogger, registry: createRegistry(false), services: ['grid', 'worker'] });
    bus = await openEventBus(loaded.config, { logger: silentLogger });
    watch = await bus.subscribe({ topic: topicName(ns, TOPIC_EVENTS), groupId: `${ns}.audit`, fromBeginning: true, ephemeral: true, handleBatch: async (rs) => void events.push(...rs.map((r) => JSON.parse(r.value) as LoggedEvent)) });
    proc = runCli(['ingestion', '--processes', '2', '--grpc-port', '0', '--grpc-host', '127.0.0.1', '--metrics-port', '0'], {
      env: { ...env, GREENLANE_GRID_URL: stack.grid!.url, FORCE_COLOR: '0' },
      reject: false,
      all: true,
      buffer: false,
      forceKillAfterDelay: 30_000, // the drain of both processes may take longer than execa's 5 s
    });
    proc.all!.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    // Three processes start from source (tsx): minutes on a loaded 2-core machine.
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline && !/Metrics on :\d+/.test(out) && proc.exitCode === null) await sleep(200);
    grpcAddress = `127.0.0.1:${/listening on [\d.]+:(\d+)/.exec(out)?.[1]}`;
    metricsUrl = `http://127.0.0.1:${/Metrics on :(\d+)/.exec(out)?.[1]}`;
    expect(out).toContain('2 processes sharing the port');
    db = new pg.Client({ connectionString: infra.databaseUrl });
    await db.connect();
  }, 200_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await proc;
    }
    await watch?.stop();
    await bus?.close();
    await db?.end();
    await stack?.stop({ drainMs: 5_000 });
    if (loaded) await dropNamespace(loaded, ns, silentLogger);
  }, 60_000);

  /** A client on its own connection, so the primary hands it to the next process. */
  const client = (protoPath?: string) => {
    const c = createFleetClient(grpcAddress, TOKEN, { separateConnection: true, protoPath });
    clients.push(c);
    return c;
  };

  it('/ready needs both processes; telemetry over eight connections is persisted exactly once; /metrics sums the processes', async () => {
    expect(await fetch(`${metricsUrl}/ready`).then((r) => r.text())).toBe('READY');
    const start = Date.now() - 60_000;
    const sent = Array.from({ length: 8 }, (_, conn) => {
      const call = client(ORIGINAL_PROTO).streamTelemetry();
      const msgs = Array.from({ length: 25 }, (_, i) => ({ car_id: `PROC-${conn}`, latitude: 40.75 + i * 0.0005, longitude: -73.98, battery_level: 80 - i * 0.2, velocity: 30, timestamp: start + i * 1000 }));
      for (const m of msgs) call.write(m);
      call.end();
      return msgs.length;
    }).reduce((a, b) => a + b, 0);
    const count = async () => Number((await db.query(`SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM "${ns}".telemetry WHERE car_id LIKE 'PROC-%'`)).rows[0].n);
    const deadline = Date.now() + 60_000;
    while ((await count()) < sent && Date.now() < deadline) await sleep(250);
    await sleep(500);
    expect(await count()).toBe(sent);
    expect(await scrapeMetric(`${metricsUrl}/metrics`, 'greenlane_ingestion_telemetry_accepted_total')).toBe(sent);
  }, 90_000);

  it('200 cars on 200 connections race for the ports through both coordinators: no double booking', async () => {
    const stations = await readStationsFile(loaded.config.stationsFile ?? DEFAULT_STATIONS_FILE());
    const ports = stations.reduce((n, s) => n + s.ports, 0);
    const home = stations[0]!;
    const cars = Array.from({ length: 200 }, (_, i) => ({ id: `RACE-${String(i).padStart(3, '0')}`, c: client() }));
    // A fleet token books only for cars it streams (docs/SECURITY.md): each car reports once, at
    // 80 % (no booking of the coordinator's own), on its connection, and keeps the stream open.
    await Promise.all(
      cars.map(async ({ id, c }) => {
        const call = c.streamTelemetry();
        call.on('error', () => {});
        call.write({ car_id: id, latitude: home.lat, longitude: home.lon, battery_level: 80, velocity: 0, timestamp: Date.now() });
        const until = Date.now() + 30_000;
        while (!(await c.getCar(id).catch(() => null)) && Date.now() < until) await sleep(100);
      }),
    );
    const decisions = await Promise.all(
      cars.map(({ id, c }, i) => c.requestBooking({ car_id: id, battery_level: 8 + (i % 10), latitude: home.lat + (i % 7) * 0.001, longitude: home.lon + (i % 5) * 0.001 }, 20_000)),
    );
    const confirmed = decisions.filter((d) => d.status === 'BOOKING_CONFIRMED').length;
    const queued = decisions.filter((d) => d.status === 'BOOKING_QUEUED').length;
    expect(confirmed, JSON.stringify(decisions.slice(0, 3))).toBeGreaterThan(0);
    expect(confirmed).toBeLessThanOrEqual(ports);
    expect(confirmed + queued).toBe(200);
    const deadline = Date.now() + 30_000;
    const booked = () => events.filter((e) => e.car_id.startsWith('RACE-') && (e.event_type === 'booking_confirmed' || e.event_type === 'booking_queued'));
    while (new Set(booked().map((e) => e.car_id)).size < 200 && Date.now() < deadline) await sleep(250);
    const mine = booked();
    expect(new Set(mine.map((e) => e.car_id)).size).toBe(200);
    // Both processes decided (each event names the coordinator instance that made it).
    expect(new Set(mine.map((e) => e.origin_instance)).size).toBe(2);
    const audit = auditEvents(events, stations);
    expect(audit.doubleBookings).toBe(0);
    expect(Object.entries(audit.peak).every(([id, peak]) => peak <= stations.find((s) => s.id === id)!.ports)).toBe(true);
  }, 90_000);

  it('SIGTERM drains both processes and reports their sum', async () => {
    proc!.kill('SIGTERM');
    const result = await proc!;
    expect(result.exitCode, out.slice(-2000)).toBe(0);
    expect(out).toMatch(/Stopped: 400 accepted, 0 rejected, 400 written \(2 processes\)/);
  }, 60_000);
});
