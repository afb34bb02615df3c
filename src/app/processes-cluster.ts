import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { LoadedConfig } from '../config/load.js';
import { GreenlaneError, UsageError, type ErrorKind } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { metricsPortFor, serveMetrics } from '../observability/metrics.js';
import type { IngestionStats } from '../services/ingestion/ingestion.js';
import { isSea } from '../util/assets.js';
import { grpcBindHost } from './exposure.js';

/**
 * `greenlane ingestion --processes N` (external mode): N processes share the gRPC port through
 * Node's cluster module. The primary holds the listening socket and hands each new connection to
 * the next process in turn (round robin); it runs no service itself, serves /metrics (the sum of
 * every process's registry, prom-client's AggregatorRegistry) and /ready (every process ready), and
 * restarts a process that dies. Every process is a whole ingestion with its own coordinator: bookings
 * are one Redis Lua script each, so the processes race safely (docs/SCALING.md, "Every core").
 */

/** What a process tells the primary over the cluster IPC channel. */
type WorkerMessage =
  | { gl: 'ready'; port: number; ready: boolean; engines: string }
  | { gl: 'state'; ready: boolean }
  | { gl: 'stopped'; stats: IngestionStats };

/** A process that fails to start ends the cluster with its own kind of failure (src/cli/exit-codes.ts). */
const KIND_OF_EXIT: Record<number, ErrorKind> = { 2: 'usage', 3: 'config', 4: 'engine-unreachable', 5: 'external-tool' };

const isWorkerMessage = (m: unknown): m is WorkerMessage => typeof m === 'object' && m !== null && typeof (m as { gl?: unknown }).gl === 'string';

/** True in a process the ingestion primary forked. */
export const isIngestionClusterWorker = (): boolean => cluster.isWorker;

/** --processes: default one per core in external mode; embedded state lives in one process, so 1 there. */
export function ingestionProcesses(loaded: LoadedConfig, flag: number | undefined): number {
  if (loaded.mode === 'embedded') {
    if (flag !== undefined && flag > 1) throw new UsageError('--processes > 1 needs external mode: embedded fleet state, bus and reservations live in one process.', ['Configure Kafka and Redis, or run `greenlane up` for the embedded stack.']);
    return 1;
  }
  return flag ?? availableParallelism();
}

export interface ClusterOptions {
  processes: number;
  /** Said after the address, as a single process says it (e.g. " (TLS)"). */
  listenNote?: string;
  logger: Logger;
  say(line: string): void;
  /** Resolves when the cluster should drain and stop (the first SIGINT/SIGTERM). */
  until: Promise<unknown>;
  /** How long a process may drain after SIGTERM before it is killed. */
  drainMs?: number;
}

export interface ClusterResult {
  port: number;
  stats: IngestionStats;
}

interface Member {
  worker: ClusterWorker;
  ready: boolean;
  port: number;
  engines?: string;
  stats?: IngestionStats;
}

/** The primary: forks the processes, waits until each serves, and runs until `until` resolves. */
export async function runIngestionCluster(loaded: LoadedConfig, opts: ClusterOptions): Promise<ClusterResult> {
  setupWorkerCommand();
  const members = new Map<number, Member>();
  let stopping = false;
  const stopped: IngestionStats[] = [];
  const fork = (): Promise<Member> => {
    const member: Member = { worker: cluster.fork(), ready: false, port: 0 };
    members.set(member.worker.id, member);
    return new Promise((resolve, reject) => {
      member.worker.on('message', (m: unknown) => {
        if (!isWorkerMessage(m)) return;
        if (m.gl === 'ready') {
          Object.assign(member, { ready: m.ready, port: m.port, engines: m.engines });
          resolve(member);
          opts.logger.info({ pid: member.worker.process.pid, port: m.port, engines: m.engines }, 'ingestion process serving');
        } else if (m.gl === 'state') member.ready = m.ready;
        else if (m.gl === 'stopped') stopped.push(m.stats);
      });
      member.worker.once('exit', (code, signal) => {
        members.delete(member.worker.id);
        reject(new GreenlaneError(`an ingestion process exited before serving (${code ?? signal}; its error is above)`, KIND_OF_EXIT[code ?? 1] ?? 'bug'));
      });
    });
  };
  try {
    await Promise.all(Array.from({ length: opts.processes }, fork));
  } catch (err) {
    stopping = true;
    await stopMembers(members, opts.drainMs ?? 15_000);
    throw err;
  }
  const restarts = watchForCrashes(() => stopping, () => void fork().catch(() => {}), opts);
  const first = [...members.values()][0];
  const port = first?.port ?? 0;
  const metrics = await serveClusterMetrics(loaded, members, opts.processes);
  opts.say(`Ingestion listening on ${grpcBindHost(loaded.config)}:${port}${opts.listenNote ?? ''} (${opts.processes} processes sharing the port; external; ${first?.engines ?? ''}).`);
  opts.say(`Metrics on :${(metrics.address() as { port: number }).port}/metrics (the sum over every process).`);
  opts.say('Ctrl-C drains and stops.');
  await opts.until;
  stopping = true;
  restarts.dispose();
  await stopMembers(members, opts.drainMs ?? 15_000);
  metrics.close();
  return { port, stats: sumStats(stopped) };
}

/** Restarts a process that exited while the cluster runs, with the supervisor's backoff (src/app/supervisor.ts). */
function watchForCrashes(stopping: () => boolean, restart: () => void, opts: ClusterOptions): { dispose(): void } {
  let attempt = 0;
  let lastCrash = 0;
  const onExit = (worker: ClusterWorker, code: number | null, signal: string | null) => {
    if (stopping()) return;
    attempt = Date.now() - lastCrash > 30_000 ? 0 : attempt + 1;
    lastCrash = Date.now();
    const delay = Math.min(30_000, 500 * 2 ** attempt);
    opts.logger.error({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'an ingestion process exited; restarting it');
    setTimeout(() => !stopping() && restart(), delay).unref();
  };
  cluster.on('exit', onExit);
  return { dispose: () => void cluster.off('exit', onExit) };
}

/** SIGTERM to every process (each drains what it accepted), SIGKILL after the deadline. */
async function stopMembers(members: Map<number, Member>, drainMs: number): Promise<void> {
  await Promise.all(
    [...members.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), drainMs);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
    ),
  );
}

/** /metrics sums every process's registry; /ready needs every process ready. */
async function serveClusterMetrics(loaded: LoadedConfig, members: Map<number, Member>, expected: number) {
  const { config } = loaded;
  const aggregator = new AggregatorRegistry();
  const registry = { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() } as unknown as Registry;
  const ready = () => {
    const n = [...members.values()].filter((m) => m.ready).length;
    return n >= expected ? true : { ready: false, reason: `${n} of ${expected} ingestion processes ready` };
  };
  return serveMetrics({ registry, port: metricsPortFor('ingestion', config.metricsPort), host: config.bind, token: config.metricsToken, ready, flag: '--metrics-port' });
}

/**
 * A forked process runs the same command line. From source (bin/run.js, bin/dev.js) that is Node's
 * default; the single executable takes its command line after its own path, so the first argument
 * takes the script's place (scripts/sea/main.cjs reads process.argv from index 2).
 */
function setupWorkerCommand(): void {
  if (!isSea()) return;
  const [command, ...args] = process.argv.slice(2);
  cluster.setupPrimary({ exec: command, args, execArgv: [] });
}

function sumStats(all: IngestionStats[]): IngestionStats {
  const total = { accepted: 0, rejected: 0, published: 0, batches: 0, queued: 0, buffered: 0, activeStreams: 0, connectedCars: 0, paused: 0, flushErrors: 0, startedAt: Date.now() } as IngestionStats;
  for (const s of all) {
    for (const [k, v] of Object.entries(s)) if (k !== 'startedAt' && typeof v === 'number') (total as unknown as Record<string, number>)[k] = ((total as unknown as Record<string, number>)[k] ?? 0) + v;
    total.startedAt = Math.min(total.startedAt, s.startedAt);
  }
  return total;
}

/**
 * One process of the cluster: a whole ingestion (with its coordinator) on the shared port, no
 * metrics listener of its own (the primary asks for its registry over IPC), telling the primary
 * when it serves, whether it is ready, and what it did once it stopped.
 */
export async function runIngestionClusterWorker(loaded: LoadedConfig, logger: Logger, until: Promise<unknown>): Promise<IngestionStats & { port: number }> {
  // Loaded here, not at the top: the primary never runs a stack, so it forks without loading one.
  const { startIngestionProcess } = await import('./processes.js');
  const running = await startIngestionProcess(loaded, logger, { metrics: false });
  AggregatorRegistry.setRegistries([running.registry]);
  new AggregatorRegistry(); // answers the primary's metrics requests in this process
  const { stack } = running;
  const ingestion = stack.ingestion!;
  const send = (m: WorkerMessage) => void (process.connected && process.send?.(m));
  send({ gl: 'ready', port: ingestion.port, ready: ingestion.ready(), engines: `bus ${stack.engines.bus!.kind}, fleet state ${stack.engines.fleet!.kind}, reservations ${stack.reservations?.kind ?? 'none'}` });
  const state = setInterval(() => send({ gl: 'state', ready: ingestion.ready() }), 1_000);
  state.unref();
  await until;
  clearInterval(state);
  await running.stop();
  const stats = ingestion.stats();
  // The IPC channel keeps this process alive: close it once the primary has the figures.
  if (process.connected) await new Promise<void>((resolve) => process.send!({ gl: 'stopped', stats } satisfies WorkerMessage, undefined, {}, () => resolve()));
  cluster.worker?.disconnect();
  return { ...stats, port: ingestion.port };
}
