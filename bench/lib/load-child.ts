/**
 * A load generator process (forked by load.ts): runs the fleet simulator over StreamTelemetryBatch
 * so the stack under test keeps its own core. Reports its start instant and, at the end, the
 * simulator summary plus its own CPU and event-loop figures, over the IPC channel.
 */
import { onArgs, runMeasured, type LoadMessage } from './measured-run.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createSimulator } from '../../src/sim/simulator.js';

export interface LoadChildArgs {
  server: string;
  token: string;
  cars: number;
  firstCar: number;
  hz: number;
  durationSec: number;
  carsPerConnection: number;
  batchSize: number;
  seed: number;
}

export type LoadChildMessage = LoadMessage;

async function main(args: LoadChildArgs): Promise<void> {
  const sim = createSimulator({
    cars: args.cars,
    firstCar: args.firstCar,
    seed: args.seed,
    hz: args.hz,
    durationSec: args.durationSec,
    server: args.server,
    token: args.token,
    batch: true,
    carsPerConnection: args.carsPerConnection,
    batchSize: args.batchSize,
    logger: silentLogger,
  });
  await runMeasured(sim);
}

onArgs<LoadChildArgs>(main);
