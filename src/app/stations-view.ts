import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { Station } from '../ports/fleet-state.js';
import { randomUUID } from 'node:crypto';
import { openFleetState, openReservations } from './engines.js';

/**
 * Loads stations into the shared state in Redis (external mode): the GEO index in fleet state and
 * the port counts in the reservations (new capacity promotes queued cars at once).
 */
export async function loadStationsIntoRedis(loaded: LoadedConfig, logger: Logger, stations: Station[]): Promise<void> {
  const { config } = loaded;
  if (!config.redisUrl) throw new Error('loadStationsIntoRedis needs GREENLANE_REDIS_URL');
  const fleet = await openFleetState(config, { logger });
  try {
    // Promotions this load decides are published by some coordinator's relay; naming this process as
    // their origin (no coordinator's id) lets every instance route them to its connected cars.
    const reservations = await openReservations(config, { logger, origin: `stations-load-${randomUUID().slice(0, 8)}` });
    try {
      await fleet.loadStations(stations);
      await reservations.loadStations(stations, Date.now());
    } finally {
      await reservations.close?.();
    }
  } finally {
    await fleet.close();
  }
}
