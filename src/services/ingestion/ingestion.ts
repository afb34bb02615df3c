import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { Config } from '../../config/schema.js';
import { TOPIC_EVENTS, topicName, type FleetEvent, type TelemetryEvent } from '../../domain/events.js';
import { DEFAULT_TIMESTAMP_WINDOW, toTelemetryEvent, validateCarStatus, type TimestampWindow } from '../../domain/telemetry.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus, Subscription } from '../../ports/event-bus.js';
import type { CarState, FleetState } from '../../ports/fleet-state.js';
import {
  loadFleetProto,
  type BookingResponseMsg,
  type CarQueryMsg,
  type CarStateMsg,
  type CarStatusBatchMsg,
  type CarStatusMsg,
  type FleetEventMsg,
  type StatsReplyMsg,
  type WatchRequestMsg,
} from '../../grpc/proto.js';
import { queryServiceHandlers } from '../../grpc/query-service.js';
import { authFailure, bindServer, SERVER_OPTIONS, shutdownServer, statusError } from '../../grpc/server.js';
import type { QueryHandlers } from '../queries/fleet-queries.js';
import { engineLatency, timed } from '../../observability/metrics.js';

/** Called after a batch of accepted telemetry is on the bus and in fleet state (durable, in arrival order). */
export type TelemetryListener = (events: TelemetryEvent[]) => void | Promise<void>;

export interface BatchOptions {
  /** Flush when this many events are queued (default 2000). */
  maxBatch?: number;
  /** Flush at the latest this long after the first queued event (default 5 ms). */
  flushIntervalMs?: number;
  /** Pause reading from every stream while more events than this wait (default 20000); resume at half. */
  highWater?: number;
}

export interface IngestionDeps {
  config: Pick<Config, 'grpcHost' | 'grpcPort'> & Partial<Pick<Config, 'namespace'>>;
  bus: EventBus;
  fleet: FleetState;
  /** Accepted x-api-token values (see resolveTokens). Must not be empty. */
  tokens: string[];
  logger: Logger;
  registry?: Registry;
  /** Defaults to config.namespace. */
  namespace?: string;
  timestampWindow?: TimestampWindow;
  batch?: BatchOptions;
  onTelemetry?: TelemetryListener;
  /** Clock for validation (tests). */
  now?: () => number;
  /** How long stop() lets calls finish before forcing (default 5 s). */
  shutdownDeadlineMs?: number;
  /** Answers RequestBooking, CancelBooking and the query RPCs (or attach later with attachQueries). */
  queries?: QueryHandlers;
}

export interface IngestionStats {
  accepted: number;
  rejected: number;
  published: number;
  batches: number;
  queued: number;
  activeStreams: number;
  connectedCars: number;
  paused: number;
  flushErrors: number;
  startedAt: number;
}

export interface Ingestion {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  /** The bound port (useful with grpcPort 0); 0 before start(). */
  readonly port: number;
  stats(): IngestionStats;
  /** Registers a listener for flushed telemetry batches; returns an unsubscribe function. */
  onTelemetry(listener: TelemetryListener): () => void;
  /**
   * Pushes a BookingResponse down the stream the car last sent telemetry on (car_id is filled in).
   * False when the car has no open stream here.
   */
  sendToCar(carId: string, response: BookingResponseMsg): boolean;
  /** Whether this instance holds an open stream for the car. */
  hasCar(carId: string): boolean;
  /** Lets the query and booking RPCs answer (until then they get FAILED_PRECONDITION). */
  attachQueries(handlers: QueryHandlers): void;
}

interface StreamState {
  call: grpc.ServerDuplexStream<unknown, BookingResponseMsg>;
  cars: Set<string>;
  writeBlocked: boolean;
  done: boolean;
}

interface Pending {
  event: TelemetryEvent;
}

export function createIngestion(deps: IngestionDeps): Ingestion {
  const { bus, fleet, logger } = deps;
  if (!deps.tokens.length) throw new Error('createIngestion: at least one API token is required');
  const tokenBufs = deps.tokens.map((t) => Buffer.from(t));
  const topic = topicName(deps.namespace ?? deps.config.namespace ?? '', TOPIC_EVENTS);
  const window = deps.timestampWindow ?? DEFAULT_TIMESTAMP_WINDOW;
  const now = deps.now ?? Date.now;
  const maxBatch = deps.batch?.maxBatch ?? 2000;
  const flushIntervalMs = deps.batch?.flushIntervalMs ?? 5;
  const highWater = deps.batch?.highWater ?? 20_000;
  const metrics = createMetrics(deps.registry ?? new Registry(), () => queue.length);

  const listeners = new Set<TelemetryListener>(deps.onTelemetry ? [deps.onTelemetry] : []);
  const streams = new Set<StreamState>();
  const carStreams = new Map<string, StreamState>();
  const watchers = new Set<() => void>();
  const counters = { accepted: 0, rejected: 0, published: 0, batches: 0, paused: 0, flushErrors: 0, startedAt: 0 };

  let server: grpc.Server | undefined;
  let boundPort = 0;
  let started = false;
  let stopping = false;
  let closed = false;
  let queryHandlers = deps.queries;

  // ---- micro-batcher: accepted events queue here and are written in batches, one flush at a time
  // (sequential flushes keep per-car order on the bus and in fleet state).
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let queuePaused = false;

  function enqueue(item: Pending): void {
    queue.push(item);
    if (queue.length >= maxBatch) void flush();
    else if (!timer && !flushing) timer = setTimeout(() => void flush(), flushIntervalMs);
    if (!queuePaused && queue.length >= highWater) setQueuePaused(true);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!flushing) {
      flushing = (async () => {
        while (queue.length) {
          const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
          queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
          await writeBatch(batch);
          if (queuePaused && queue.length <= highWater / 2) setQueuePaused(false);
        }
      })().finally(() => {
        flushing = undefined;
        if (queuePaused && queue.length <= highWater / 2) setQueuePaused(false);
        if (queue.length && !timer) timer = setTimeout(() => void flush(), flushIntervalMs);
      });
    }
    return flushing;
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    const events = batch.map((p) => p.event);
    const records = events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) }));
    const cars = latestPerCar(events);
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      try {
        await Promise.all([
          timed(metrics.engine, { engine: fleet.kind, op: 'upsert_cars' }, fleet.upsertCars(cars)),
          timed(metrics.engine, { engine: bus.kind, op: 'publish' }, bus.publish(topic, records)),
        ]);
        metrics.flushSeconds.observe((performance.now() - t0) / 1000);
        break;
      } catch (err) {
        counters.flushErrors++;
        metrics.flushErrors.inc();
        // Keep the batch (streams stay paused behind it) until the engines are back; give up only on shutdown.
        if (stopping && attempt >= 3) {
          logger.error({ err, lost: batch.length }, 'ingestion: giving up on a batch during shutdown');
          return;
        }
        logger.warn({ err, attempt, size: batch.length }, 'ingestion: batch write failed; retrying');
        await sleep(Math.min(50 * 2 ** attempt, 5_000));
      }
    }
    counters.published += events.length;
    counters.batches++;
    metrics.published.inc(events.length);
    for (const listener of listeners) notify(listener, events);
  }

  function notify(listener: TelemetryListener, events: TelemetryEvent[]): void {
    try {
      const r = listener(events);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => logger.error({ err }, 'ingestion: telemetry listener failed'));
    } catch (err) {
      logger.error({ err }, 'ingestion: telemetry listener failed');
    }
  }

  // ---- backpressure: a stream is paused while the batch queue is full or its own responses are not drained.
  function setQueuePaused(paused: boolean): void {
    queuePaused = paused;
    if (paused) {
      counters.paused++;
      metrics.pauses.inc();
      logger.debug({ queued: queue.length }, 'ingestion: queue full, pausing streams');
    }
    for (const s of streams) applyPause(s);
  }

  function applyPause(s: StreamState): void {
    if (queuePaused || s.writeBlocked) s.call.pause();
    else s.call.resume();
  }

  function respond(s: StreamState, response: BookingResponseMsg): boolean {
    if (s.done || !s.call.writable) return false;
    if (!s.call.write(response) && !s.writeBlocked) {
      s.writeBlocked = true;
      applyPause(s);
      s.call.once('drain', () => {
        s.writeBlocked = false;
        applyPause(s);
      });
    }
    return true;
  }

  // ---- per message
  function ingest(s: StreamState, msg: CarStatusMsg): void {
    if (closed) return;
    const result = validateCarStatus(msg, now(), window);
    if (!result.ok) {
      counters.rejected++;
      metrics.rejected.inc({ reason: result.field });
      const carId = typeof msg?.car_id === 'string' ? msg.car_id.slice(0, 64) : '';
      respond(s, {
        car_id: carId,
        status: 'BOOKING_FAILED',
        message: `INVALID_ARGUMENT: ${result.reason}`,
        reason: `invalid_${result.field}`,
        timestamp: now(),
        event_type: 'telemetry_rejected',
      });
      return;
    }
    counters.accepted++;
    metrics.accepted.inc();
    const carId = result.value.car_id;
    if (carStreams.get(carId) !== s) {
      carStreams.set(carId, s);
      s.cars.add(carId);
    }
    enqueue({ event: toTelemetryEvent(result.value) });
  }

  function authenticate(call: { metadata: grpc.Metadata }): grpc.ServiceError | null {
    const failure = authFailure(call.metadata, tokenBufs);
    if (failure) {
      metrics.authFailures.inc();
      return statusError(grpc.status.UNAUTHENTICATED, failure);
    }
    if (stopping) return statusError(grpc.status.UNAVAILABLE, 'ingestion is shutting down');
    return null;
  }

  function handleStream<T>(call: grpc.ServerDuplexStream<T, BookingResponseMsg>, unpack: (msg: T) => CarStatusMsg[]): void {
    const denied = authenticate(call);
    if (denied) {
      call.emit('error', denied);
      return;
    }
    const s: StreamState = { call: call as grpc.ServerDuplexStream<unknown, BookingResponseMsg>, cars: new Set(), writeBlocked: false, done: false };
    streams.add(s);
    metrics.activeStreams.inc();
    applyPause(s);
    const finish = () => {
      if (s.done) return;
      s.done = true;
      streams.delete(s);
      metrics.activeStreams.dec();
      for (const car of s.cars) if (carStreams.get(car) === s) carStreams.delete(car);
    };
    call.on('data', (msg: T) => {
      for (const car of unpack(msg)) ingest(s, car);
    });
    call.on('end', () => {
      finish();
      if (call.writable) call.end();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  }

  async function watchEvents(call: grpc.ServerWritableStream<WatchRequestMsg, FleetEventMsg>): Promise<void> {
    const denied = authenticate(call);
    if (denied) {
      call.emit('error', denied);
      return;
    }
    const types = new Set(call.request.event_types ?? []);
    const cars = new Set(call.request.car_ids ?? []);
    let sub: Subscription | undefined;
    let done = false;
    let wake: (() => void) | undefined;
    const close = () => {
      if (done) return;
      done = true;
      watchers.delete(close);
      wake?.();
      if (call.writable) call.end();
      sub?.stop().catch((err) => logger.warn({ err }, 'ingestion: stopping a watch subscription failed'));
    };
    watchers.add(close);
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
    try {
      sub = await bus.subscribe({
        topic,
        groupId: `watch-${randomUUID()}`,
        fromBeginning: false,
        handleBatch: async (records) => {
          for (const r of records) {
            if (done) return;
            const msg = toFleetEventMsg(r.value);
            if (!msg || (types.size && !types.has(msg.event_type)) || (cars.size && !cars.has(msg.car_id))) continue;
            if (!call.write(msg)) await new Promise<void>((resolve) => ((wake = resolve), call.once('drain', resolve)));
          }
        },
      });
    } catch (err) {
      logger.error({ err }, 'ingestion: watch subscription failed');
      if (!done) call.emit('error', statusError(grpc.status.UNAVAILABLE, `cannot subscribe to ${topic}: ${(err as Error).message}`));
      return;
    }
    if (done) await sub.stop();
    // Response headers tell the client the subscription is live, so it can start producing.
    else call.sendMetadata(new grpc.Metadata());
  }

  async function getCar(call: grpc.ServerUnaryCall<CarQueryMsg, CarStateMsg>, callback: grpc.sendUnaryData<CarStateMsg>): Promise<void> {
    const denied = authenticate(call);
    if (denied) return callback(denied);
    try {
      const car = await fleet.getCar(call.request.car_id);
      callback(null, toCarStateMsg(call.request.car_id, car));
    } catch (err) {
      callback(statusError(grpc.status.UNAVAILABLE, `fleet state: ${(err as Error).message}`));
    }
  }

  function statsRpc(call: grpc.ServerUnaryCall<unknown, StatsReplyMsg>, callback: grpc.sendUnaryData<StatsReplyMsg>): void {
    const denied = authenticate(call);
    if (denied) return callback(denied);
    const s = stats();
    callback(null, {
      accepted: s.accepted,
      rejected: s.rejected,
      active_streams: s.activeStreams,
      batches: s.batches,
      published: s.published,
      queued: s.queued,
      paused: s.paused,
      started_at: s.startedAt,
    });
  }

  function stats(): IngestionStats {
    return { ...counters, queued: queue.length, activeStreams: streams.size, connectedCars: carStreams.size };
  }

  async function start(signal?: AbortSignal): Promise<void> {
    if (started) return;
    await bus.ensureTopics([topic]);
    const { FleetService } = loadFleetProto();
    server = new grpc.Server(SERVER_OPTIONS);
    server.addService(FleetService.service, {
      StreamTelemetry: (call: grpc.ServerDuplexStream<CarStatusMsg, BookingResponseMsg>) => handleStream(call, (m) => [m]),
      StreamTelemetryBatch: (call: grpc.ServerDuplexStream<CarStatusBatchMsg, BookingResponseMsg>) => handleStream(call, (m) => m.cars ?? []),
      WatchEvents: (call: grpc.ServerWritableStream<WatchRequestMsg, FleetEventMsg>) => void watchEvents(call),
      GetCar: (call: grpc.ServerUnaryCall<CarQueryMsg, CarStateMsg>, cb: grpc.sendUnaryData<CarStateMsg>) => void getCar(call, cb),
      Stats: statsRpc,
      ...queryServiceHandlers({ authenticate, handlers: () => queryHandlers, fleet, logger }),
    });
    boundPort = await bindServer(server, deps.config.grpcHost, deps.config.grpcPort);
    started = true;
    counters.startedAt = Date.now();
    signal?.addEventListener('abort', () => void stop(), { once: true });
    logger.info({ port: boundPort, topic }, 'ingestion: listening');
  }

  /** Stop accepting, end streams, flush what was accepted, then shut the server down. */
  async function stop(): Promise<void> {
    if (!started || stopping) return;
    stopping = true;
    for (const s of streams) {
      s.call.resume();
      if (s.call.writable) s.call.end();
    }
    for (const close of [...watchers]) close();
    await new Promise((r) => setImmediate(r));
    while (queue.length || flushing) await flush();
    closed = true;
    if (server) await shutdownServer(server, deps.shutdownDeadlineMs ?? 5_000);
    logger.info({ accepted: counters.accepted, published: counters.published, rejected: counters.rejected }, 'ingestion: stopped');
  }

  return {
    start,
    stop,
    ready: () => started && !stopping,
    get port() {
      return boundPort;
    },
    stats,
    onTelemetry(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sendToCar(carId, response) {
      const s = carStreams.get(carId);
      if (!s) return false;
      return respond(s, { timestamp: Date.now(), ...response, car_id: carId });
    },
    hasCar: (carId) => carStreams.has(carId),
    attachQueries(handlers) {
      queryHandlers = handlers;
    },
  };
}

/** Only the newest state per car goes to fleet state (a batch may hold several updates of one car). */
function latestPerCar(events: TelemetryEvent[]): CarState[] {
  const latest = new Map<string, TelemetryEvent>();
  for (const e of events) {
    const prev = latest.get(e.car_id);
    if (!prev || e.timestamp >= prev.timestamp) latest.set(e.car_id, e);
  }
  return [...latest.values()].map((e) => ({ carId: e.car_id, lat: e.lat, lon: e.lon, battery: e.battery, velocity: e.velocity, timestamp: e.timestamp }));
}

function toFleetEventMsg(json: string): FleetEventMsg | null {
  try {
    const e = JSON.parse(json) as Partial<FleetEvent>;
    return { json, event_type: String(e.event_type ?? ''), car_id: String(e.car_id ?? ''), timestamp: Number(e.timestamp) || 0 };
  } catch {
    return null;
  }
}

function toCarStateMsg(carId: string, car: CarState | null): CarStateMsg {
  if (!car) return { car_id: carId, latitude: 0, longitude: 0, battery_level: 0, velocity: 0, timestamp: 0, state: '', found: false };
  return {
    car_id: car.carId,
    latitude: car.lat,
    longitude: car.lon,
    battery_level: car.battery,
    velocity: car.velocity,
    timestamp: car.timestamp,
    state: car.state ?? '',
    found: true,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function createMetrics(registry: Registry, queued: () => number) {
  // Reuse metrics already on the registry so several instances (tests, restarts) can share one.
  const get = <M extends Metric>(name: string, make: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? make();
  const registers = [registry];
  return {
    accepted: get('greenlane_ingestion_telemetry_accepted_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_accepted_total', help: 'Telemetry messages that passed validation', registers })),
    rejected: get('greenlane_ingestion_telemetry_rejected_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_rejected_total', help: 'Telemetry messages rejected, by invalid field', labelNames: ['reason'], registers })),
    published: get('greenlane_ingestion_telemetry_published_total', () => new Counter({ name: 'greenlane_ingestion_telemetry_published_total', help: 'Telemetry events written to the bus and fleet state', registers })),
    authFailures: get('greenlane_ingestion_auth_failures_total', () => new Counter({ name: 'greenlane_ingestion_auth_failures_total', help: 'Calls refused for a missing or wrong x-api-token', registers })),
    flushErrors: get('greenlane_ingestion_flush_errors_total', () => new Counter({ name: 'greenlane_ingestion_flush_errors_total', help: 'Batch writes that failed and were retried', registers })),
    pauses: get('greenlane_ingestion_backpressure_pauses_total', () => new Counter({ name: 'greenlane_ingestion_backpressure_pauses_total', help: 'Times streams were paused because the batch queue was full', registers })),
    activeStreams: get('greenlane_ingestion_active_streams', () => new Gauge({ name: 'greenlane_ingestion_active_streams', help: 'Open telemetry streams', registers })),
    queueDepth: get('greenlane_ingestion_queue_depth', () => new Gauge({ name: 'greenlane_ingestion_queue_depth', help: 'Accepted events waiting for the batcher', registers, collect() { this.set(queued()); } })),
    engine: engineLatency(registry, 'ingestion'),
    flushSeconds: get('greenlane_ingestion_batch_flush_seconds', () =>
      new Histogram({ name: 'greenlane_ingestion_batch_flush_seconds', help: 'Time to write one batch to fleet state and the bus', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
    ),
  };
}
