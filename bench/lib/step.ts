import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Stack } from '../../src/app/stack.js';
import type { DbDurability } from './durability.js';
import { startLoad, type LoadResult } from './load.js';
import type { Probe } from './probe.js';
import { startProfile, type ProfileSummary } from './profile.js';
import { cpuPerEvent, type CpuPerEvent } from './stage-cpu.js';
import { percentile, round, say, sleep, until, waitForQuiet } from './stats.js';
import type { WorkerProcess } from './worker-process.js';

export interface StepOptions {
  stack: Stack;
  probe: Probe;
  /** Empties the telemetry table so every step starts alike and counts only its own rows. */
  truncate(): Promise<void>;
  /** Rows in the telemetry table. */
  count(): Promise<number>;
  /** Set when the worker runs in its own process: durability is read from the database, not the probe. */
  durability?: DbDurability;
  workerProcess?: WorkerProcess;
  rate: number;
  windowSec: number;
  settleMs: number;
  hz: number;
  loadProcesses: number;
  connectionsPerProcess: number;
  batchSize: number;
  firstCar: number;
  profile?: boolean;
}

/** Counts per stage at the end of the offered window, per second of window. */
export interface StageRates {
  sentPerSec: number;
  acceptedPerSec: number;
  publishedPerSec: number;
  persistedPerSec: number;
}

export interface StepResult {
  offeredPerSec: number;
  windowSec: number;
  cars: number;
  sent: number;
  /** Offered updates the simulator did not send because ingestion applied backpressure. */
  skippedByBackpressure: number;
  accepted: number;
  rejected: number;
  persisted: number;
  /** accepted − persisted once settled; must be 0. */
  loss: number;
  /** Achieved ingest rate: accepted / window. */
  ingestPerSec: number;
  /**
   * Steady-state rows durable per second: rows that became durable during the second half of the
   * window, per second. Start-up and the final latency tail cancel out; a pipeline that falls
   * behind shows up here as a rate below the offered one.
   */
  throughputPerSec: number;
  /** All rows / (last durable row − simulator start): includes the one-off latency tail. */
  endToEndPerSec: number;
  /** Stage counts reached by the end of the window, per second: where a backlog builds is the binding stage. */
  inWindow: StageRates;
  /** Backlogs at the end of the window: accepted not yet on the bus, on the bus not yet durable. */
  backlogAtWindowEnd: { ingestionQueue: number; busToStore: number };
  /** Last durable row after the window closed, ms. */
  drainMs: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null; samples: number };
  stack: {
    cpuPercent: number;
    eventLoopUtilization: number;
    /** CPU ÷ event-loop busy time: the share of a core the thread got while it had work (< 0.6: starved by neighbours). */
    cpuShareWhileBusy: number;
    /** Share of the active period spent inside each wrapped call (concurrent calls can exceed 100 %). */
    busyPercent: { fleetUpsert: number; busPublish: number; storeInsert: number };
    callsPerSec: { fleetUpsert: number; busPublish: number; storeInsert: number };
    ingestionPauses: number;
    /** Batches of the in-process worker (null when the worker runs in its own process). */
    workerBatches: number | null;
  };
  /** The worker in its own process (`--worker-process`): its CPU % of one core over the active period. */
  workerProcess?: { pid: number; cpuPercent: number | null };
  load: { processes: LoadResult['processes']; errors: number };
  /** 1-minute load average when the step ended: the machine is shared, read figures against it. */
  machineLoadAvg1m: number;
  /** Share of a core a busy thread of this process got just before the step (1 = a whole core). */
  cpuShareBeforeStep: number;
  /** How long the step waited for the machine to offer ≥ 0.7 of a core (bounded at 30 s). */
  waitedForQuietMs: number;
  sustained: boolean;
  /**
   * Process CPU from the step's start until its accepted events were durable (or the settle bound),
   * per accepted event, split by stage from a CPU profile of the same step (bench/lib/stage-cpu.ts).
   */
  cpuUsPerEvent: CpuPerEvent;
  profile?: ProfileSummary;
}

export async function runStep(o: StepOptions): Promise<StepResult> {
  const { stack, probe } = o;
  const ingestion = stack.ingestion!;
  const worker = stack.worker;
  await o.truncate();
  const quiet = await waitForQuiet();
  probe.reset();
  const ing0 = ingestion.stats();
  const w0 = worker?.stats();
  const wCpu0 = o.workerProcess?.cpuMs() ?? null;
  // Every step is profiled (1 ms sampling) so CPU per event can be split by stage.
  const stopProfile = await startProfile();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();

  const load = startLoad({
    server: `127.0.0.1:${ingestion.port}`,
    token: stack.tokens[0],
    rate: o.rate,
    hz: o.hz,
    durationSec: o.windowSec,
    processes: o.loadProcesses,
    connectionsPerProcess: o.connectionsPerProcess,
    batchSize: o.batchSize,
    firstCar: o.firstCar,
  });
  let result: LoadResult;
  let windowEnd: number;
  let atWindowEnd: { accepted: number; published: number; persisted: number };
  try {
    const startedAt = await withTimeout(load.started, 30_000, 'load generators did not start');
    windowEnd = startedAt + o.windowSec * 1000;
    await sleep(Math.max(0, windowEnd - Date.now()));
    atWindowEnd = { accepted: ingestion.stats().accepted - ing0.accepted, published: probe.published, persisted: probe.persisted };
    result = await withTimeout(load.done, 30_000, 'load generators did not finish');
  } finally {
    load.kill();
  }
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const activeMs = Math.max(1, Date.now() - result.startedAt);
  const accepted = ingestion.stats().accepted - ing0.accepted;
  const rejected = ingestion.stats().rejected - ing0.rejected;

  const wCpu1 = o.workerProcess?.cpuMs() ?? null;
  const db = o.durability;
  await until(async () => (db ? await o.count() : probe.persisted) >= accepted, o.settleMs, db ? 250 : 100);
  const cpuToDurable = process.cpuUsage(cpu0);
  const dir = process.env.GREENLANE_BENCH_PROFILE_DIR;
  const prof = await stopProfile(dir ? `${dir}/step-${o.rate}-${Date.now()}.cpuprofile` : undefined);
  const profile = o.profile ? prof.summary : undefined;
  const persisted = await o.count();
  const ing1 = ingestion.stats();
  const w1 = worker?.stats();
  const lastPersistAt = db ? await db.lastPersistAt() : probe.lastPersistAt;
  const persistedBy = db ? (at: number) => db.persistedBy(at) : async (at: number) => probe.persistedBy(at);
  if (db) atWindowEnd.persisted = await db.persistedBy(windowEnd);
  const spanSec = Math.max(0.001, ((lastPersistAt || Date.now()) - result.startedAt) / 1000);
  const lat = db ? await db.latency() : { ...percentiles(probe.latencies), samples: probe.latencies.length };
  const perSec = (n: number) => round(n / o.windowSec);
  const busyPct = (ms: number) => round((ms / (spanSec * 1000)) * 100, 1);
  const offered = o.rate;
  const mid = windowEnd - (o.windowSec * 1000) / 2;
  const throughputPerSec = round(((await persistedBy(windowEnd)) - (await persistedBy(mid))) / (o.windowSec / 2));
  const drainMs = lastPersistAt ? Math.max(0, Math.round(lastPersistAt - windowEnd)) : -1;
  const loss = accepted - persisted;
  return {
    offeredPerSec: offered,
    windowSec: o.windowSec,
    cars: result.cars,
    sent: result.sent,
    skippedByBackpressure: result.skipped,
    accepted,
    rejected,
    persisted,
    loss,
    ingestPerSec: perSec(accepted),
    throughputPerSec,
    endToEndPerSec: round(persisted / spanSec),
    inWindow: {
      sentPerSec: perSec(result.sent),
      acceptedPerSec: perSec(atWindowEnd.accepted),
      publishedPerSec: perSec(atWindowEnd.published),
      persistedPerSec: perSec(atWindowEnd.persisted),
    },
    backlogAtWindowEnd: { ingestionQueue: atWindowEnd.accepted - atWindowEnd.published, busToStore: atWindowEnd.published - atWindowEnd.persisted },
    drainMs,
    latencyMs: lat,
    stack: {
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / activeMs) * 100, 1),
      eventLoopUtilization: round(elu.utilization, 3),
      cpuShareWhileBusy: round((cpu.user + cpu.system) / 1000 / activeMs / Math.max(0.001, elu.utilization), 2),
      busyPercent: { fleetUpsert: busyPct(probe.busyMs.fleetUpsert), busPublish: busyPct(probe.busyMs.busPublish), storeInsert: busyPct(probe.busyMs.insertTelemetry) },
      callsPerSec: { fleetUpsert: round(probe.calls.fleetUpsert / spanSec), busPublish: round(probe.calls.busPublish / spanSec), storeInsert: round(probe.calls.insertTelemetry / spanSec) },
      ingestionPauses: ing1.paused - ing0.paused,
      workerBatches: w1 && w0 ? w1.batches - w0.batches : null,
    },
    ...(o.workerProcess
      ? { workerProcess: { pid: o.workerProcess.pid, cpuPercent: wCpu0 === null || wCpu1 === null ? null : round(((wCpu1 - wCpu0) / activeMs) * 100, 1) } }
      : {}),
    load: { processes: result.processes, errors: result.errors },
    machineLoadAvg1m: round(loadavg()[0], 2),
    cpuShareBeforeStep: quiet.share,
    waitedForQuietMs: quiet.waitedMs,
    // Kept pace: nothing lost, ≥ 95 % of the offered rate durable in steady state, and what was
    // still queued when the window closed drained within a second.
    sustained: loss === 0 && rejected === 0 && accepted > 0 && throughputPerSec >= 0.95 * offered && drainMs >= 0 && drainMs <= 1000,
    cpuUsPerEvent: cpuPerEvent(cpuToDurable.user + cpuToDurable.system, accepted, prof.stages),
    ...(profile ? { profile } : {}),
  };
}

function percentiles(samples: number[]) {
  return { p50: percentile(samples, 50), p90: percentile(samples, 90), p99: percentile(samples, 99), max: percentile(samples, 100) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function describeStep(s: StepResult): string {
  const l = s.latencyMs;
  return (
    `offered ${s.offeredPerSec}/s (cpu share ${s.cpuShareBeforeStep}, load ${s.machineLoadAvg1m}): ingest ${s.ingestPerSec}/s, durable ${s.throughputPerSec}/s steady (${s.endToEndPerSec}/s incl. tail, drain ${s.drainMs} ms), loss ${s.loss}, ` +
    `p50 ${l.p50} ms p99 ${l.p99} ms, stack CPU ${s.stack.cpuPercent}% (share while busy ${s.stack.cpuShareWhileBusy}) ELU ${s.stack.eventLoopUtilization}, ${s.cpuUsPerEvent.total} µs CPU/event, ` +
    (s.workerProcess ? `worker process CPU ${s.workerProcess.cpuPercent}%, ` : '') +
    `backlog@end ingest ${s.backlogAtWindowEnd.ingestionQueue} bus→store ${s.backlogAtWindowEnd.busToStore} → ${s.sustained ? 'sustained' : 'NOT sustained'}`
  );
}

export { say };
