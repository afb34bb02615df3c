import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { acquirePglite } from '../../src/adapters/pglite/pglite-store.js';
import { queryPgliteThread } from '../../src/adapters/pglite/threaded-store.js';
import { loadConfig, type LoadedConfig, type Mode } from '../../src/config/load.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import type { Logger } from '../../src/observability/logger.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { startStack, type ServiceName } from '../../src/app/stack.js';
import { dbDurability, type DbDurability } from './durability.js';
import { embeddedCeilings, externalCeilings, type EmbeddedCeilings, type ExternalCeilings } from './ceilings.js';
import { instrument } from './probe.js';
import { describeStep, runStep, type StepResult } from './step.js';
import { ratio, say, waitForQuiet } from './stats.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

/** What the engines.sh defaults are; GREENLANE_* in the environment wins. */
export const LOCAL_ENGINES = {
  GREENLANE_KAFKA_BROKERS: '127.0.0.1:19092',
  GREENLANE_REDIS_URL: 'redis://127.0.0.1:6379',
  GREENLANE_DATABASE_URL: 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane',
};

export interface RunSettings {
  rates: number[];
  windowSec: number;
  settleMs: number;
  hz: number;
  loadProcesses: number;
  connectionsPerProcess: number;
  batchSize: number;
  /** Offered rate whose step is CPU-profiled (0: none). */
  profileRate: number;
  /** External mode: run the worker as its own `greenlane worker` process, as `greenlane up` does. */
  workerProcess: boolean;
  /** Embedded mode: PGlite on its own thread (what `greenlane up` does) or on the stack's thread. */
  pgliteThread: boolean;
  logger: Logger;
}

export interface ModeResult {
  mode: Mode;
  namespace: string;
  /** Where the worker ran: in the stack's process (one Node thread with ingestion) or its own. */
  worker: 'in-process' | 'own-process';
  steps: StepResult[];
  /** Highest offered rate with zero loss and ≥ 95 % of it durable per second. */
  sustainedEventsPerSec: number;
  latencyAt5k: { p50Ms: number | null; p99Ms: number | null };
  ceilings: EmbeddedCeilings | ExternalCeilings;
  ratios: Record<string, number | null>;
  /** Step attempts re-run because neighbours starved the stack (summary only). */
  contendedAttempts?: ReturnType<typeof brief>[];
  /** Share of a core this process got just before the ceilings ran (1 = a whole core). */
  cpuShareBeforeCeilings?: number;
  error?: string;
}

function envFor(mode: Mode, namespace: string, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    GREENLANE_NAMESPACE: namespace,
    GREENLANE_DATA_DIR: dataDir,
    GREENLANE_GRPC_HOST: '127.0.0.1',
    GREENLANE_GRPC_PORT: '0',
    GREENLANE_GRID_PORT: '0',
    GREENLANE_LOG_LEVEL: 'warn',
  };
  if (mode === 'external') {
    for (const [k, v] of Object.entries(LOCAL_ENGINES)) env[k] = process.env[k] || v;
    env.GREENLANE_API_TOKENS = randomBytes(16).toString('hex');
  }
  return env;
}

interface TelemetryTable {
  truncate(): Promise<void>;
  count(): Promise<number>;
  /** Set with `durable`: rows carry their write time, read back by SQL. */
  durability?: DbDurability;
  close(): Promise<void>;
}

/** Empties and counts the namespace's telemetry table on whichever database the mode uses. */
async function telemetryTable(loaded: LoadedConfig, namespace: string, durable: boolean, pgliteThread: boolean): Promise<TelemetryTable> {
  const table = `"${namespace}".telemetry`;
  const count = `SELECT count(*)::int AS n FROM ${table}`;
  if (loaded.config.databaseUrl) {
    const client = new pg.Client({ connectionString: loaded.config.databaseUrl });
    await client.connect();
    return {
      truncate: async () => void (await client.query(`TRUNCATE ${table}`)),
      count: async () => (await client.query<{ n: number }>(count)).rows[0].n,
      durability: durable ? await dbDurability(client, namespace) : undefined,
      close: () => client.end(),
    };
  }
  // The stack's ephemeral PGlite: the in-memory instance on its thread (src/adapters/pglite/threaded-store.ts),
  // or the process-wide one on this thread, of which a reference is borrowed.
  if (pgliteThread) {
    const query = <R>(sql: string) => queryPgliteThread(undefined, sql) as Promise<R[]>;
    return { truncate: async () => void (await query(`TRUNCATE ${table}`)), count: async () => (await query<{ n: number }>(count))[0].n, close: async () => {} };
  }
  const { db, release } = await acquirePglite(undefined);
  return { truncate: async () => void (await db.query(`TRUNCATE ${table}`)), count: async () => (await db.query<{ n: number }>(count)).rows[0].n, close: release };
}

export async function runMode(mode: Mode, s: RunSettings): Promise<ModeResult> {
  const namespace = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'greenlane-bench-'));
  const env = envFor(mode, namespace, dataDir);
  // cwd = the temp dir, so no greenlane.config.json of the checkout leaks in.
  const loaded = loadConfig({ env, cwd: dataDir });
  const ownWorker = mode === 'external' && s.workerProcess;
  const steps: StepResult[] = [];
  /** Attempts discarded because the machine starved the stack (kept for the record). */
  const contended: StepResult[] = [];
  let error: string | undefined;
  let ceilings: EmbeddedCeilings | ExternalCeilings | undefined;
  let cpuShareBeforeCeilings: number | undefined;
  say(`${mode}: starting the stack in namespace ${namespace}${ownWorker ? ', the worker in its own process' : ''}`);
  try {
    const registry = new Registry();
    const services: ServiceName[] = ownWorker ? ['grid', 'ingestion'] : ['grid', 'worker', 'ingestion'];
    const stack = await startStack({ loaded, logger: s.logger, registry, services, ephemeralStore: true, storeThread: s.pgliteThread });
    let worker: WorkerProcess | undefined;
    let db: TelemetryTable;
    try {
      // The worker process migrates the schema, so the table exists once it consumes.
      if (ownWorker) worker = await startWorkerProcess({ ...env, GREENLANE_GRID_URL: stack.grid!.url, GREENLANE_METRICS_PORT: '0' }, dataDir);
      db = await telemetryTable(loaded, namespace, ownWorker, s.pgliteThread);
    } catch (err) {
      await stack.stop({ drainMs: 0 });
      await worker?.stop();
      throw err;
    }
    try {
      const probe = instrument(stack, topicName(namespace, TOPIC_EVENTS));
      let firstCar = 0;
      for (let i = 0, retried = false; i < s.rates.length; i++) {
        const rate = s.rates[i];
        say(`${mode}: step ${rate} events/s for ${s.windowSec} s…`);
        const step: StepResult = await runStep({
          stack,
          probe,
          truncate: db.truncate,
          count: db.count,
          durability: db.durability,
          workerProcess: worker,
          rate,
          windowSec: s.windowSec,
          settleMs: s.settleMs,
          hz: s.hz,
          loadProcesses: s.loadProcesses,
          connectionsPerProcess: s.connectionsPerProcess,
          batchSize: s.batchSize,
          firstCar,
          profile: s.profileRate === rate,
        });
        firstCar += step.cars;
        say(`${mode}:   ${describeStep(step)}`);
        if (step.profile) say(`${mode}:   profile (busy share %): ${JSON.stringify(step.profile.busyShare)}`);
        // A step the neighbours starved (the thread got < 0.6 of a core while busy) is run once more.
        if (!step.sustained && step.stack.cpuShareWhileBusy < 0.6 && !retried) {
          say(`${mode}:   the stack got only ${step.stack.cpuShareWhileBusy} of a core while busy; running the step again`);
          contended.push(step);
          retried = true;
          i--;
          continue;
        }
        retried = false;
        steps.push(step);
        if (!step.sustained) break; // stop rising once a step loses events or falls behind
      }
    } catch (err) {
      error = (err as Error).message;
      say(`${mode}: step failed: ${error}`);
    } finally {
      await db.close();
      await stack.stop({ drainMs: 5_000 });
      await worker?.stop();
    }
    cpuShareBeforeCeilings = (await waitForQuiet()).share;
    say(`${mode}: measuring the engines' raw ceilings (cpu share ${cpuShareBeforeCeilings})…`);
    ceilings =
      mode === 'embedded'
        ? await embeddedCeilings(namespace)
        : await externalCeilings({ namespace, kafkaBrokers: loaded.config.kafkaBrokers!, redisUrl: loaded.config.redisUrl!, databaseUrl: loaded.config.databaseUrl! });
  } catch (err) {
    error ??= (err as Error).message;
    say(`${mode}: failed: ${error}`);
  } finally {
    if (mode === 'external') await dropNamespace(loaded, namespace, s.logger);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { ...summarise(mode, namespace, ownWorker, steps, ceilings ?? {}, error), cpuShareBeforeCeilings, contendedAttempts: contended.map(brief) };
}

function summarise(mode: Mode, namespace: string, ownWorker: boolean, steps: StepResult[], ceilings: Partial<EmbeddedCeilings & ExternalCeilings>, error?: string): ModeResult {
  const sustained = steps.filter((st) => st.sustained).reduce((best, st) => Math.max(best, st.offeredPerSec), 0);
  const at5k = steps.find((st) => st.offeredPerSec === 5000);
  const c = ceilings;
  const ratios: Record<string, number | null> =
    mode === 'embedded'
      ? {
          pipelineVsPgliteInsert: ratio(sustained, c.pgliteInsertRowsPerSec),
          pipelineVsWorkerDrain: ratio(sustained, c.workerDrainRowsPerSec),
          workerDrainVsPgliteInsert: ratio(c.workerDrainRowsPerSec, c.pgliteInsertRowsPerSec),
        }
      : {
          pipelineVsKafka: ratio(sustained, c.kafkaProducerMsgPerSec),
          pipelineVsKafkajsPublish: ratio(sustained, c.kafkajsPublishMsgPerSec),
          pipelineVsKafkajsConsume: ratio(sustained, c.kafkajsConsumeMsgPerSec),
          pipelineVsRedisGeoadd: ratio(sustained, c.redisGeoaddOpsPerSec),
          pipelineVsRedisFleetUpsert: ratio(sustained, c.redisFleetUpsertCarsPerSec),
          pipelineVsPgUnnest: ratio(sustained, c.pgUnnestRowsPerSec),
          pipelineVsPgCopy: ratio(sustained, c.pgCopyRowsPerSec),
          kafkajsVsKafkaJavaProducer: ratio(c.kafkajsPublishMsgPerSec, c.kafkaProducerMsgPerSec),
          pipelineVsWorkerDrain: ratio(sustained, c.workerDrainRowsPerSec),
          workerDrainVsPgUnnest: ratio(c.workerDrainRowsPerSec, c.pgUnnestRowsPerSec),
          workerDrainMaxBatch5000VsDefault: ratio(c.workerDrainMaxBatch5000RowsPerSec, c.workerDrainRowsPerSec),
          pgUnnestParallel4VsSerial: ratio(c.pgUnnestParallel4RowsPerSec, c.pgUnnestRowsPerSec),
          redisUpsertLuaVsCurrent: ratio(c.redisUpsertVariantsCarsPerSec?.variadicGeoaddLuaHset, c.redisFleetUpsertCarsPerSec),
        };
  return {
    mode,
    namespace,
    worker: ownWorker ? 'own-process' : 'in-process',
    steps,
    sustainedEventsPerSec: sustained,
    latencyAt5k: { p50Ms: at5k?.latencyMs.p50 ?? null, p99Ms: at5k?.latencyMs.p99 ?? null },
    ceilings: ceilings as EmbeddedCeilings | ExternalCeilings,
    ratios,
    ...(error ? { error } : {}),
  };
}


function brief(st: StepResult) {
  return { offeredPerSec: st.offeredPerSec, throughputPerSec: st.throughputPerSec, loss: st.loss, latencyMs: st.latencyMs, cpuShareWhileBusy: st.stack.cpuShareWhileBusy, machineLoadAvg1m: st.machineLoadAvg1m };
}
