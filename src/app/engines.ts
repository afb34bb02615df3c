import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { FleetState } from '../ports/fleet-state.js';
import type { Store } from '../ports/store.js';

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
  clientId?: string;
}

/**
 * Builds the adapters a process needs: real engines where configured, in-memory
 * adapters and PGlite otherwise. Each factory connects before returning, so an
 * unreachable engine fails here with exit 4.
 */
export async function createEngines(config: Config & { dataDir: string }, opts: EngineOptions): Promise<Engines> {
  const engines: Engines = { close: async () => {} };
  const opened: { close(): Promise<void> }[] = [];
  const schema = config.namespace || 'public';
  try {
    if (opts.need.includes('bus')) {
      engines.bus = config.kafkaBrokers?.length
        ? await (await import('../adapters/kafka/kafka-event-bus.js')).createKafkaEventBus({ brokers: config.kafkaBrokers, clientId: opts.clientId ?? 'greenlane', logger: opts.logger })
        : (await import('../adapters/memory/memory-event-bus.js')).createMemoryEventBus();
      opened.push(engines.bus);
    }
    if (opts.need.includes('fleet')) {
      engines.fleet = config.redisUrl
        ? await (await import('../adapters/redis/redis-fleet-state.js')).createRedisFleetState({ url: config.redisUrl, namespace: config.namespace, logger: opts.logger })
        : (await import('../adapters/memory/memory-fleet-state.js')).createMemoryFleetState();
      opened.push(engines.fleet);
    }
    if (opts.need.includes('store')) {
      engines.store = config.databaseUrl
        ? await (await import('../adapters/postgres/postgres-store.js')).createPostgresStore({ url: config.databaseUrl, schema, logger: opts.logger })
        : await (await import('../adapters/pglite/pglite-store.js')).createPgliteStore({
            dataDir: opts.ephemeralStore ? undefined : join(config.dataDir, 'pglite'),
            schema,
            logger: opts.logger,
          });
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
