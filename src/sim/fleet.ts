import type { TlsFiles } from '../grpc/tls.js';
import { clientToken } from '../config/token.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';
import type { Coordinator } from '../services/coordination/coordinator.js';
import { attachSimDriver, type SimDriver } from './driver.js';
import { createSimulator, type SimSummary, type Simulator } from './simulator.js';

export interface SimFleetOptions {
  cars: number;
  speed: number;
  seed: number;
  server: string;
  dataDir: string;
  logger: Logger;
  token?: string;
  /** TLS towards the server (the stack's own CA and certificate when it serves TLS). */
  tls?: TlsFiles;
  coordinator?: Coordinator;
  initialBattery?: [number, number];
  /** The stations the server coordinates: with them the cars obey booking decisions (drive, charge, wait). */
  stations?: Station[];
  /** Wall ms between the fleet's coordination summary lines at info level (default 10 s). */
  summaryEveryMs?: number;
}

export interface SimFleet {
  simulator: Simulator;
  driver?: SimDriver;
  stop(): Promise<SimSummary>;
}

/** The in-process simulator `up --sim` runs: a fleet streaming to this stack over real gRPC, reacting to its decisions. */
export async function startSimulatedFleet(opts: SimFleetOptions): Promise<SimFleet> {
  const logger = opts.logger.child({ service: 'sim' });
  const simulator = createSimulator({
    cars: opts.cars,
    seed: opts.seed,
    speed: opts.speed,
    server: opts.server,
    token: opts.token ?? clientToken(undefined, opts.dataDir),
    tls: opts.tls,
    logger,
    initialBattery: opts.initialBattery,
  });
  const driver = opts.stations ? attachSimDriver(simulator, { stations: opts.stations, logger, summaryEveryMs: opts.summaryEveryMs ?? 10_000 }) : undefined;
  await simulator.start();
  return {
    simulator,
    driver,
    async stop() {
      const summary = await simulator.stop();
      driver?.detach();
      return summary;
    },
  };
}
