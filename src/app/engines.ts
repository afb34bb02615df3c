import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { FleetState } from '../ports/fleet-state.js';
import type { PriceSource } from '../ports/price-source.js';
import type { Reservations } from '../ports/reservations.js';
import type { Store } from '../ports/store.js';
import { isCliProcess, runSelf } from './self-command.js';

/**
 * The one place that chooses adapters from config: a real engine where one is configured, the
 * in-memory adapter or PGlite otherwise. Everything else in the program asks this module. Adapters
 * load lazily, so a process never loads an engine's client it does not use.
 */

type EngineConfig = Config & { dataDir: string };

export type EngineName = 'bus' | 'fleet' | 'store';

export interface Engines {
  bus?: EventBus;
  fleet?: FleetState;
  store?: Store;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Which engines this process needs; others are not connected. */
  need: EngineName[];
  logger: Logger;
  /** Embedded only: keep PGlite in memory instead of under the data dir. */
  ephemeralStore?: boolean;
  /** Embedded only: run PGlite on a thread of its own (src/adapters/pglite/threaded-store.ts). */
  storeThread?: boolean;
  clientId?: string;
}

/** Kafka when brokers are configured, else the in-memory bus. */
export async function openEventBus(config: Config, opts: { logger: Logger; clientId?: string }): Promise<EventBus> {
  if (config.kafkaBrokers?.length) {
    const { createKafkaEventBus } = await import('../adapters/kafka/kafka-event-bus.js');
    return createKafkaEventBus({ brokers: config.kafkaBrokers, clientId: opts.clientId ?? 'greenlane', logger: opts.logger, topicReplication: config.kafkaReplication });
  }
  // One partition: the in-process bus delivers one partition at a time to one worker, so three
  // partitions only split each published batch into three store writes, and PGlite pays ~1 ms of
  // CPU per INSERT whatever its size (issue 16). Per-car order holds with any partition count.
  return (await import('../adapters/memory/memory-event-bus.js')).createMemoryEventBus({ partitions: 1, logger: opts.logger.child({ adapter: 'memory-bus' }) });
}

/** Redis when a URL is configured, else in-memory fleet state. */
export async function openFleetState(config: Config, opts: { logger: Logger }): Promise<FleetState> {
  if (config.redisUrl) return (await import('../adapters/redis/redis-fleet-state.js')).createRedisFleetState({ url: config.redisUrl, namespace: config.namespace, carTtlSec: config.carTtlSec, logger: opts.logger });
  return (await import('../adapters/memory/memory-fleet-state.js')).createMemoryFleetState();
}

/**
 * Redis when a URL is configured, else in-memory reservations. `origin` names the instance deciding
 * through them (the coordinator's instance id): stored with every outbox entry they write.
 */
export async function openReservations(config: Config, opts: { logger: Logger; origin?: string }): Promise<Reservations & { close?(): Promise<void> }> {
  if (config.redisUrl) return (await import('../adapters/redis/redis-reservations.js')).createRedisReservations({ url: config.redisUrl, namespace: config.namespace, logger: opts.logger, origin: opts.origin });
  return (await import('../adapters/memory/memory-reservations.js')).createMemoryReservations({ origin: opts.origin });
}

/** PostgreSQL when a URL is configured, else PGlite (under the data dir, or in memory). Not migrated here. */
export async function openStore(config: EngineConfig, opts: { logger: Logger; ephemeral?: boolean; poolSize?: number; thread?: boolean }): Promise<Store> {
  const schema = config.namespace || 'public';
  if (config.databaseUrl) {
    const { createPostgresStore } = await import('../adapters/postgres/postgres-store.js');
    return createPostgresStore({ url: config.databaseUrl, schema, logger: opts.logger, ...(opts.poolSize ? { poolSize: opts.poolSize } : {}) });
  }
  // A fresh data dir's database is created by a short-lived run of this program (`store:init`), so
  // the memory PGlite's initdb takes stays out of this long-running process (pglite-store.ts).
  const initialize = isCliProcess() ? (dir: string) => runSelf(['store:init', dir], { timeoutMs: 600_000 }) : undefined;
  const pglite = { dataDir: opts.ephemeral ? undefined : join(config.dataDir, 'pglite'), schema, logger: opts.logger, initialize };
  if (opts.thread) return (await import('../adapters/pglite/threaded-store.js')).createThreadedPgliteStore(pglite);
  return (await import('../adapters/pglite/pglite-store.js')).createPgliteStore(pglite);
}

/** Creates the embedded store's database in a fresh PGlite data dir (`greenlane store:init`). */
export async function initEmbeddedStore(dataDir: string): Promise<void> {
  const { initPgliteDataDir } = await import('../adapters/pglite/pglite-store.js');
  await initPgliteDataDir(dataDir);
}

/**
 * Builds the adapters a process needs. Each factory connects before returning, so an unreachable
 * engine fails here (EngineUnreachableError).
 */
export async function createEngines(config: EngineConfig, opts: EngineOptions): Promise<Engines> {
  const engines: Engines = { close: async () => {} };
  const opened: { close(): Promise<void> }[] = [];
  try {
    if (opts.need.includes('bus')) {
      engines.bus = await openEventBus(config, { logger: opts.logger, clientId: opts.clientId });
      opened.push(engines.bus);
    }
    if (opts.need.includes('fleet')) {
      engines.fleet = await openFleetState(config, { logger: opts.logger });
      opened.push(engines.fleet);
    }
    if (opts.need.includes('store')) {
      engines.store = await openStore(config, { logger: opts.logger, ephemeral: opts.ephemeralStore, thread: opts.storeThread });
      opened.push(engines.store);
      await engines.store.migrate();
    }
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
  engines.close = () => closeAll(opened.reverse());
  return engines;
}

async function closeAll(items: { close(): Promise<void> }[]): Promise<void> {
  for (const item of items) await item.close().catch(() => {});
}

/** A price source the process owns: refreshed on demand, closed when the process stops. */
export interface OwnedPriceSource extends PriceSource {
  /** Fetches the curve now; false when the grid could not be reached. */
  refresh(): Promise<boolean>;
  close(): void;
}

/** The curve computed in-process (embedded mode). */
export async function localPrices(): Promise<OwnedPriceSource> {
  const { createLocalPriceSource } = await import('../adapters/grid/http-price-source.js');
  return Object.assign(createLocalPriceSource(), { refresh: async () => true, close: () => {} });
}

/** Embedded: the local curve. External: the grid over HTTP at gridUrl (default: the configured one). */
export async function openPriceSource(
  mode: 'embedded' | 'external',
  config: Config,
  opts: { logger: Logger; gridUrl?: string; timeoutMs?: number },
): Promise<OwnedPriceSource> {
  if (mode === 'embedded') return localPrices();
  const { createHttpPriceSource } = await import('../adapters/grid/http-price-source.js');
  return createHttpPriceSource({ gridUrl: opts.gridUrl ?? config.gridUrl, token: config.gridToken, logger: opts.logger, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
  latencyMs: number;
}

/** One-shot health checks of the configured engines (for `greenlane doctor`); an engine not configured has none. */
export function engineProbes(config: Config, timeoutMs: number): Partial<Record<'kafka' | 'redis' | 'postgres', () => Promise<ProbeResult>>> {
  const { kafkaBrokers, redisUrl, databaseUrl, namespace } = config;
  return {
    ...(kafkaBrokers?.length ? { kafka: async () => (await import('../adapters/kafka/probe.js')).probeKafka(kafkaBrokers, timeoutMs) } : {}),
    ...(redisUrl ? { redis: async () => (await import('../adapters/redis/probe.js')).probeRedis(redisUrl, timeoutMs) } : {}),
    ...(databaseUrl ? { postgres: async () => (await import('../adapters/postgres/probe.js')).probePostgres(databaseUrl, timeoutMs, namespace) } : {}),
  };
}

/** For each configured engine, the operation that removes one namespace's data from it. */
export function engineCleanups(config: Config): ((namespace: string) => Promise<void>)[] {
  const { kafkaBrokers, redisUrl, databaseUrl } = config;
  const drops: ((namespace: string) => Promise<void>)[] = [];
  if (databaseUrl) drops.push(async (ns) => (await import('../adapters/postgres/cleanup.js')).dropPostgresSchema(databaseUrl, ns));
  if (redisUrl) drops.push(async (ns) => (await import('../adapters/redis/cleanup.js')).dropRedisNamespace(redisUrl, ns));
  if (kafkaBrokers?.length) drops.push(async (ns) => (await import('../adapters/kafka/cleanup.js')).deleteNamespaceTopics(kafkaBrokers, ns));
  return drops;
}
