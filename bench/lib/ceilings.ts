/**
 * Raw ceilings of the same engines, measured in the same run as the pipeline so ratios compare
 * like with like on a shared, noisy machine. Each probe is bounded and returns null (with the
 * reason on stderr) rather than failing the whole benchmark.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { acquirePglite, createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { createKafkaEventBus } from '../../src/adapters/kafka/kafka-event-bus.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { createRedisFleetState } from '../../src/adapters/redis/redis-fleet-state.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import type { TelemetryRow } from '../../src/ports/store.js';
import { redisUpsertVariants } from './redis-variants.js';
import { fillTopic, workerDrainRate } from './worker-drain.js';
import { round, say } from './stats.js';

const run = promisify(execFile);

export const CEILING_ROWS = 200_000;

export interface ExternalEngines {
  namespace: string;
  kafkaBrokers: string[];
  redisUrl: string;
  databaseUrl: string;
}

export interface ExternalCeilings {
  /** Kafka's own Java producer (ProducerPerformance, 120-byte records, acks=all). */
  kafkaProducerMsgPerSec: number | null;
  /** Our Kafka EventBus (kafkajs, idempotent, acks=-1), sequential sends of 2,000 telemetry records like ingestion's flushes. */
  kafkajsPublishMsgPerSec: number | null;
  /** kafkajs consumer through our EventBus, no-op handler, same records read back. */
  kafkajsConsumeMsgPerSec: number | null;
  /** redis-benchmark SET, 16-deep pipeline. */
  redisOpsPerSec: number | null;
  /** redis-benchmark GEOADD, 16-deep pipeline. */
  redisGeoaddOpsPerSec: number | null;
  /** Our Redis FleetState.upsertCars (GEOADD + HSET per car, pipelined), batches of 2,000 cars. */
  redisFleetUpsertCarsPerSec: number | null;
  /** COPY FROM STDIN (pg-copy-streams) into a temp table of the telemetry shape (same indexes; temp tables skip the WAL). */
  pgCopyRowsPerSec: number | null;
  /** The same COPY into the real telemetry table (WAL, both indexes): what a COPY-based worker write could reach. */
  pgCopyIntoTelemetryRowsPerSec: number | null;
  /** Our Store.insertTelemetry (unnest batches of 1,000, idempotent on event_id), one caller like the worker. */
  pgUnnestRowsPerSec: number | null;
  /** The same with 4 concurrent callers over the store's pool: what parallel chunks would buy. */
  pgUnnestParallel4RowsPerSec: number | null;
  /** Prototypes of a cheaper upsertCars (bench/lib/redis-variants.ts), same batches. */
  redisUpsertVariantsCarsPerSec: Record<string, number | null>;
  /** The worker alone (kafkajs consumer → parse/validate/price → Store), draining 200k events already on Kafka; default maxBatch 1000. */
  workerDrainRowsPerSec: number | null;
  /** The same with WorkerDeps.maxBatch 5000. */
  workerDrainMaxBatch5000RowsPerSec: number | null;
}

export interface EmbeddedCeilings {
  /** Our Store.insertTelemetry on in-memory PGlite, one caller. */
  pgliteInsertRowsPerSec: number | null;
  /** The worker alone (memory bus → parse/validate/price → PGlite), draining 200k events; default maxBatch 1000. */
  workerDrainRowsPerSec: number | null;
  /** The same with WorkerDeps.maxBatch 5000. */
  workerDrainMaxBatch5000RowsPerSec: number | null;
}

export function telemetryRows(n: number, prefix: string, now = Date.now()): TelemetryRow[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `${prefix}-${i}-${Math.random().toString(36).slice(2, 10)}`,
    carId: `CAR-${String(i % 5000).padStart(4, '0')}`,
    time: now - (n - i),
    lat: 40.7 + (i % 1000) / 10_000,
    lon: -74.0 + (i % 700) / 10_000,
    battery: 50 + (i % 50),
    velocity: i % 60,
    priceRate: 0.21,
  }));
}

/** Runs fn, times it, and turns `count` into a per-second rate; null (and a note) on failure. */
async function timed(name: string, count: number, fn: () => Promise<unknown>): Promise<number | null> {
  try {
    const t0 = performance.now();
    await fn();
    const rate = round(count / ((performance.now() - t0) / 1000));
    say(`  ceiling ${name}: ${rate}/s`);
    return rate;
  } catch (err) {
    say(`  ceiling ${name} failed: ${(err as Error).message}`);
    return null;
  }
}

export async function embeddedCeilings(namespace: string): Promise<EmbeddedCeilings> {
  const schema = `${namespace}_ceil`;
  const store = await createPgliteStore({ schema });
  // The store's PGlite is the process-wide in-memory instance; borrow it to empty the table.
  const pglite = await acquirePglite(undefined);
  const truncate = async () => void (await pglite.db.query(`TRUNCATE "${schema}".telemetry`));
  try {
    await store.migrate();
    const rows = telemetryRows(CEILING_ROWS, 'pglite');
    const pgliteInsertRowsPerSec = await timed('PGlite insertTelemetry', rows.length, () => store.insertTelemetry(rows));
    const drain = async (maxBatch: number | undefined, label: string) => {
      const bus = createMemoryEventBus({ maxRetainedPerPartition: CEILING_ROWS });
      const ns = `${namespace}_w${maxBatch ?? ''}`;
      await fillTopic(bus, ns, telemetryRows(CEILING_ROWS, `drain${maxBatch ?? ''}`));
      try {
        return await workerDrainRate({ bus, store, namespace: ns, groupId: `${ns}-drain`, expected: CEILING_ROWS, maxBatch, label });
      } finally {
        await bus.close();
      }
    };
    await truncate();
    const workerDrainRowsPerSec = await drain(undefined, 'worker drain (memory bus → PGlite)');
    await truncate();
    const workerDrainMaxBatch5000RowsPerSec = await drain(5000, 'worker drain, maxBatch 5000');
    return { pgliteInsertRowsPerSec, workerDrainRowsPerSec, workerDrainMaxBatch5000RowsPerSec };
  } finally {
    await pglite.release();
    await store.close();
  }
}

export async function externalCeilings(e: ExternalEngines): Promise<ExternalCeilings> {
  // One at a time: they share the machine with each other and with the engines.
  const kafka = await kafkaCeilings(e);
  const redis = await redisCeilings(e);
  const postgres = await postgresCeilings(e);
  const worker = await workerDrainCeilings(e);
  return { ...kafka, ...redis, ...postgres, ...worker };
}

// ---- Kafka

function kafkaLibs(): string | null {
  const base = process.env.GREENLANE_ENGINES_DIR || join(homedir(), '.cache', 'greenlane-engines');
  if (!existsSync(base)) return null;
  const dirs = readdirSync(base).filter((d) => /^kafka-\d/.test(d) && existsSync(join(base, d, 'libs'))).sort();
  return dirs.length ? join(base, dirs[dirs.length - 1]) : null;
}

async function kafkaCeilings(e: ExternalEngines): Promise<Pick<ExternalCeilings, 'kafkaProducerMsgPerSec' | 'kafkajsPublishMsgPerSec' | 'kafkajsConsumeMsgPerSec'>> {
  const topic = `${e.namespace}.perf`;
  // Filled here, drained again by the worker-drain ceiling.
  const jsTopic = topicName(drainNamespace(e), TOPIC_EVENTS);
  const bus = await createKafkaEventBus({ brokers: e.kafkaBrokers, clientId: `${e.namespace}-ceilings` });
  try {
    await bus.ensureTopics([topic, jsTopic]);
    const kafkaProducerMsgPerSec = await producerPerformance(topic, e.kafkaBrokers[0]);
    const rows = telemetryRows(CEILING_ROWS, 'kafka');
    const kafkajsPublishMsgPerSec = await timed('kafkajs publish (our bus)', rows.length, () => fillTopic(bus, drainNamespace(e), rows));
    const kafkajsConsumeMsgPerSec = await consumeRate(bus, jsTopic, `${e.namespace}-ceiling`, rows.length);
    return { kafkaProducerMsgPerSec, kafkajsPublishMsgPerSec, kafkajsConsumeMsgPerSec };
  } finally {
    await bus.close();
  }
}

/** Kafka's ProducerPerformance from the cached jars; parses "N records sent, R records/sec …". */
async function producerPerformance(topic: string, broker: string): Promise<number | null> {
  const home = kafkaLibs();
  if (!home) {
    say('  ceiling kafka ProducerPerformance skipped: no Kafka jars under $GREENLANE_ENGINES_DIR (run scripts/engines.sh install kafka)');
    return null;
  }
  const args = [
    '-Xmx256m',
    `-Dlog4j.configuration=file:${join(home, 'tools-log4j.properties')}`,
    '-cp',
    `${join(home, 'libs')}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    ...['--topic', topic, '--num-records', String(CEILING_ROWS), '--record-size', '120', '--throughput', '-1'],
    ...['--producer-props', `bootstrap.servers=${broker}`, 'acks=all'],
  ];
  try {
    const { stdout } = await run('java', args, { timeout: 120_000, maxBuffer: 4 << 20 });
    const m = /(\d+) records sent, ([\d.]+) records\/sec[^\n]*?([\d.]+) ms avg latency/.exec(stdout);
    if (!m) throw new Error(`unexpected output: ${stdout.trim().split('\n').pop()}`);
    say(`  ceiling kafka ProducerPerformance: ${round(Number(m[2]))}/s (avg latency ${m[3]} ms)`);
    return round(Number(m[2]));
  } catch (err) {
    say(`  ceiling kafka ProducerPerformance failed: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

/** Reads `expected` records with a fresh group; timed from the first record so the group join is not counted. */
async function consumeRate(bus: Awaited<ReturnType<typeof createKafkaEventBus>>, topic: string, groupId: string, expected: number): Promise<number | null> {
  let n = 0;
  let first = 0;
  let last = 0;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const sub = await bus.subscribe({
    topic,
    groupId,
    fromBeginning: true,
    maxBatch: 1000,
    handleBatch: async (records) => {
      if (!first) first = performance.now();
      n += records.length;
      last = performance.now();
      if (n >= expected) resolve();
    },
  });
  const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
  await sub.stop();
  if (!finished || last <= first) {
    say(`  ceiling kafkajs consume failed: read ${n}/${expected} in 60 s`);
    return null;
  }
  const rate = round(n / ((last - first) / 1000));
  say(`  ceiling kafkajs consume (our bus): ${rate}/s`);
  return rate;
}

// ---- Redis

async function redisBenchmark(url: string, command: string[], random = false): Promise<number | null> {
  const u = new URL(url);
  const args = ['-h', u.hostname, '-p', u.port || '6379', '--csv', '-n', '100000', '-P', '16', ...(random ? ['-r', '100000'] : []), ...command];
  if (u.password) args.unshift('-a', decodeURIComponent(u.password));
  try {
    const { stdout } = await run('redis-benchmark', args, { timeout: 60_000 });
    const line = stdout.trim().split('\n').pop() ?? '';
    const rps = Number(line.split('","')[1]);
    if (!Number.isFinite(rps) || rps <= 0) throw new Error(`unexpected output: ${line}`);
    say(`  ceiling redis-benchmark ${command[0]}: ${round(rps)}/s`);
    return round(rps);
  } catch (err) {
    say(`  ceiling redis-benchmark ${command[0]} failed: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

async function redisCeilings(e: ExternalEngines): Promise<Pick<ExternalCeilings, 'redisOpsPerSec' | 'redisGeoaddOpsPerSec' | 'redisFleetUpsertCarsPerSec' | 'redisUpsertVariantsCarsPerSec'>> {
  // Keys live under the namespace, so the namespace cleanup removes them.
  const redisOpsPerSec = await redisBenchmark(e.redisUrl, ['set', `${e.namespace}:bench:k`, 'v']);
  const redisGeoaddOpsPerSec = await redisBenchmark(e.redisUrl, ['geoadd', `${e.namespace}:bench:geo`, '-73.98', '40.75', '__rand_int__'], true);
  let redisFleetUpsertCarsPerSec: number | null = null;
  const fleet = await createRedisFleetState({ url: e.redisUrl, namespace: e.namespace });
  try {
    const cars = telemetryRows(CEILING_ROWS, 'fleet').map((r, i) => ({ carId: `CAR-${i}`, lat: r.lat, lon: r.lon, battery: r.battery, velocity: r.velocity, timestamp: r.time }));
    redisFleetUpsertCarsPerSec = await timed('redis FleetState.upsertCars (ours)', cars.length, async () => {
      for (let i = 0; i < cars.length; i += 2000) await fleet.upsertCars(cars.slice(i, i + 2000));
    });
  } finally {
    await fleet.close();
  }
  const redisUpsertVariantsCarsPerSec: Record<string, number | null> = {};
  const proto = await redisUpsertVariants(e.redisUrl, e.namespace);
  try {
    const cars = telemetryRows(CEILING_ROWS, 'fleetv').map((r, i) => ({ carId: `CAR-${i}`, lat: r.lat, lon: r.lon, battery: r.battery, velocity: r.velocity, timestamp: r.time }));
    for (const v of proto.variants) {
      redisUpsertVariantsCarsPerSec[v.name] = await timed(`redis upsertCars prototype ${v.name}`, cars.length, async () => {
        for (let i = 0; i < cars.length; i += 2000) await v.upsert(cars.slice(i, i + 2000));
      });
    }
  } finally {
    proto.close();
  }
  return { redisOpsPerSec, redisGeoaddOpsPerSec, redisFleetUpsertCarsPerSec, redisUpsertVariantsCarsPerSec };
}

// ---- PostgreSQL

async function postgresCeilings(e: ExternalEngines): Promise<Pick<ExternalCeilings, 'pgCopyRowsPerSec' | 'pgCopyIntoTelemetryRowsPerSec' | 'pgUnnestRowsPerSec' | 'pgUnnestParallel4RowsPerSec'>> {
  // The namespace's own schema (the stack created it; the namespace cleanup drops it).
  const table = `"${e.namespace}".telemetry`;
  const store = await createPostgresStore({ url: e.databaseUrl, schema: e.namespace });
  const client = new pg.Client({ connectionString: e.databaseUrl });
  await client.connect();
  try {
    await store.migrate();
    await client.query(`CREATE TEMP TABLE bench_copy (LIKE ${table} INCLUDING ALL)`);
    const pgCopyRowsPerSec = await copyCeiling(client, 'bench_copy', 'postgres COPY (temp table)');
    await client.query(`TRUNCATE ${table}`);
    const pgCopyIntoTelemetryRowsPerSec = await copyCeiling(client, table, 'postgres COPY (telemetry table)');
    await client.query(`TRUNCATE ${table}`);
    const rows = telemetryRows(CEILING_ROWS, 'unnest');
    const pgUnnestRowsPerSec = await timed('postgres Store.insertTelemetry, 1 caller', rows.length, () => store.insertTelemetry(rows));
    await client.query(`TRUNCATE ${table}`);
    const more = telemetryRows(CEILING_ROWS, 'unnest4');
    const quarter = CEILING_ROWS / 4;
    const pgUnnestParallel4RowsPerSec = await timed('postgres Store.insertTelemetry, 4 callers', more.length, () =>
      Promise.all([0, 1, 2, 3].map((i) => store.insertTelemetry(more.slice(i * quarter, (i + 1) * quarter)))),
    );
    return { pgCopyRowsPerSec, pgCopyIntoTelemetryRowsPerSec, pgUnnestRowsPerSec, pgUnnestParallel4RowsPerSec };
  } finally {
    await client.end();
    await store.close();
  }
}

async function copyCeiling(client: pg.Client, table: string, name: string): Promise<number | null> {
  const rows = telemetryRows(CEILING_ROWS, 'copy');
  const chunks = function* () {
    for (let i = 0; i < rows.length; i += 1000) {
      yield rows
        .slice(i, i + 1000)
        .map((r) => `${new Date(r.time).toISOString()}\t${r.eventId}\t${r.carId}\t${r.lat}\t${r.lon}\t${r.battery}\t${r.velocity}\t${r.priceRate}\n`)
        .join('');
    }
  };
  const columns = '(time, event_id, car_id, lat, lon, battery, velocity, price_rate)';
  return timed(name, rows.length, () => pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} ${columns} FROM STDIN`))));
}

// ---- the worker stage alone

/** Topics named `<namespace>.w.…` so the namespace cleanup (prefix `<namespace>.`) removes them. */
const drainNamespace = (e: ExternalEngines) => `${e.namespace}.w`;

async function workerDrainCeilings(e: ExternalEngines): Promise<Pick<ExternalCeilings, 'workerDrainRowsPerSec' | 'workerDrainMaxBatch5000RowsPerSec'>> {
  const bus = await createKafkaEventBus({ brokers: e.kafkaBrokers, clientId: `${e.namespace}-drain` });
  const store = await createPostgresStore({ url: e.databaseUrl, schema: e.namespace });
  const client = new pg.Client({ connectionString: e.databaseUrl });
  await client.connect();
  try {
    const ns = drainNamespace(e);
    const run = async (maxBatch: number | undefined, label: string) => {
      await client.query(`TRUNCATE "${e.namespace}".telemetry`);
      return workerDrainRate({ bus, store, namespace: ns, groupId: `${e.namespace}-drain${maxBatch ?? ''}`, expected: CEILING_ROWS, maxBatch, label });
    };
    const workerDrainRowsPerSec = await run(undefined, 'worker drain (Kafka → PostgreSQL)');
    const workerDrainMaxBatch5000RowsPerSec = await run(5000, 'worker drain, maxBatch 5000');
    return { workerDrainRowsPerSec, workerDrainMaxBatch5000RowsPerSec };
  } finally {
    await client.end();
    await store.close();
    await bus.close();
  }
}
