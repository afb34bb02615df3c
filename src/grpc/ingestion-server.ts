import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { TOPIC_EVENTS, topicName } from '../domain/events.js';
import type { TimestampWindow } from '../domain/telemetry.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { FleetState } from '../ports/fleet-state.js';
import { IngestionCore, type BatchOptions, type IngestionStats, type TelemetryListener } from '../services/ingestion/ingestion.js';
import { createIngestionMetrics } from '../services/ingestion/metrics.js';
import type { QueryHandlers } from '../services/queries/fleet-queries.js';
import { createAuthenticator } from './auth.js';
import { fleetServiceHandlers } from './fleet-service.js';
import { loadFleetProto, type BookingResponseMsg } from './proto.js';
import { batchLimitInterceptor, DEFAULT_GRPC_LIMITS, limitServerOptions, type GrpcLimits } from './limits.js';
import { bindServer, SERVER_OPTIONS, shutdownServer } from './server.js';
import { serverCredentials, type TlsFiles } from './tls.js';

export interface IngestionDeps {
  /** grpcHost defaults to 127.0.0.1 (loopback only). */
  config: Pick<Config, 'grpcHost' | 'grpcPort'> & Partial<Pick<Config, 'namespace'>>;
  /** Server certificate and key (and a CA to require client certificates); insecure without. */
  tls?: TlsFiles;
  /** Message size, cars per batch, streams per connection, idle connections (defaults: DEFAULT_GRPC_LIMITS). */
  limits?: Partial<GrpcLimits>;
  bus: EventBus;
  fleet: FleetState;
  /** Accepted x-api-token values of fleet principals (see resolveTokens). */
  tokens: string[];
  /** Operator tokens and the car-token secret (see resolveCredentials and docs/SECURITY.md). */
  operatorTokens?: string[];
  tokenSecret?: string;
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

/** Ingestion served over gRPC: the FleetService on a grpc-js server in front of an IngestionCore. */
export function createIngestion(deps: IngestionDeps): Ingestion {
  if (!deps.tokens.length && !deps.operatorTokens?.length) throw new Error('createIngestion: at least one API token is required');
  const { bus, fleet, logger } = deps;
  const topic = topicName(deps.namespace ?? deps.config.namespace ?? '', TOPIC_EVENTS);
  const metrics = createIngestionMetrics(deps.registry ?? new Registry(), () => core.queued);
  const core: IngestionCore<BookingResponseMsg> = new IngestionCore({ bus, fleet, topic, logger, metrics, batch: deps.batch, timestampWindow: deps.timestampWindow, now: deps.now, onTelemetry: deps.onTelemetry });
  const authenticate = createAuthenticator({ fleet: deps.tokens, operator: deps.operatorTokens, tokenSecret: deps.tokenSecret }, { onFailure: () => metrics.authFailures.inc(), isStopping: () => core.stopping });
  const watchers = new Set<() => void>();
  let queryHandlers = deps.queries;
  let server: grpc.Server | undefined;
  let boundPort = 0;
  let started = false;

  async function start(signal?: AbortSignal): Promise<void> {
    if (started) return;
    await bus.ensureTopics([topic]);
    const { FleetService } = loadFleetProto();
    const limits = { ...DEFAULT_GRPC_LIMITS, ...deps.limits };
    const credentials = serverCredentials(deps.tls);
    server = new grpc.Server({ ...SERVER_OPTIONS, ...limitServerOptions(limits), interceptors: [batchLimitInterceptor(limits.maxBatchCars)] });
    server.addService(FleetService.service, fleetServiceHandlers({ authenticate, core, bus, fleet, topic, logger, watchers, queries: () => queryHandlers }));
    boundPort = await bindServer(server, deps.config.grpcHost ?? '127.0.0.1', deps.config.grpcPort, '--grpc-port', credentials);
    started = true;
    core.markStarted();
    signal?.addEventListener('abort', () => void stop(), { once: true });
    logger.info({ host: deps.config.grpcHost ?? '127.0.0.1', port: boundPort, topic, tls: Boolean(deps.tls?.cert), clientCerts: Boolean(deps.tls?.ca), limits }, 'ingestion: listening');
  }

  /** Stop accepting, end streams, flush what was accepted, then shut the server down. */
  async function stop(): Promise<void> {
    if (!started || core.stopping) return;
    core.beginStop();
    for (const close of [...watchers]) close();
    await core.drain();
    if (server) await shutdownServer(server, deps.shutdownDeadlineMs ?? 5_000);
    const { accepted, published, rejected } = core.stats();
    logger.info({ accepted, published, rejected }, 'ingestion: stopped');
  }

  return {
    start,
    stop,
    ready: () => started && !core.stopping,
    get port() {
      return boundPort;
    },
    stats: () => core.stats(),
    onTelemetry: (listener) => core.onTelemetry(listener),
    sendToCar(carId, response) {
      const slot = core.streamOf(carId);
      if (!slot) return false;
      return core.respond(slot, { timestamp: Date.now(), ...response, car_id: carId });
    },
    hasCar: (carId) => core.streamOf(carId) !== undefined,
    attachQueries(handlers) {
      queryHandlers = handlers;
    },
  };
}
