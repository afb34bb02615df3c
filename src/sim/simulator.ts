import * as grpc from '@grpc/grpc-js';
import { carId, carSeed, mulberry32, SimCar } from '../domain/manhattan.js';
import type { Logger } from '../observability/logger.js';
import { createFleetClient, type FleetClient } from '../grpc/client.js';
import type { TlsFiles } from '../grpc/tls.js';
import type { BookingResponseMsg, CarStatusMsg } from '../grpc/proto.js';

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
}

export interface SimSummary {
  cars: number;
  /** CarStatus messages written to streams. */
  sent: number;
  /** BOOKING_FAILED responses (invalid telemetry or a failed booking). */
  rejected: number;
  /** All responses received. */
  responses: number;
  /** Updates not sent because a stream was down or backpressured. */
  skipped: number;
  errors: number;
  reconnects: number;
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
}

interface Link {
  client: FleetClient;
  cars: SimCar[];
  stream?: grpc.ClientDuplexStream<unknown, BookingResponseMsg>;
  blocked: boolean;
  attempt: number;
  openedAt: number;
  retry?: NodeJS.Timeout;
}

/** Builds the fleet for a seed: per-car pack (60–100 kWh, 150–220 Wh/km) and initial battery. */
export function createFleet(opts: { cars: number; seed?: number; initialBattery?: [number, number]; firstCar?: number; carPrefix?: string }): SimCar[] {
  const seed = opts.seed ?? 1;
  const [lo, hi] = opts.initialBattery ?? [35, 95];
  const first = opts.firstCar ?? 0;
  const total = first + opts.cars;
  return Array.from({ length: opts.cars }, (_, i) => {
    const index = first + i;
    const traits = mulberry32(carSeed(seed ^ 0x5eed, index));
    const pack = { capacityKwh: Math.round(60 + traits() * 40), whPerKm: Math.round(150 + traits() * 70), auxKw: 0.3 };
    const battery = Math.round((lo + traits() * (hi - lo)) * 10) / 10;
    return new SimCar({ carId: carId(index, total, opts.carPrefix), seed: carSeed(seed, index), battery, pack });
  });
}

export function toCarStatus(car: SimCar, timestamp: number): CarStatusMsg {
  const { lat, lon } = car.position;
  return {
    car_id: car.carId,
    latitude: Math.round(lat * 1e6) / 1e6,
    longitude: Math.round(lon * 1e6) / 1e6,
    battery_level: Math.round(car.battery * 100) / 100,
    velocity: Math.round(car.velocity * 10) / 10,
    timestamp: Math.round(timestamp),
  };
}

export function createSimulator(opts: SimulatorOptions): Simulator {
  const { logger } = opts;
  const hz = opts.hz ?? 1;
  const speed = opts.speed ?? 1;
  const periodMs = 1000 / hz;
  const dtSec = speed / hz; // fixed simulated step: trajectories do not depend on timer jitter
  const batchSize = opts.batchSize ?? 500;
  const fleet = createFleet(opts);
  const byId = new Map(fleet.map((c) => [c.carId, c]));
  const listeners = new Set<ResponseListener>(opts.onResponse ? [opts.onResponse] : []);
  const tickListeners = new Set<TickListener>();
  const counters = { sent: 0, rejected: 0, responses: 0, skipped: 0, errors: 0, reconnects: 0 };

  const connections = Math.max(1, Math.ceil(fleet.length / (opts.carsPerConnection ?? 100)));
  const clients = Array.from({ length: connections }, () => createFleetClient(opts.server, opts.token, { separateConnection: true, protoPath: opts.protoPath, tls: opts.tls }));
  const links: Link[] = opts.batch
    ? clients.map((client, i) => ({ client, cars: fleet.filter((_, j) => j % connections === i), blocked: false, attempt: 0, openedAt: 0 }))
    : fleet.map((car, j) => ({ client: clients[j % connections], cars: [car], blocked: false, attempt: 0, openedAt: 0 }));

  let wallStart = 0;
  let simStart = 0;
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopping: Promise<SimSummary> | undefined;
  let fatal: string | undefined;
  let endedAt = 0;
  let resolveDone!: (s: SimSummary) => void;
  const done = new Promise<SimSummary>((r) => (resolveDone = r));

  function openStream(link: Link): void {
    const stream = (opts.batch ? link.client.streamTelemetryBatch() : link.client.streamTelemetry()) as grpc.ClientDuplexStream<unknown, BookingResponseMsg>;
    link.stream = stream;
    link.blocked = false;
    link.openedAt = Date.now();
    stream.on('data', (res: BookingResponseMsg) => onResponse(res));
    stream.on('drain', () => (link.blocked = false));
    stream.on('error', (err: grpc.ServiceError) => streamDown(link, stream, err));
    stream.on('end', () => streamDown(link, stream));
  }

  function streamDown(link: Link, stream: grpc.ClientDuplexStream<unknown, BookingResponseMsg>, err?: grpc.ServiceError): void {
    if (link.stream !== stream) return;
    link.stream = undefined;
    if (err) counters.errors++;
    if (err?.code === grpc.status.UNAUTHENTICATED || err?.code === grpc.status.UNIMPLEMENTED) {
      fatal ??= `${err.details || err.message} (server ${opts.server})`;
      void stop();
      return;
    }
    if (!running) return;
    if (Date.now() - link.openedAt > 10_000) link.attempt = 0;
    const delay = Math.min(200 * 2 ** link.attempt, 10_000) * (0.5 + Math.random() / 2);
    link.attempt++;
    logger.debug({ err: err?.message, delay }, 'sim: stream down; reconnecting');
    link.retry = setTimeout(() => {
      link.retry = undefined;
      if (!running) return;
      counters.reconnects++;
      openStream(link);
    }, delay);
  }

  function onResponse(res: BookingResponseMsg): void {
    counters.responses++;
    if (res.status === 'BOOKING_FAILED') counters.rejected++;
    const car = res.car_id ? byId.get(res.car_id) : undefined;
    if (!car) return;
    for (const listener of listeners) {
      try {
        listener(car, res);
      } catch (err) {
        logger.error({ err }, 'sim: response listener failed');
      }
    }
  }

  function onTick(): void {
    if (!running) return;
    tick++;
    const simNow = simStart + tick * dtSec * 1000;
    for (const car of fleet) car.step(dtSec, simNow);
    for (const listener of tickListeners) {
      try {
        listener(simNow, dtSec);
      } catch (err) {
        logger.error({ err }, 'sim: tick listener failed');
      }
    }
    for (const link of links) send(link, simNow);
    if (opts.durationSec !== undefined && tick >= opts.durationSec * hz) {
      void stop();
      return;
    }
    // Scheduled against the start so ticks do not drift; a late loop catches up without bursts.
    const next = wallStart + (tick + 1) * periodMs;
    timer = setTimeout(onTick, Math.max(0, next - Date.now()));
  }

  function send(link: Link, simNow: number): void {
    if (!link.stream || link.blocked) {
      counters.skipped += link.cars.length;
      return;
    }
    if (!opts.batch) {
      counters.sent++;
      link.blocked = !link.stream.write(toCarStatus(link.cars[0], simNow));
      return;
    }
    for (let i = 0; i < link.cars.length; i += batchSize) {
      const cars = link.cars.slice(i, i + batchSize).map((c) => toCarStatus(c, simNow));
      counters.sent += cars.length;
      if (!link.stream.write({ cars })) link.blocked = true;
    }
  }

  function summary(): SimSummary {
    const elapsed = ((endedAt || Date.now()) - wallStart) / 1000;
    const durationSec = wallStart ? Math.round(elapsed * 100) / 100 : 0;
    return {
      cars: fleet.length,
      ...counters,
      ratePerSec: durationSec > 0 ? Math.round(counters.sent / elapsed) : 0,
      durationSec,
      simulatedSec: Math.round(tick * dtSec),
      ...(fatal ? { fatal } : {}),
    };
  }

  async function start(signal?: AbortSignal): Promise<void> {
    if (running) return;
    try {
      await clients[0].waitForReady(opts.connectTimeoutMs ?? 5_000);
    } catch (err) {
      for (const c of clients) c.close();
      throw new Error(`cannot reach the ingestion server at ${opts.server}: ${(err as Error).message}`);
    }
    running = true;
    wallStart = Date.now();
    simStart = opts.startTime ?? wallStart;
    for (const link of links) openStream(link);
    signal?.addEventListener('abort', () => void stop(), { once: true });
    timer = setTimeout(onTick, periodMs);
    logger.info({ cars: fleet.length, connections, batch: Boolean(opts.batch), hz, speed }, 'sim: started');
  }

  function stop(): Promise<SimSummary> {
    stopping ??= (async () => {
      running = false;
      if (timer) clearTimeout(timer);
      endedAt = Date.now();
      const open = links.filter((l) => l.stream);
      for (const l of links) if (l.retry) clearTimeout(l.retry);
      // Half-close and let the server read what is in flight before the channels go.
      await Promise.all(open.map((l) => closeStream(l.stream!, 3_000)));
      for (const c of clients) c.close();
      const s = summary();
      resolveDone(s);
      return s;
    })();
    return stopping;
  }

  return {
    start,
    stop,
    summary,
    done,
    cars: () => fleet,
    car: (id) => byId.get(id),
    onResponse(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onTick(listener) {
      tickListeners.add(listener);
      return () => tickListeners.delete(listener);
    },
  };
}

function closeStream(stream: grpc.ClientDuplexStream<unknown, unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.cancel();
      resolve();
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('status', finish);
    stream.once('error', finish);
    stream.end();
  });
}
