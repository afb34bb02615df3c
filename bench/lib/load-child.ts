/**
 * A load generator process (forked by load.ts): runs the fleet simulator over StreamTelemetryBatch
 * so the stack under test keeps its own core. Reports its start instant and, at the end, the
 * simulator summary plus its own CPU and event-loop figures, over the IPC channel.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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

export type LoadChildMessage =
  | { type: 'started'; at: number }
  | { type: 'done'; summary: import('../../src/sim/simulator.js').SimSummary; cpuPercent: number; elu: number; loopDelayP99Ms: number }
  | { type: 'failed'; error: string };

const send = (m: LoadChildMessage) => new Promise<void>((r) => process.send!(m, () => r()));

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
  // Timestamps are the scheduled tick instants: loop delay here is error the latency figures inherit.
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

process.once('message', (args: LoadChildArgs) => {
  main(args)
    .catch((err: Error) => send({ type: 'failed', error: err.message }))
    .finally(() => process.disconnect());
});
