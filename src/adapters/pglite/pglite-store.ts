import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { isSea, readAssetBytes } from '../../util/assets.js';
import type { Store } from '../../ports/store.js';
import type { MigrationTarget } from '../postgres/migrate.js';
import { createSqlStore, schemaFor, type SqlExecutor, type SqlResult } from '../postgres/sql.js';

export interface PgliteStoreOptions {
  /** Where the database lives; undefined = in memory. */
  dataDir?: string;
  /** Schema holding the tables; default `public`. */
  schema?: string;
  logger?: Logger;
}

/**
 * PGlite's first init costs ~850 MB RSS, so a process keeps one instance per data dir (the
 * in-memory one included) and stores on it share it, each in its own schema; the instance
 * closes with its last store. Its query() waits for a running transaction(), so migrations
 * from one store never interleave with another store's writes.
 */
const instances = new Map<string, { db: Promise<PGlite>; refs: number }>();

export async function acquirePglite(dataDir: string | undefined): Promise<{ db: PGlite; release: () => Promise<void> }> {
  const key = dataDir === undefined ? 'memory://' : resolve(dataDir);
  let entry = instances.get(key);
  if (!entry) {
    // PGlite creates only the last path segment; a fresh data dir needs its parents.
    if (dataDir !== undefined) mkdirSync(key, { recursive: true });
    entry = { db: PGlite.create(dataDir === undefined ? undefined : key, pgliteOptions()), refs: 0 };
    instances.set(key, entry);
  }
  entry.refs++;
  const mine = entry;
  const db = await mine.db.catch((err) => {
    instances.delete(key);
    throw err;
  });
  let released = false;
  return {
    db,
    async release() {
      if (released) return;
      released = true;
      if (--mine.refs > 0) return;
      instances.delete(key);
      await db.close();
    },
  };
}

/**
 * Memory: PGlite's postgres runs in one WebAssembly memory (128 MB to start, grown on demand and
 * never given back), and its stock settings are a server's: shared_buffers 128 MB, which alone
 * pushes the memory past its initial size once the buffers fill. The embedded stack's tables are
 * small and their hot rows recent, so 16 MB of buffers (the rest is the OS page cache of the data
 * dir, or the in-memory file system) keeps `greenlane up --sim 20` under 400 MB RSS
 * (bench/cli-startup.ts --footprint). (The wasm memory cannot start below the module's own 128 MB;
 * pages postgres never touches cost no RSS.)
 */
export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: '16MB',
  wal_buffers: '1MB',
  temp_buffers: '2MB',
  work_mem: '2MB',
  maintenance_work_mem: '16MB',
};

function pgliteOptions(): PGliteOptions {
  const settings = Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const base: PGliteOptions = { startParams: [...PGlite.defaultStartParams, ...settings] };
  if (!isSea()) return base;
  // In the single executable PGlite's wasm and data files are embedded assets, handed over here
  // instead of being looked up next to PGlite's own module.
  // (WebAssembly's types are not in this project's lib.)
  const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => PGliteOptions['pgliteWasmModule'] } };
  return {
    ...base,
    pgliteWasmModule: new wasm.Module(readAssetBytes('pglite/pglite.wasm')),
    initdbWasmModule: new wasm.Module(readAssetBytes('pglite/initdb.wasm')),
    fsBundle: new Blob([readAssetBytes('pglite/pglite.data')]),
  };
}

/** pg-like query(): parameterless SQL goes through exec(), which accepts several statements (migration files). */
function executor(db: PGlite | Transaction): SqlExecutor {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<SqlResult<R>> {
      if (params === undefined) {
        const results = await db.exec(sql);
        const last = results[results.length - 1];
        return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? 0 };
      }
      const res = await db.query<R>(sql, params);
      return { rows: res.rows, rowCount: res.affectedRows ?? 0 };
    },
  };
}

export async function createPgliteStore(opts: PgliteStoreOptions = {}): Promise<Store> {
  const schema = schemaFor(opts.schema);
  const { db, release } = await acquirePglite(opts.dataDir);
  const exec = executor(db);
  const target: MigrationTarget = { ...exec, transaction: (fn) => db.transaction((tx) => fn(executor(tx))) };
  return createSqlStore({
    kind: 'pglite',
    schema,
    exec,
    logger: opts.logger?.child({ adapter: 'pglite-store', schema }),
    withMigrationTarget: (fn) => fn(target),
    close: release,
  });
}
