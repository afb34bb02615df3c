import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** True once a data dir holds a database (PGlite's initdb has run there). No PGlite import: the main thread checks it before starting the store's thread. */
export function isPgliteDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}
