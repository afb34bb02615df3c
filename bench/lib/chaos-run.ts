/**
 * One chaos run: `greenlane ingestion` and `greenlane worker` as processes in a fresh namespace on
 * the real engines, the simulator (batch mode, acknowledged) as a steady load, a list of faults
 * applied one after the other (each measured: how long it lasted and how long until telemetry was
 * acknowledged and persisted again), then the load stops, the worker catches up and the audit runs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { dropRedisNamespace } from '../../src/adapters/redis/cleanup.js';
import { DEFAULT_STATIONS_FILE } from '../../src/app/stack.js';
import { readStationsFile } from '../../src/config/stations-file.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { readingEventId } from '../../src/domain/telemetry.js';
import type { Logger } from '../../src/observability/logger.js';
import { createSimulator, type SimSummary } from '../../src/sim/simulator.js';
import { auditChaos, type ChaosAudit } from './chaos-audit.js';
import { killClusterNode, type ClusterNode } from './chaos-cluster.js';
import { createService, freePort, startEngine, stopEngine, type EngineName, type Service, type ServiceName } from './chaos-procs.js';

/**
 * `kill`: that service is also killed (SIGKILL) halfway through the outage and started once the engine is back.
 * `redis-flush`: every key of the run's namespace is deleted while holds are active (data loss without
 * touching the shared engine's other namespaces); with `kill`, that service is killed before and started
 * after, so it loads its stations onto the empty state itself (the stations are then present again).
 */
export type Fault =
  | { kind: 'kill9'; service: ServiceName }
  | { kind: 'engine'; engine: EngineName; downSec: number; kill?: ServiceName }
  | { kind: 'redis-flush'; kill?: ServiceName }
  | { kind: 'poison' }
  /** kill -9 a node of the clusters (bench/lib/chaos-cluster.ts); started again once telemetry flows again. */
  | { kind: 'node-kill'; node: ClusterNode };

export interface ChaosOptions {
  namespace: string;
  brokers: string[];
  redisUrl: string;
  databaseUrl: string;
  faults: Fault[];
  cars?: number;
  hz?: number;
  /** Steady load before the first fault and between faults, seconds. */
  steadySec?: number;
  /** Longest wait for recovery after a fault, seconds. */
  recoverTimeoutSec?: number;
  logger: Logger;
  /** Progress lines. */
  say?: (line: string) => void;
  /** A folder for the services' output (ingestion.log, worker.log), kept across restarts. */
  logDir?: string;
}

export interface FaultResult {
  fault: string;
  /** From the fault to the service or engine being back, ms. */
  downMs: number;
  /** From the service or engine being back to new telemetry acknowledged and persisted again, ms (null: not within the timeout). */
  recoverMs: number | null;
  /** node-kill: from the kill to the new leader / promoted replica (-1: none within 60 s); downMs is then the same. */
  failoverMs?: number;
}

export interface ChaosResult {
  namespace: string;
  faults: FaultResult[];
  audit: ChaosAudit;
  sim: SimSummary;
  durationSec: number;
  /** Times each service exited on its own and was started again (a crash, not a fault applied here). */
  unexpectedExits: Record<ServiceName, number>;
}

const POISON = (ns: string) => [
  { id: `poison-${ns}-time`, partition: 0, value: `{"event_id":"poison-${ns}-time","event_type":"telemetry","car_id":"P","lat":40.7,"lon":-73.9,"battery":50,"velocity":0,"timestamp":100000000000000000}` },
  { id: `poison-${ns}-nul`, partition: 1, value: JSON.stringify({ event_id: `poison-${ns}-nul`, event_type: 'telemetry', car_id: 'P\u0000', lat: 40.7, lon: -73.9, battery: 50, velocity: 0, timestamp: Date.now() }) },
  { id: `poison-${ns}-json`, partition: 2, value: `{"event_id":"poison-${ns}-json", not json` },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const say = o.say ?? (() => {});
  const t0 = Date.now();
  const token = `chaos-${randomBytes(12).toString('hex')}`;
  const grpcPort = await freePort();
  const env = {
    GREENLANE_KAFKA_BROKERS: o.brokers.join(','),
    GREENLANE_REDIS_URL: o.redisUrl,
    GREENLANE_DATABASE_URL: o.databaseUrl,
    GREENLANE_NAMESPACE: o.namespace,
    GREENLANE_API_TOKENS: token,
    GREENLANE_GRPC_PORT: String(grpcPort),
    GREENLANE_GRID_URL: 'http://127.0.0.1:9', // nothing there: the worker prices from its local curve
    GREENLANE_LOG_LEVEL: 'warn',
  };
  const onUnexpectedExit = (name: ServiceName, code: number | null, signal: string | null) => say(`  ! ${name} exited on its own (${code ?? signal}); starting it again`);
  const services: Record<ServiceName, Service> = {
    // Metrics on ephemeral ports (0): the worker serves on base + 1, so a free base port picked for it
    // could land on the port just picked for ingestion (CI saw EADDRINUSE that way).
    ingestion: createService('ingestion', { ...env, GREENLANE_METRICS_PORT: '0' }, { logFile: o.logDir && join(o.logDir, 'ingestion.log'), onUnexpectedExit }),
    worker: createService('worker', { ...env, GREENLANE_METRICS_PORT: '0' }, { logFile: o.logDir && join(o.logDir, 'worker.log'), onUnexpectedExit }),
  };
  await services.ingestion.start();
  await services.worker.start();
  say(`chaos ${o.namespace}: ingestion :${grpcPort} and worker up`);

  const acked = new Set<string>();
  const sim = createSimulator({
    cars: o.cars ?? 100,
    hz: o.hz ?? 2,
    batch: true,
    server: `127.0.0.1:${grpcPort}`,
    token,
    logger: o.logger,
    carsPerConnection: 50,
    initialBattery: [8, 40],
    connectTimeoutMs: 30_000,
    onAcked: (cars) => {
      for (const c of cars) acked.add(readingEventId(c));
    },
  });
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 1 });
  db.on('error', () => {}); // an idle connection dropped by a PostgreSQL restart: the next query reconnects
  const persisted = async () => {
    try {
      return Number((await db.query(`SELECT count(*) AS n FROM ${quoteIdent(o.namespace)}.telemetry`)).rows[0].n);
    } catch {
      return -1;
    }
  };
  const progress = { acked: () => acked.size, persisted };
  const results: FaultResult[] = [];
  const poisonIds: string[] = [];
  try {
    await sim.start();
    await sleep((o.steadySec ?? 5) * 1000);
    for (const fault of o.faults) {
      const r = await applyFault(fault, { services, progress, o, poisonIds });
      results.push(r);
      say(`  ${r.fault}: down ${r.downMs} ms, recovered ${r.recoverMs === null ? 'NOT' : `${r.recoverMs} ms`} after`);
      await sleep((o.steadySec ?? 5) * 1000);
    }
    const summary = await sim.stop();
    await waitPersisted(acked, persisted, 90_000);
    const ports = new Map((await readStationsFile(DEFAULT_STATIONS_FILE())).map((s) => [s.id, s.ports]));
    const audit = await auditChaos({ namespace: o.namespace, brokers: o.brokers, databaseUrl: o.databaseUrl, acked, poisonIds, ports });
    return { namespace: o.namespace, faults: results, audit, sim: summary, durationSec: Math.round((Date.now() - t0) / 1000), unexpectedExits: { ingestion: services.ingestion.unexpectedExits, worker: services.worker.unexpectedExits } };
  } finally {
    await sim.stop();
    await db.end();
    await Promise.all([services.ingestion.stop(), services.worker.stop()]);
  }
}

interface FaultCtx {
  services: Record<ServiceName, Service>;
  progress: { acked(): number; persisted(): Promise<number> };
  o: ChaosOptions;
  poisonIds: string[];
}

async function applyFault(fault: Fault, ctx: FaultCtx): Promise<FaultResult> {
  const start = Date.now();
  let name: string;
  if (fault.kind === 'kill9') {
    name = `kill -9 ${fault.service}`;
    await ctx.services[fault.service].kill9();
    await ctx.services[fault.service].start();
  } else if (fault.kind === 'engine') {
    name = `${fault.engine} down ${fault.downSec} s${fault.kill ? ` + kill -9 ${fault.kill}` : ''}`;
    // The engines are shared: whatever happens during the outage, the engine is started again.
    try {
      await stopEngine(fault.engine);
      await sleep((fault.downSec * 1000) / 2);
      if (fault.kill) await ctx.services[fault.kill].kill9();
      await sleep((fault.downSec * 1000) / 2);
    } finally {
      await startEngine(fault.engine);
    }
    if (fault.kill) await ctx.services[fault.kill].start();
  } else if (fault.kind === 'redis-flush') {
    name = `redis data lost${fault.kill ? ` + kill -9 ${fault.kill}` : ''}`;
    if (fault.kill) await ctx.services[fault.kill].kill9();
    await dropRedisNamespace(ctx.o.redisUrl, ctx.o.namespace);
    if (fault.kill) await ctx.services[fault.kill].start();
  } else if (fault.kind === 'node-kill') {
    // The node stays dead while telemetry must flow again; started again after that, whatever happened.
    const killed = await killClusterNode(fault.node, ctx.o);
    try {
      const recoverMs = await timeToProgress(ctx.progress, (ctx.o.recoverTimeoutSec ?? 60) * 1000);
      return { fault: killed.name, downMs: killed.failoverMs, failoverMs: killed.failoverMs, recoverMs };
    } finally {
      await killed.restart();
    }
  } else {
    name = 'poison records';
    await injectPoison(ctx.o, ctx.poisonIds);
  }
  const back = Date.now();
  const recoverMs = await timeToProgress(ctx.progress, (ctx.o.recoverTimeoutSec ?? 60) * 1000);
  return { fault: name, downMs: back - start, recoverMs };
}

/** Until new telemetry is acknowledged and new rows are persisted, ms (null after the timeout). */
async function timeToProgress(p: FaultCtx['progress'], timeoutMs: number): Promise<number | null> {
  const from = Date.now();
  const acked0 = p.acked();
  const rows0 = await p.persisted();
  let ackedOk = false;
  let rowsOk = false;
  while (Date.now() - from < timeoutMs) {
    ackedOk ||= p.acked() > acked0;
    rowsOk ||= (await p.persisted()) > Math.max(rows0, 0);
    if (ackedOk && rowsOk) return Date.now() - from;
    await sleep(200);
  }
  return null;
}

async function injectPoison(o: ChaosOptions, ids: string[]): Promise<void> {
  const producer = new Kafka({ brokers: o.brokers, clientId: 'chaos-poison', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const poison = POISON(o.namespace);
  await producer.send({ topic: topicName(o.namespace, TOPIC_EVENTS), acks: -1, messages: poison.map((p) => ({ partition: p.partition, key: 'P', value: p.value })) });
  await producer.disconnect();
  ids.push(...poison.map((p) => p.id));
}

/** Waits until the telemetry table holds at least as many rows as were acknowledged (the worker caught up). */
async function waitPersisted(acked: ReadonlySet<string>, persisted: () => Promise<number>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < until) {
    const n = await persisted();
    if (n !== last) stableSince = Date.now();
    last = n;
    if (n >= acked.size && Date.now() - stableSince > 2_000) return;
    await sleep(500);
  }
}
