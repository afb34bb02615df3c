import type { TelemetryEvent } from '../../domain/events.js';
import { toTelemetryEvent, wallClockWindow, validateCarStatus, type TimestampWindow, type ValidationResult } from '../../domain/telemetry.js';
import type { Principal } from '../../domain/principals.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { FleetState } from '../../ports/fleet-state.js';
import { Backpressure, StreamSlot, type FlowStream } from './backpressure.js';
import { writeTelemetryBatch } from './batch-writer.js';
import { DEFAULT_BATCHER_OPTIONS, MicroBatcher } from './batcher.js';
import type { IngestionMetrics } from './metrics.js';

/**
 * The transport-free half of ingestion: validates telemetry, batches accepted events into fleet
 * state and onto the bus, applies backpressure to the streams, and keeps the counters. The gRPC
 * server (src/grpc/ingestion-server.ts) feeds it from the FleetService RPCs.
 */

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

export interface IngestionCoreDeps {
  bus: EventBus;
  fleet: FleetState;
  /** The namespaced fleet-events topic. */
  topic: string;
  logger: Logger;
  metrics: IngestionMetrics;
  batch?: BatchOptions;
  /** How far ahead of the server clock telemetry may be dated (default: the wall-clock skew, 5 min). */
  timestampWindow?: TimestampWindow;
  /** Clock for validation (tests). */
  now?: () => number;
  onTelemetry?: TelemetryListener;
}

/** Ingestion over streams that answer with responses of type R (BookingResponse on the wire). */
export class IngestionCore<R> {
  readonly now: () => number;
  private readonly listeners = new Set<TelemetryListener>();
  private readonly flow = new Backpressure<R>();
  private readonly carStreams = new Map<string, StreamSlot<R>>();
  /** The principal that last streamed each car here (kept after its stream closes): booking ownership for fleets. */
  private readonly streamedBy = new Map<string, string>();
  private readonly batcher: MicroBatcher<TelemetryEvent>;
  private readonly counters = { accepted: 0, rejected: 0, published: 0, batches: 0, paused: 0, flushErrors: 0, startedAt: 0 };
  private isStopping = false;
  private closed = false;

  constructor(private readonly deps: IngestionCoreDeps) {
    this.now = deps.now ?? Date.now;
    if (deps.onTelemetry) this.listeners.add(deps.onTelemetry);
    const opts = { ...DEFAULT_BATCHER_OPTIONS, ...definedOnly(deps.batch ?? {}) };
    this.batcher = new MicroBatcher(opts, (batch) => this.write(batch), (full) => this.onQueueFull(full));
  }

  /** True once stop began: new calls are refused and a failing batch is eventually given up. */
  get stopping(): boolean {
    return this.isStopping;
  }

  get queued(): number {
    return this.batcher.size;
  }

  /**
   * Registers a stream; its reads are paused whenever backpressure says so. `principal` binds it:
   * a car principal's stream carries only its own car id, and a stream never takes a car over from
   * an open stream of another principal (see receive).
   */
  open(stream: FlowStream<R>, principal?: Principal): StreamSlot<R> {
    const slot = new StreamSlot(stream, principal);
    this.flow.add(slot);
    this.deps.metrics.activeStreams.inc();
    return slot;
  }

  /** Forgets a stream (idempotent); its cars are no longer reachable through sendTo. */
  close(slot: StreamSlot<R>): void {
    if (slot.done) return;
    slot.done = true;
    this.flow.delete(slot);
    this.deps.metrics.activeStreams.dec();
    for (const car of slot.cars) if (this.carStreams.get(car) === slot) this.carStreams.delete(car);
  }

  /**
   * Validates one CarStatus that arrived on `slot` and queues it when valid (the car is then
   * reachable on that stream). Returns the validation result, or undefined once ingestion is closed.
   */
  receive(slot: StreamSlot<R>, msg: unknown): ValidationResult | undefined {
    if (this.closed) return undefined;
    const result = validateCarStatus(msg, this.now(), this.deps.timestampWindow ?? wallClockWindow());
    if (!result.ok) {
      this.counters.rejected++;
      this.deps.metrics.rejected.inc({ reason: result.field });
      return result;
    }
    const carId = result.value.car_id;
    const refusal = this.bindingRefusal(slot, carId);
    if (refusal) {
      this.counters.rejected++;
      this.deps.metrics.rejected.inc({ reason: 'car_binding' });
      return { ok: false, field: 'car_id', reason: refusal };
    }
    this.counters.accepted++;
    this.deps.metrics.accepted.inc();
    if (this.carStreams.get(carId) !== slot) {
      this.carStreams.set(carId, slot);
      slot.cars.add(carId);
    }
    if (slot.principal) this.streamedBy.set(carId, slot.principal.name);
    this.batcher.push(toTelemetryEvent(result.value));
    return result;
  }

  /**
   * Why `slot` may not speak for `carId`, or null. A car-bound stream speaks only for its car and
   * takes it over from any other stream; any other stream may not speak for a car while an open
   * stream of a different principal holds it (same principal: the latest stream wins, the original
   * behaviour — so one shared fleet token is trusted for all its cars).
   */
  private bindingRefusal(slot: StreamSlot<R>, carId: string): string | null {
    const p = slot.principal;
    if (!p) return null;
    if (p.carId !== undefined) return p.carId === carId ? null : `this stream is authenticated for ${p.carId}; telemetry for ${carId} refused`;
    const holder = this.carStreams.get(carId);
    if (!holder || holder === slot || holder.done || !holder.principal || holder.principal.name === p.name) return null;
    return `${carId} is streaming under another principal; telemetry for it refused on this stream`;
  }

  /** The principal that last streamed `carId` on this instance (its stream may have closed), if any. */
  streamedByOf(carId: string): string | undefined {
    return this.streamedBy.get(carId);
  }

  /** Writes a response on a stream, honouring backpressure. False when the stream is closed. */
  respond(slot: StreamSlot<R>, msg: R): boolean {
    return this.flow.respond(slot, msg);
  }

  /** The stream the car last sent telemetry on, if it is open here. */
  streamOf(carId: string): StreamSlot<R> | undefined {
    return this.carStreams.get(carId);
  }

  onTelemetry(listener: TelemetryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): IngestionStats {
    return { ...this.counters, queued: this.batcher.size, activeStreams: this.flow.size, connectedCars: this.carStreams.size };
  }

  markStarted(at = Date.now()): void {
    this.counters.startedAt = at;
  }

  /** First half of stop: refuse new calls and end every stream. */
  beginStop(): void {
    this.isStopping = true;
    this.flow.endAll();
  }

  /** Second half of stop: let in-flight messages arrive, write everything accepted, then ignore the rest. */
  async drain(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await this.batcher.drain();
    this.closed = true;
  }

  private async write(events: TelemetryEvent[]): Promise<void> {
    const { fleet, bus, topic, logger, metrics } = this.deps;
    const written = await writeTelemetryBatch(
      { fleet, bus, topic, logger, metrics, isStopping: () => this.isStopping, onError: () => void this.counters.flushErrors++ },
      events,
    );
    if (!written) return;
    this.counters.published += events.length;
    this.counters.batches++;
    metrics.published.inc(events.length);
    for (const listener of this.listeners) notify(listener, events, logger);
  }

  private onQueueFull(full: boolean): void {
    if (full) {
      this.counters.paused++;
      this.deps.metrics.pauses.inc();
      this.deps.logger.debug({ queued: this.batcher.size }, 'ingestion: queue full, pausing streams');
    }
    this.flow.setQueueFull(full);
  }
}

/** Runs a listener; its failure (thrown or rejected) is logged, never propagated to the batcher. */
function notify(listener: TelemetryListener, events: TelemetryEvent[], logger: Logger): void {
  try {
    const r = listener(events);
    if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => logger.error({ err }, 'ingestion: telemetry listener failed'));
  } catch (err) {
    logger.error({ err }, 'ingestion: telemetry listener failed');
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
