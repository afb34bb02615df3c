/**
 * A load process of bench/streams.ts (forked): its share of the cars, each on its own
 * StreamTelemetry stream (the original RPC, no acknowledgements), `carsPerConnection` streams per
 * TCP connection, at `hz`. Reports when it ticks and, at the end, the simulator summary and its own
 * CPU and event-loop figures over the IPC channel.
 */
import { onArgs, runMeasured, type LoadMessage } from './lib/measured-run.js';
import { silentLogger } from '../src/observability/logger.js';
import { createSimulator } from '../src/sim/simulator.js';

export interface StreamsLoadArgs {
  server: string;
  token: string;
  cars: number;
  firstCar: number;
  carPrefix: string;
  hz: number;
  durationSec: number;
  carsPerConnection: number;
  seed: number;
}

export type StreamsLoadMessage = LoadMessage;

async function main(args: StreamsLoadArgs): Promise<void> {
  const sim = createSimulator({
    cars: args.cars,
    firstCar: args.firstCar,
    carPrefix: args.carPrefix,
    seed: args.seed,
    hz: args.hz,
    durationSec: args.durationSec,
    server: args.server,
    token: args.token,
    batch: false,
    carsPerConnection: args.carsPerConnection,
    logger: silentLogger,
    connectTimeoutMs: 60_000,
  });
  await runMeasured(sim);
}

onArgs<StreamsLoadArgs>(main);
