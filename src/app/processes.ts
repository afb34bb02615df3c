import type { Registry } from 'prom-client';
import type { LoadedConfig } from '../config/load.js';
import { readStationsFile } from '../config/stations-file.js';
import type { Logger } from '../observability/logger.js';
import { createRegistry, metricsPortFor, serveMetrics } from '../observability/metrics.js';
import { startSimulatedFleet, type SimFleet } from '../sim/fleet.js';
import { tlsFromConfig } from '../grpc/tls.js';
import { dialHost, grpcBindHost } from './exposure.js';
import { assertIngestionEngines } from './processes-engines.js';
import { DEFAULT_STATIONS_FILE, startStack, type Stack } from './stack.js';

/** A running process's services plus its metrics endpoint; stop() drains and closes both. */
export interface RunningProcess {
  stack: Stack;
  /** The port /metrics actually listens on (0: none, a cluster process: its primary serves them). */
  metricsPort: number;
  /** The process's metrics. */
  registry: Registry;
  stop(): Promise<void>;
}

export { assertIngestionEngines } from './processes-engines.js';

/**
 * One ingestion instance (with its coordinator) and its metrics endpoint (`metrics: false`: none, for
 * a process of `--processes N`, whose primary serves the sum: src/app/processes-cluster.ts).
 */
export async function startIngestionProcess(loaded: LoadedConfig, logger: Logger, opts: { metrics?: boolean } = {}): Promise<RunningProcess> {
  assertIngestionEngines(loaded);
  const registry = createRegistry();
  // The stack's ingestion carries the coordinator, so every instance books, sweeps and routes decisions.
  const stack = await startStack({ loaded, logger, registry, services: ['ingestion'] });
  const ingestion = stack.ingestion!;
  if (opts.metrics === false) return { stack, registry, metricsPort: 0, stop: () => stack.stop() };
  const metricsPort = metricsPortFor('ingestion', loaded.config.metricsPort);
  const metrics = await serveMetrics({ registry, port: metricsPort, host: loaded.config.bind, token: loaded.config.metricsToken, ready: () => ingestion.ready(), flag: '--metrics-port' }).catch(async (err) => {
    await stack.stop().catch(() => {});
    throw err;
  });
  const addr = metrics.address();
  return {
    stack,
    registry,
    metricsPort: typeof addr === 'object' && addr ? addr.port : metricsPort,
    stop: async () => {
      await stack.stop();
      metrics.close();
    },
  };
}

export interface EmbeddedOptions {
  logger: Logger;
  ephemeral: boolean;
  /** Cars of the demo fleet (0: none), their time speed-up and seed. */
  sim: number;
  speed: number;
  seed: number;
}

/** The whole stack in one process (grid, worker, ingestion with the coordinator), its metrics and the demo fleet. */
export async function startEmbedded(loaded: LoadedConfig, opts: EmbeddedOptions): Promise<RunningProcess> {
  const { config } = loaded;
  const { logger } = opts;
  const registry = createRegistry();
  const stack = await startStack({ loaded, logger, registry, services: ['grid', 'worker', 'ingestion'], ephemeralStore: opts.ephemeral });
  const metrics = await serveMetrics({ registry, port: config.metricsPort, host: config.bind, token: config.metricsToken, ready: () => Boolean(stack.ingestion?.ready() && stack.worker?.ready()), flag: '--metrics-port' }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  const fleet = opts.sim > 0 ? await startDemoFleet(loaded, stack.ingestion!.port, opts) : undefined;
  return {
    stack,
    registry,
    metricsPort: config.metricsPort,
    stop: async () => {
      await fleet?.stop();
      await stack.stop();
      metrics.close();
    },
  };
}

/**
 * The demo fleet starts between 10 and 60 %: about a third asks for charge at once, enough to fill
 * the ports and show queueing, and the rest follow as they drive. The cars obey the decisions.
 */
async function startDemoFleet(loaded: LoadedConfig, grpcPort: number, opts: EmbeddedOptions): Promise<SimFleet> {
  const { config } = loaded;
  const stations = await readStationsFile(config.stationsFile ?? DEFAULT_STATIONS_FILE());
  const server = `${dialHost(grpcBindHost(config))}:${grpcPort}`;
  return startSimulatedFleet({ cars: opts.sim, speed: opts.speed, seed: opts.seed, server, tls: tlsFromConfig(config), dataDir: config.dataDir, logger: opts.logger, stations, initialBattery: [10, 60] });
}
