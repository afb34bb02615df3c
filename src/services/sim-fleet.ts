import { clientToken } from '../config/token.js';
import type { Logger } from '../observability/logger.js';
import type { Coordinator } from './coordinator.js';
import { createSimulator, type SimSummary, type Simulator } from './simulator.js';

export interface SimFleetOptions {
  cars: number;
  speed: number;
  seed: number;
  server: string;
  dataDir: string;
  logger: Logger;
  token?: string;
  coordinator?: Coordinator;
  initialBattery?: [number, number];
}

export interface SimFleet {
  simulator: Simulator;
  stop(): Promise<SimSummary>;
}

/** The in-process simulator `up --sim` runs: a fleet streaming to this stack over real gRPC. */
export async function startSimulatedFleet(opts: SimFleetOptions): Promise<SimFleet> {
  const simulator = createSimulator({
    cars: opts.cars,
    seed: opts.seed,
    speed: opts.speed,
    server: opts.server,
    token: opts.token ?? clientToken(undefined, opts.dataDir),
    logger: opts.logger.child({ service: 'sim' }),
    initialBattery: opts.initialBattery,
  });
  await simulator.start();
  return { simulator, stop: () => simulator.stop() };
}
