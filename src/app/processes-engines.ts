import type { LoadedConfig } from '../config/load.js';
import { envName } from '../config/schema.js';
import { ConfigError } from '../errors.js';

// Apart from src/app/processes.ts so that the primary of `ingestion --processes N`
// (src/app/processes-cluster.ts) checks it without loading the stack it never runs.

/** `greenlane ingestion` in external mode needs Kafka and Redis. */
export function assertIngestionEngines(loaded: LoadedConfig): void {
  const { config, mode } = loaded;
  const missing = mode === 'external' ? (['kafkaBrokers', 'redisUrl'] as const).filter((k) => !config[k] || !config[k]!.length) : [];
  if (missing.length)
    throw new ConfigError(`External ingestion needs Kafka and Redis; missing ${missing.map(envName).join(', ')}`, [
      'Set them (e.g. after `greenlane infra up`), or unset every engine setting to run embedded.',
    ]);
}
