import type { Registry } from 'prom-client';
import { createEngines, localPrices, openPriceSource, openReservations, type Engines } from './engines.js';
import type { LoadedConfig } from '../config/load.js';
import { resolveTokens } from '../config/token.js';
import { TOPIC_EVENTS, topicName } from '../domain/events.js';
import { readStationsFile } from '../config/stations-file.js';
import type { Logger } from '../observability/logger.js';
import type { PriceSource } from '../ports/price-source.js';
import type { Reservations } from '../ports/reservations.js';
import { assetPath } from '../util/assets.js';
import { toBookingResponse } from '../grpc/booking-codec.js';
import { createCoordinator, type Coordinator } from '../services/coordination/index.js';
import { createGrid, type Grid } from '../services/grid.js';
import { createIngestion, type Ingestion } from '../grpc/ingestion-server.js';
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
  /** Tokens ingestion accepts (the first is what in-process clients present). */
  tokens: string[];
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
  const tokens = has('ingestion') ? resolveTokens(config, mode) : [];
  const engines = await createEngines(config, { need: [...need], logger, ephemeralStore: opts.ephemeralStore, clientId: `greenlane-${services.join('-')}` });
  const stack: Stack = { engines, tokens, prices: await localPrices(), stop: async () => {} };
  const started: (() => Promise<void>)[] = [];
  try {
    if (engines.bus) await engines.bus.ensureTopics([topicName(config.namespace, TOPIC_EVENTS), topicName(config.namespace, 'fleet-events.dlq')]);
    if (has('grid')) {
      stack.grid = createGrid({ port: config.gridPort, logger: logger.child({ service: 'grid' }), registry });
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
      stack.ingestion = createIngestion({ config, bus: engines.bus!, fleet: engines.fleet!, tokens, logger: logger.child({ service: 'ingestion' }), registry, namespace: config.namespace });
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
  stack.reservations = await openReservations(config, { logger: opts.logger });
  await stack.engines.fleet!.loadStations(stations);
  const ingestion = stack.ingestion!;
  stack.coordinator = createCoordinator({
    reservations: stack.reservations,
    fleet: stack.engines.fleet,
    bus: stack.engines.bus!,
    prices: stack.prices,
    stations,
    namespace: config.namespace,
    logger: opts.logger,
    registry: opts.registry,
    // Event time always: a `sim --speed N` fleet runs ahead of the wall clock and holds, expiry and
    // sessions must follow its time; with real cars event time is the wall clock.
    clock: 'event-time',
    policy: { graceMs: config.holdGraceSec * 1000, maxHoldMs: config.maxHoldSec * 1000, minHoldMs: Math.min(60_000, config.maxHoldSec * 1000) },
    deliver: (carId, decision) => ingestion.sendToCar(carId, toBookingResponse(decision)),
  });
  await stack.coordinator.start();
  ingestion.onTelemetry((events) => stack.coordinator!.onTelemetry(events));
  ingestion.attachQueries(stackQueryHandlers({ coordinator: stack.coordinator, reservations: stack.reservations, fleet: stack.engines.fleet!, store: stack.engines.store, prices: stack.prices }));
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
