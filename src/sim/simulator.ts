import type { SimCar } from '../domain/manhattan.js';
import type { Logger } from '../observability/logger.js';
import type { TlsFiles } from '../grpc/tls.js';
import type { BookingResponseMsg, CarStatusMsg } from '../grpc/proto.js';
import { createFleet } from './cars.js';
import { LinkPool, type SimCounters } from './sim-links.js';

export { createFleet, toCarStatus } from './cars.js';

/** Reacts to a response pushed down a car's stream (rejections, booking decisions). */
export type ResponseListener = (car: SimCar, response: BookingResponseMsg) => void;

/** Runs every tick after the cars moved and before their telemetry is sent (e.g. to charge parked cars). */
export type TickListener = (simNowMs: number, dtSec: number) => void;

export interface SimulatorOptions {
  cars: number;
  /** Same seed → same trajectories, packs and initial batteries (default 1). */
  seed?: number;
  /** Updates per car per wall-clock second (default 1). */
  hz?: number;
  /** Wall-clock seconds to run; undefined runs until stop(). */
  durationSec?: number;
  /** Simulated seconds per wall second: event timestamps advance in simulated time (default 1). */
  speed?: number;
  /** host:port of the ingestion server. */
  server: string;
  token: string;
  /** Send through StreamTelemetryBatch (one stream per connection) instead of one stream per car. */
  batch?: boolean;
  logger: Logger;
  /** Initial state of charge range, percent (default [35, 95]); e.g. [8, 20] for a low-battery fleet. */
  initialBattery?: [number, number];
  /** Cars sharing one TCP connection (default 100). */
  carsPerConnection?: number;
  /** Max cars in one CarStatusBatch message (default 500). */
  batchSize?: number;
  /** Simulated clock start, Unix ms (default now). */
  startTime?: number;
  /** Index of the first car (CAR-001 is 0), so several simulators can split a fleet. */
  firstCar?: number;
  /** Car id prefix (default "CAR-"): a scenario run can use ids no earlier run left bookings for. */
  carPrefix?: string;
  onResponse?: ResponseListener;
  /** Proto to speak (default proto/fleet.proto). */
  protoPath?: string;
  /** TLS towards the server (CA to trust, client certificate). */
  tls?: TlsFiles;
  /** How long start() waits for the server (default 5 s). */
  connectTimeoutMs?: number;
  /** Batch mode: readings the server acknowledged (Kafka has them), once each, in order per connection. */
  onAcked?: (cars: readonly CarStatusMsg[]) => void;
}

/** What a run did: the link counters (src/sim/sim-links.ts SimCounters) plus the run's totals. */
export interface SimSummary extends SimCounters {
  cars: number;
  /** Batch mode: readings the server acknowledged and readings still unacknowledged. */
  acked: number;
  unacked: number;
  ratePerSec: number;
  durationSec: number;
  simulatedSec: number;
  /** Set when the simulator stopped on an unrecoverable error (e.g. a rejected token). */
  fatal?: string;
}

export interface Simulator {
  /** Connects (waits for the server) and starts ticking. */
  start(signal?: AbortSignal): Promise<void>;
  /** Half-closes every stream, waits briefly for the server to finish, and returns the summary. */
  stop(): Promise<SimSummary>;
  summary(): SimSummary;
  /** Resolves when the duration elapsed, stop() was called or a fatal error happened. */
  readonly done: Promise<SimSummary>;
  /** The simulated cars (steer them with driveTo/park/resume/setBattery). */
  cars(): readonly SimCar[];
  car(id: string): SimCar | undefined;
  /** Adds a response listener; returns an unsubscribe function. */
  onResponse(listener: ResponseListener): () => void;
  /** Adds a tick listener; returns an unsubscribe function. */
  onTick(listener: TickListener): () => void;
  /** The simulated clock now, Unix ms. */
  simNowMs(): number;
  /** Simulated seconds per wall second from the next tick on (the update rate stays the same; each step gets shorter). */
  setSpeed(speed: number): void;
  /** The current simulated seconds per wall second. */
  speed(): number;
}

/** Runs a fleet: a fixed simulated step per tick, ticks scheduled against the start (see createSimulator). */
class LiveSimulator implements Simulator {
  readonly done: Promise<SimSummary>;
  private readonly fleet: SimCar[];
  private readonly byId: Map<string, SimCar>;
  private readonly listeners = new Set<ResponseListener>();
  private readonly tickListeners = new Set<TickListener>();
  private readonly counters: SimCounters = { sent: 0, rejected: 0, responses: 0, skipped: 0, errors: 0, reconnects: 0, resent: 0 };
  private readonly pool: LinkPool;
  private readonly hz: number;
  private readonly periodMs: number;
  /** Fixed simulated step while the speed holds: trajectories do not depend on timer jitter. */
  private dtSec: number;
  private wallStart = 0;
  private simStart = 0;
  private tick = 0;
  /** Simulated ms elapsed at the last speed change, and the tick it happened at. */
  private simBaseMs = 0;
  private tickBase = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping: Promise<SimSummary> | undefined;
  private fatal: string | undefined;
  private endedAt = 0;
  private resolveDone!: (s: SimSummary) => void;

  constructor(private readonly opts: SimulatorOptions) {
    this.hz = opts.hz ?? 1;
    this.periodMs = 1000 / this.hz;
    this.dtSec = (opts.speed ?? 1) / this.hz;
    this.fleet = createFleet(opts);
    this.byId = new Map(this.fleet.map((c) => [c.carId, c]));
    if (opts.onResponse) this.listeners.add(opts.onResponse);
    this.done = new Promise<SimSummary>((r) => (this.resolveDone = r));
    this.pool = new LinkPool(this.fleet, {
      ...opts,
      counters: this.counters,
      onResponse: (res) => this.handleResponse(res),
      onFatal: (message) => {
        this.fatal ??= message;
        void this.stop();
      },
    });
  }

  start = async (signal?: AbortSignal): Promise<void> => {
    if (this.running) return;
    await this.pool.connect(this.opts.connectTimeoutMs ?? 5_000);
    this.running = true;
    this.wallStart = Date.now();
    this.simStart = this.opts.startTime ?? this.wallStart;
    this.pool.open();
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    this.timer = setTimeout(() => this.handleTick(), this.periodMs);
    const { hz, opts } = this;
    this.opts.logger.info({ cars: this.fleet.length, connections: this.pool.connections, batch: Boolean(opts.batch), hz, speed: opts.speed ?? 1 }, 'sim: started');
  };

  stop = (): Promise<SimSummary> => {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.endedAt = Date.now();
      await this.pool.close();
      const s = this.summary();
      this.resolveDone(s);
      return s;
    })();
    return this.stopping;
  };

  summary = (): SimSummary => {
    const elapsed = ((this.endedAt || Date.now()) - this.wallStart) / 1000;
    const durationSec = this.wallStart ? Math.round(elapsed * 100) / 100 : 0;
    return {
      cars: this.fleet.length,
      ...this.counters,
      ...this.pool.ackCounts(),
      ratePerSec: durationSec > 0 ? Math.round(this.counters.sent / elapsed) : 0,
      durationSec,
      simulatedSec: Math.round(this.simElapsedMs() / 1000),
      ...(this.fatal ? { fatal: this.fatal } : {}),
    };
  };

  cars = (): readonly SimCar[] => this.fleet;

  car = (id: string): SimCar | undefined => this.byId.get(id);

  onResponse = (listener: ResponseListener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  onTick = (listener: TickListener): (() => void) => {
    this.tickListeners.add(listener);
    return () => this.tickListeners.delete(listener);
  };

  simNowMs = (): number => (this.simStart || (this.opts.startTime ?? Date.now())) + this.simElapsedMs();

  setSpeed = (speed: number): void => {
    if (!(speed > 0) || speed === this.speed()) return;
    this.simBaseMs = this.simElapsedMs();
    this.tickBase = this.tick;
    this.dtSec = speed / this.hz;
  };

  speed = (): number => this.dtSec * this.hz;

  private simElapsedMs(): number {
    return this.simBaseMs + (this.tick - this.tickBase) * this.dtSec * 1000;
  }

  private handleResponse(res: BookingResponseMsg): void {
    this.counters.responses++;
    if (res.status === 'BOOKING_FAILED') this.counters.rejected++;
    const car = res.car_id ? this.byId.get(res.car_id) : undefined;
    if (!car) return;
    notifyAll(this.listeners, (l) => l(car, res), this.opts.logger, 'sim: response listener failed');
  }

  private handleTick(): void {
    if (!this.running) return;
    this.tick++;
    const simNow = this.simStart + this.simElapsedMs();
    for (const car of this.fleet) car.step(this.dtSec, simNow);
    notifyAll(this.tickListeners, (l) => l(simNow, this.dtSec), this.opts.logger, 'sim: tick listener failed');
    this.pool.sendAll(simNow);
    if (this.opts.durationSec !== undefined && this.tick >= this.opts.durationSec * this.hz) {
      void this.stop();
      return;
    }
    // Scheduled against the start so ticks do not drift; a late loop catches up without bursts.
    const next = this.wallStart + (this.tick + 1) * this.periodMs;
    this.timer = setTimeout(() => this.handleTick(), Math.max(0, next - Date.now()));
  }
}

/** Calls every listener; one that throws is logged and does not stop the others. */
function notifyAll<L>(listeners: Iterable<L>, call: (listener: L) => void, logger: Logger, message: string): void {
  for (const listener of listeners) {
    try {
      call(listener);
    } catch (err) {
      logger.error({ err }, message);
    }
  }
}

export function createSimulator(opts: SimulatorOptions): Simulator {
  return new LiveSimulator(opts);
}
