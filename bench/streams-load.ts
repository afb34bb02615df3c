/**
 * A load process of bench/streams.ts (forked): its share of the cars, each on its own
 * StreamTelemetry stream (the original RPC, no acknowledgements), `carsPerConnection` streams per
 * TCP connection, at `hz`. Reports when it ticks and, at the end, the simulator summary and its own
 * CPU and event-loop figures over the IPC channel.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { silentLogger } from '../src/observability/logger.js';
import { createSimulator, type SimSummary } from '../src/sim/simulator.js';

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

export type StreamsLoadMessage =
  | { type: 'started'; at: number }
  | { type: 'done'; summary: SimSummary; cpuPercent: number; elu: number; loopDelayP99Ms: number }
  | { type: 'failed'; error: string };

const send = (m: StreamsLoadMessage) => new Promise<void>((r) => process.send!(m, () => r()));

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
  const loop = monitorEventLoopDelay({ resolution: 5 });
  await sim.start();
  loop.enable();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = Date.now();
  await send({ type: 'started', at: t0 });
  const summary = await sim.done;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Date.now() - t0;
  loop.disable();
  await send({
    type: 'done',
    summary,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    elu: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
    loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
  });
}

process.once('message', (args: StreamsLoadArgs) => {
  main(args)
    .catch((err: Error) => send({ type: 'failed', error: err.message }))
    .finally(() => process.disconnect());
});
