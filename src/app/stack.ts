import type { Registry } from 'prom-client';
import { createEngines, localPrices, openPriceSource, openReservations, openStore, type Engines } from './engines.js';
import type { LoadedConfig } from '../config/load.js';
import { resolveCredentials } from '../config/token.js';
import { resolveClockMode, timestampWindowFor, type ClockMode } from './clock-mode.js';
import { TOPIC_EVENTS, topicName } from '../domain/events.js';
import { readStationsFile } from '../config/stations-file.js';
import type { Logger } from '../observability/logger.js';
import type { PriceSource } from '../ports/price-source.js';
import type { Reservations } from '../ports/reservations.js';
import type { BookingRow } from '../ports/store.js';
import { assetPath, isSea } from '../util/assets.js';
import { toBookingResponse } from '../grpc/booking-codec.js';
import { createCoordinator, newInstanceId, type Coordinator } from '../services/coordination/index.js';
import { createGrid, type Grid } from '../services/grid.js';
import { createIngestion, type Ingestion } from '../grpc/ingestion-server.js';
import { tlsFromConfig } from '../grpc/tls.js';
import { grpcBindHost } from './exposure.js';
import { stackQueryHandlers } from '../services/queries/query-handlers.js';
import { createWorker, type Worker } from '../services/worker.js';

export type ServiceName = 'grid' | 'ingestion' | 'worker';

export interface StackOptions {
  loaded: LoadedConfig;
  logger: Logger;
  registry: Registry;
  services: ServiceName[];
  /** Embedded only: keep PGlite in memory (smoke tests, benchmarks). */
  ephemeralStore?: boolean;
  /**
   * Embedded only: PGlite on a thread of its own, so the process uses a second core for the
   * writes (default: yes, except in the single executable, whose bundle has no thread entry).
   */
  storeThread?: boolean;
  /** Run the coordinator inside ingestion (default true). */
  coordinator?: boolean;
}

export interface Stack {
  engines: Engines;
  grid?: Grid;
  ingestion?: Ingestion;
  coordinator?: Coordinator;
  worker?: Worker;
  reservations?: Reservations;
  prices: PriceSource;
  /** Fleet tokens ingestion accepts (the first is what in-process clients present; embedded: the dev token, also an operator). */
  tokens: string[];
  /** The coordinator's clock: wall in production, event time in simulation (see clock-mode.ts). */
  clockMode: ClockMode;
  /** Stops in dependency order: ingestion, coordinator, worker (after draining the bus), grid, engines. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

export const DEFAULT_STATIONS_FILE = () => assetPath('deploy/stations/manhattan.json');

/**
 * Composes the services of one process. Embedded mode: memory bus and fleet state, PGlite,
 * local prices. External mode: the configured engines; each service may run in its own process.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const { config, mode } = opts.loaded;
  const { logger, registry, services } = opts;
  const has = (s: ServiceName) => services.includes(s);
  const withCoordinator = has('ingestion') && opts.coordinator !== false;
  const need = [...(has('ingestion') || has('worker') ? (['bus'] as const) : []), ...(has('ingestion') ? (['fleet'] as const) : []), ...(has('worker') ? (['store'] as const) : [])];
  const creds = has('ingestion') ? resolveCredentials(config, mode) : { fleet: [], operator: [] };
  const tokens = creds.fleet.length ? creds.fleet : creds.operator;
  const clockMode = resolveClockMode(opts.loaded);
  if (clockMode === 'event-time' && mode === 'external' && has('ingestion'))
    logger.warn({ clock: clockMode }, 'event-time clock on real engines: telemetry timestamps drive holds and expiry (simulation only)');
  const engines = await createEngines(config, { need: [...need], logger, ephemeralStore: opts.ephemeralStore, storeThread: opts.storeThread ?? !isSea(), clientId: `greenlane-${services.join('-')}` });
  const stack: Stack = { engines, tokens, clockMode, prices: await localPrices(), stop: async () => {} };
  const started: (() => Promise<void>)[] = [];
  try {
    if (engines.bus) await engines.bus.ensureTopics([topicName(config.namespace, TOPIC_EVENTS), topicName(config.namespace, 'fleet-events.dlq')]);
    if (has('grid')) {
      stack.grid = createGrid({ port: config.gridPort, host: config.bind, token: config.gridToken, forecastMaxPoints: config.forecastMaxPoints, logger: logger.child({ service: 'grid' }), registry });
      await stack.grid.start();
      started.push(() => stack.grid!.stop());
    }
    // Embedded: the curve in-process. External: the grid over HTTP (this process's own grid when it hosts one).
    stack.prices = await openPriceSource(mode, config, { gridUrl: stack.grid?.url, logger: logger.child({ service: 'prices' }) });
    if (has('worker')) {
      stack.worker = createWorker({ bus: engines.bus!, store: engines.store!, prices: stack.prices, namespace: config.namespace, logger: logger.child({ service: 'worker' }), registry });
      await stack.worker.start();
      started.push(() => stack.worker!.stop());
    }
    if (has('ingestion')) {
      stack.ingestion = createIngestion({
        config: { ...config, grpcHost: grpcBindHost(config) },
        tls: tlsFromConfig(config),
        limits: { maxMessageBytes: config.grpcMaxMessageBytes, maxBatchCars: config.maxBatchCars, maxStreams: config.grpcMaxStreams, idleTimeoutMs: config.grpcIdleTimeoutMs },
        bus: engines.bus!,
        fleet: engines.fleet!,
        tokens: creds.fleet,
        operatorTokens: creds.operator,
        tokenSecret: creds.tokenSecret,
        timestampWindow: timestampWindowFor(clockMode, config.maxClockSkewSec),
        batch: { highWater: config.ingestBuffer },
        logger: logger.child({ service: 'ingestion' }),
        registry,
        namespace: config.namespace,
      });
      if (withCoordinator) await attachCoordinator(stack, opts);
      await stack.ingestion.start();
      started.push(() => stack.ingestion!.stop());
    }
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    await stack.coordinator?.stop().catch(() => {});
    await engines.close();
    throw err;
  }
  stack.stop = (o) => stopStack(stack, o?.drainMs ?? 10_000);
  return stack;
}

async function attachCoordinator(stack: Stack, opts: StackOptions): Promise<void> {
  const { config } = opts.loaded;
  const stations = await readStationsFile(config.stationsFile ?? DEFAULT_STATIONS_FILE());
  // One id for the coordinator and its reservations: outbox entries name the instance that decided.
  const instanceId = newInstanceId();
  stack.reservations = await openReservations(config, { logger: opts.logger, origin: instanceId });
  await stack.engines.fleet!.loadStations(stations);
  const ingestion = stack.ingestion!;
  stack.coordinator = createCoordinator({
    instanceId,
    reservations: stack.reservations,
    fleet: stack.engines.fleet,
    bus: stack.engines.bus!,
    prices: stack.prices,
    stations,
    namespace: config.namespace,
    logger: opts.logger,
    registry: opts.registry,
    // Wall clock in production: nothing a client sends moves server time (nor the scripts' res:clock).
    // Event time only as an explicit simulation mode (embedded dev stacks, or asked for by name).
    clock: stack.clockMode === 'event-time' ? 'event-time' : undefined,
    policy: { graceMs: config.holdGraceSec * 1000, maxHoldMs: config.maxHoldSec * 1000, minHoldMs: Math.min(60_000, config.maxHoldSec * 1000) },
    deliver: (carId, decision) => ingestion.sendToCar(carId, toBookingResponse(decision)),
    history: bookingHistory(stack, opts),
    outboxMax: config.outboxMax,
  });
  await stack.coordinator.start();
  ingestion.onTelemetry((events) => stack.coordinator!.onTelemetry(events));
  ingestion.attachQueries(stackQueryHandlers({ coordinator: stack.coordinator, reservations: stack.reservations, fleet: stack.engines.fleet!, store: stack.engines.store, prices: stack.prices }));
}

/**
 * Where lost reservations are rebuilt from: the bookings table. This process's store when it has one
 * (embedded, or a worker here); else the configured database, opened only for a rebuild.
 */
function bookingHistory(stack: Stack, opts: StackOptions): ((sinceMs: number) => Promise<BookingRow[]>) | undefined {
  const { config } = opts.loaded;
  if (stack.engines.store) return async (since) => (await stack.engines.store!.activeBookings?.(since)) ?? [];
  if (!config.databaseUrl) return undefined;
  return async (since) => {
    const store = await openStore(config, { logger: opts.logger, poolSize: 1 });
    try {
      return (await store.activeBookings?.(since)) ?? [];
    } finally {
      await store.close();
    }
  };
}

async function stopStack(stack: Stack, drainMs: number): Promise<void> {
  await stack.ingestion?.stop();
  await stack.coordinator?.stop();
  if (stack.worker) {
    await waitForDrain(stack, drainMs);
    await stack.worker.stop();
  }
  await stack.grid?.stop();
  (stack.prices as { close?: () => void }).close?.();
  (stack.reservations as { close?: () => Promise<void> } | undefined)?.close?.();
  await stack.engines.close();
}

/** Lets the worker catch up with what ingestion already acknowledged, within the deadline. */
async function waitForDrain(stack: Stack, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const lag = await stack.worker!.lag();
    if (!lag) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
