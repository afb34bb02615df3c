import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadChildArgs, LoadChildMessage } from './load-child.js';

export interface LoadOptions {
  server: string;
  token: string;
  /** Offered telemetry events per second, all processes together. */
  rate: number;
  hz: number;
  durationSec: number;
  processes: number;
  /** Cars per simulator process are split over this many connections (one batch stream each). */
  connectionsPerProcess: number;
  batchSize: number;
  /** Offset for car indices so consecutive steps use fresh car ids. */
  firstCar: number;
}

export interface LoadResult {
  cars: number;
  /** Earliest instant a simulator started ticking (Unix ms). */
  startedAt: number;
  sent: number;
  skipped: number;
  rejected: number;
  errors: number;
  /** Per load process: CPU %, event-loop utilisation and p99 loop delay (its timestamp error). */
  processes: { cpuPercent: number; elu: number; loopDelayP99Ms: number; sent: number }[];
}

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));

/** Starts the simulator processes; `started` resolves once all tick, `done` with their results. */
export function startLoad(opts: LoadOptions): { started: Promise<number>; done: Promise<LoadResult>; kill(): void } {
  const cars = Math.max(1, Math.round(opts.rate / opts.hz));
  const per = Math.ceil(cars / opts.processes);
  const children: ChildProcess[] = [];
  const starts: Promise<number>[] = [];
  const results: Promise<Extract<LoadChildMessage, { type: 'done' }>>[] = [];
  for (let i = 0, first = 0; first < cars; i++, first += per) {
    const n = Math.min(per, cars - first);
    const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    const args: LoadChildArgs = {
      server: opts.server,
      token: opts.token,
      cars: n,
      firstCar: opts.firstCar + first,
      hz: opts.hz,
      durationSec: opts.durationSec,
      carsPerConnection: Math.ceil(n / opts.connectionsPerProcess),
      batchSize: opts.batchSize,
      seed: 7 + i,
    };
    starts.push(message(child, 'started').then((m) => m.at));
    results.push(message(child, 'done'));
    child.send(args);
  }
  const kill = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  const started = Promise.all(starts).then((at) => Math.min(...at));
  const done = Promise.all([started, Promise.all(results)]).then(([startedAt, rs]) => ({
    cars,
    startedAt,
    sent: rs.reduce((s, r) => s + r.summary.sent, 0),
    skipped: rs.reduce((s, r) => s + r.summary.skipped, 0),
    rejected: rs.reduce((s, r) => s + r.summary.rejected, 0),
    errors: rs.reduce((s, r) => s + r.summary.errors, 0),
    processes: rs.map((r) => ({ cpuPercent: r.cpuPercent, elu: r.elu, loopDelayP99Ms: r.loopDelayP99Ms, sent: r.summary.sent })),
  }));
  done.catch(kill);
  return { started, done, kill };
}

function message<T extends LoadChildMessage['type']>(child: ChildProcess, type: T): Promise<Extract<LoadChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: LoadChildMessage) => {
      if (m.type === type) finish(() => resolve(m as Extract<LoadChildMessage, { type: T }>));
      else if (m.type === 'failed') finish(() => reject(new Error(`load generator: ${m.error}`)));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`load generator exited (${code}) before '${type}'`)));
    function finish(fn: () => void): void {
      child.off('message', onMessage);
      child.off('exit', onExit);
      fn();
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
