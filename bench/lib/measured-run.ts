import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { SimSummary } from '../../src/sim/simulator.js';

/** What a forked load process reports over IPC (bench/lib/load-child.ts, bench/streams-load.ts). */
export type LoadMessage =
  | { type: 'started'; at: number }
  | { type: 'done'; summary: SimSummary; cpuPercent: number; elu: number; loopDelayP99Ms: number }
  | { type: 'failed'; error: string };

const send = (m: LoadMessage) => new Promise<void>((r) => process.send!(m, () => r()));

/**
 * Starts the simulator, reports the instant it ticks, and at the end its summary with this process's
 * CPU and event-loop figures. Timestamps are the scheduled tick instants: loop delay here is error the
 * latency figures inherit.
 */
export async function runMeasured(sim: { start(): Promise<void>; done: Promise<SimSummary> }): Promise<void> {
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

/** The child's entry: waits for its arguments, runs, reports a failure, and lets the parent go. */
export function onArgs<A>(main: (args: A) => Promise<void>): void {
  process.once('message', (args: A) => {
    main(args)
      .catch((err: Error) => send({ type: 'failed', error: err.message }))
      .finally(() => process.disconnect());
  });
}
