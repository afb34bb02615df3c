import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import { engineCleanups } from './engines.js';

/**
 * Removes what a run in a throwaway namespace created on the real engines: the schema, the
 * namespace's Redis keys and its topics. Failures are logged, never thrown (cleanup is best effort).
 */
export async function dropNamespace(loaded: LoadedConfig, namespace: string, logger: Logger): Promise<void> {
  const tasks = engineCleanups(loaded.config).map((drop) => drop(namespace));
  for (const r of await Promise.allSettled(tasks)) if (r.status === 'rejected') logger.warn({ err: r.reason, namespace }, 'namespace cleanup failed');
}
