/**
 * 10,000 connected cars (issue 16; not a test): `greenlane up` on the real engines (ingestion as
 * `--processes N`), and every car on its own StreamTelemetry stream — the original RPC, one reading
 * per car per second. Reports accepted/s, loss (sent − rows in PostgreSQL), latency to the durable
 * row (durable_at − reading timestamp, every row of the window, in SQL), and the RSS and CPU of
 * ingestion's processes and the worker, read from /proc. Progress on stderr, one JSON on stdout.
 *
 *   node --import tsx bench/streams.ts [--cars 10000] [--hz 1] [--warmup 20] [--window 60]
 *        [--processes 2] [--load-procs 2] [--cars-per-connection 100] [--cli source|built] [--stages] [--out file]
 * --stages: a consumer of the topic records each reading's Kafka timestamp (set when ingestion
 * published it), so the latency splits into reading → on Kafka and on Kafka → durable row.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/observability/logger.js';
import { dropNamespace } from '../src/app/namespace-cleanup.js';
import { freeTcpPort, processTree, sampleTree, type TreeSample } from './streams-procs.js';
import { round, say, sleep, until } from './lib/stats.js';
import type { StreamsLoadArgs, StreamsLoadMessage } from './streams-load.js';

const { values } = parseArgs({
  options: {
    cars: { type: 'string', default: '10000' },
    hz: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '20' },
    window: { type: 'string', default: '60' },
    processes: { type: 'string', default: '2' },
    'load-procs': { type: 'string', default: '2' },
    'cars-per-connection': { type: 'string', default: '100' },
    // source: bin/dev.js through tsx (a loader in every process); built: bin/run.js on dist/ (`npm run build` first), as installed.
    cli: { type: 'string', default: 'source' },
    // Also read the topic (a consumer of its own, ~10 % of a core at 10,000/s): splits the latency at Kafka.
    stages: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const num = (k: keyof typeof values) => Number(values[k]);
const [cars, hz, warmupSec, windowSec, processes, loadProcs, perConn] = [num('cars'), num('hz'), num('warmup'), num('window'), num('processes'), num('load-procs'), num('cars-per-connection')];
export const TARGETS = { lossEvents: 0, p99Ms: 250, ingestionRssMb: 1024 };

const DEV_BIN = fileURLToPath(new URL('../bin/dev.js', import.meta.url));
const RUN_BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const TSX = import.meta.resolve('tsx');
const LOAD = fileURLToPath(new URL('./streams-load.ts', import.meta.url));
const ENGINE_DEFAULTS = {
  GREENLANE_KAFKA_BROKERS: '127.0.0.1:19092',
  GREENLANE_REDIS_URL: 'redis://127.0.0.1:6379',
  GREENLANE_DATABASE_URL: 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane',
};

async function main(): Promise<void> {
  const at = new Date().toISOString();
  const load0 = loadavg()[0];
  const ns = `bench_streams_${randomBytes(3).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-streams-'));
  const [grpcPort, gridPort, metricsPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort(2)];
  const env: NodeJS.ProcessEnv = {
    ...ENGINE_DEFAULTS,
    ...Object.fromEntries(Object.keys(ENGINE_DEFAULTS).filter((k) => process.env[k]).map((k) => [k, process.env[k]])),
    GREENLANE_NAMESPACE: ns,
    GREENLANE_DATA_DIR: dataDir,
    GREENLANE_API_TOKENS: token,
    GREENLANE_INGESTION_PROCESSES: String(processes),
    GREENLANE_LOG_LEVEL: 'warn',
  };
  const loaded = loadConfig({ env, cwd: dataDir });
  say(`namespace ${ns}: greenlane up (ingestion ×${processes}) on ${env.GREENLANE_KAFKA_BROKERS}, ${env.GREENLANE_REDIS_URL}`);
  const entry = values.cli === 'built' ? [RUN_BIN] : ['--import', TSX, DEV_BIN];
  const up = spawn(process.execPath, [...entry, 'up', '--no-web', '--grpc-port', String(grpcPort), '--grid-port', String(gridPort), '--metrics-port', String(metricsPort)], {
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let upOut = '';
  const keep = (c: Buffer) => void (upOut = (upOut + c.toString()).slice(-8000));
  up.stdout!.on('data', keep);
  up.stderr!.on('data', keep);
  const db = new pg.Client({ connectionString: env.GREENLANE_DATABASE_URL });
  const loads: ChildProcess[] = [];
  try {
    const ready = await until(() => fetch(`http://127.0.0.1:${metricsPort}/ready`).then((r) => r.ok, () => false), 120_000, 500);
    if (!ready) throw new Error(`greenlane up did not get ready: ${upOut}`);
    await db.connect();
    const table = `"${ns}".telemetry`;
    if (!(await until(() => db.query(`SELECT to_regclass('${table}') AS t`).then((r) => r.rows[0].t !== null), 60_000, 500))) throw new Error('the worker did not create its table');
    await db.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS durable_at timestamptz DEFAULT clock_timestamp()`);
    const tap = values.stages ? await kafkaTap(env.GREENLANE_KAFKA_BROKERS!, `${ns}.fleet-events`) : undefined;
    const tree = processTree(up.pid!);
    say(`up pid ${up.pid}: ingestion pids ${tree.ingestion.join(',')}, worker ${tree.worker.join(',')}`);

    const duration = warmupSec + windowSec;
    const per = Math.ceil(cars / loadProcs);
    const started: Promise<number>[] = [];
    const done: Promise<Extract<StreamsLoadMessage, { type: 'done' }>>[] = [];
    for (let i = 0, first = 0; first < cars; i++, first += per) {
      const child = fork(LOAD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      loads.push(child);
      started.push(message(child, 'started').then((m) => m.at));
      done.push(message(child, 'done'));
      child.send({ server: `127.0.0.1:${grpcPort}`, token, cars: Math.min(per, cars - first), firstCar: first, carPrefix: 'S-', hz, durationSec: duration, carsPerConnection: perConn, seed: 11 + i } satisfies StreamsLoadArgs);
    }
    const t0 = Math.min(...(await Promise.all(started)));
    say(`${cars} streams ticking at ${hz} Hz; warm-up ${warmupSec} s, window ${windowSec} s`);
    const samples: TreeSample[] = [];
    const sampler = setInterval(() => samples.push(sampleTree(up.pid!)), 1000);
    const results = await Promise.all(done);
    clearInterval(sampler);
    const sent = results.reduce((n, r) => n + r.summary.sent, 0);
    say(`load done: ${sent} readings sent; waiting for the row count to settle`);
    // Settle: until the row count holds still for 3 s, at most 60 s (the namespace's table holds only this run).
    let rows = -1;
    for (let still = 0, deadline = Date.now() + 60_000; still < 3 && Date.now() < deadline; ) {
      const n = Number((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
      still = n === rows ? still + 1 : 0;
      rows = n;
      if (n >= sent) break;
      await sleep(1000);
    }
    say(`${rows} rows persisted`);
    const w0 = t0 + warmupSec * 1000;
    const w1 = w0 + windowSec * 1000;
    const { rows: lat } = await db.query(
      `SELECT count(*)::int AS n, percentile_disc(ARRAY[0.5, 0.9, 0.99, 1.0]) WITHIN GROUP (ORDER BY lat) AS p
         FROM (SELECT extract(epoch FROM durable_at - time) * 1000 AS lat FROM ${table} WHERE time >= $1 AND time < $2 AND car_id LIKE 'S-%') t`,
      [new Date(w0).toISOString(), new Date(w1).toISOString()],
    );
    const p = (lat[0].p ?? []).map((v: unknown) => round(Number(v), 1));
    const toKafkaMs = tap ? await tap.stop(w0, w1) : undefined;
    const inWindow = samples.filter((s) => s.at >= w0 && s.at <= w1);
    const ingestion = summarize(inWindow, 'ingestion');
    const worker = summarize(inWindow, 'worker');
    const doc = {
      at,
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version, loadAvg1mAtStart: load0, loadAvg1mAtEnd: loadavg()[0] },
      settings: { cars, hz, warmupSec, windowSec, ingestionProcesses: processes, loadProcesses: loadProcs, carsPerConnection: perConn, connections: Math.ceil(cars / perConn), cli: values.cli },
      offeredPerSec: cars * hz,
      sent,
      persisted: rows,
      lost: Math.max(0, sent - rows),
      client: { errors: results.reduce((n, r) => n + r.summary.errors, 0), reconnects: results.reduce((n, r) => n + r.summary.reconnects, 0), rejected: results.reduce((n, r) => n + r.summary.rejected, 0), processes: results.map((r) => ({ cpuPercent: r.cpuPercent, elu: r.elu, loopDelayP99Ms: r.loopDelayP99Ms, sent: r.summary.sent })) },
      window: { acceptedPerSec: round(Number(lat[0].n) / windowSec), rows: Number(lat[0].n), durableLatencyMs: { p50: p[0] ?? null, p90: p[1] ?? null, p99: p[2] ?? null, max: p[3] ?? null }, ...(toKafkaMs ? { toKafkaLatencyMs: toKafkaMs } : {}) },
      ingestion,
      worker,
      targets: TARGETS,
      met: { loss: sent - rows <= TARGETS.lossEvents, p99: (p[2] ?? Infinity) <= TARGETS.p99Ms, ingestionRss: ingestion.rssMbMax <= TARGETS.ingestionRssMb },
    };
    const json = JSON.stringify(doc, null, 2);
    if (values.out) {
      mkdirSync(dirname(values.out), { recursive: true });
      writeFileSync(values.out, json + '\n');
    }
    process.stdout.write(json + '\n');
  } finally {
    for (const c of loads) if (c.exitCode === null) c.kill('SIGKILL');
    await db.end().catch(() => {});
    up.kill('SIGTERM');
    await Promise.race([new Promise((r) => up.once('exit', r)), sleep(30_000)]);
    if (up.exitCode === null) up.kill('SIGKILL');
    await Promise.race([dropNamespace(loaded, ns, silentLogger), sleep(30_000).then(() => say(`cleanup of ${ns} did not finish within 30 s`))]);
  }
}

/** RSS (sum over the role's processes: max and last) and CPU (% of one core, mean over the window). */
function summarize(samples: TreeSample[], role: 'ingestion' | 'worker') {
  const pts = samples.map((s) => s[role]);
  const first = samples[0];
  const last = samples.at(-1);
  const cpuPercent = first && last && last.at > first.at ? round(((last[role].cpuMs - first[role].cpuMs) / (last.at - first.at)) * 100, 1) : null;
  return { processes: last?.[role].pids ?? 0, rssMbMax: round(Math.max(0, ...pts.map((x) => x.rssMb))), rssMbEnd: round(last?.[role].rssMb ?? 0), cpuPercent };
}

function message<T extends StreamsLoadMessage['type']>(child: ChildProcess, type: T): Promise<Extract<StreamsLoadMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: StreamsLoadMessage) => {
      if (m.type === type) resolve(m as Extract<StreamsLoadMessage, { type: T }>);
      else if (m.type === 'failed') reject(new Error(`load process: ${m.error}`));
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`load process exited (${code}) before '${type}'`)));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    say(`failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);

/** Reading timestamp → Kafka timestamp (when ingestion's producer sent it) of every telemetry record. */
async function kafkaTap(brokers: string, topic: string) {
  const { createKafkaEventBus } = await import('../src/adapters/kafka/kafka-event-bus.js');
  const bus = await createKafkaEventBus({ brokers: brokers.split(','), clientId: 'bench-streams-tap' });
  const seen: { at: number; lag: number }[] = [];
  const sub = await bus.subscribe({ topic, groupId: `${topic}-tap`, fromBeginning: true, ephemeral: true, handleBatch: async (records) => {
    for (const r of records) {
      const e = JSON.parse(r.value) as { event_type?: string; timestamp?: number };
      if (e.event_type === 'telemetry' && typeof e.timestamp === 'number') seen.push({ at: e.timestamp, lag: r.timestamp - e.timestamp });
    }
  } });
  return {
    async stop(w0: number, w1: number) {
      await sub.stop();
      await bus.close();
      const lags = seen.filter((x) => x.at >= w0 && x.at < w1).map((x) => x.lag).sort((a, b) => a - b);
      const q = (f: number) => (lags.length ? lags[Math.min(lags.length - 1, Math.floor(f * lags.length))] : null);
      return { n: lags.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lags.at(-1) ?? null };
    },
  };
}
