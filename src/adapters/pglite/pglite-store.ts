import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';
import { mkdirSync, openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { isPgliteDataDir } from './data-dir.js';
import { assetPath, isSea } from '../../util/assets.js';
import type { Store } from '../../ports/store.js';
import type { MigrationTarget } from '../postgres/migrate.js';
import { createSqlStore, schemaFor, type SqlExecutor, type SqlResult } from '../postgres/sql.js';

export interface PgliteStoreOptions {
  /** Where the database lives; undefined = in memory. */
  dataDir?: string;
  /**
   * Creates a fresh data dir's database elsewhere (another process) before it is opened here; on
   * failure it is created in this process. See acquirePglite.
   */
  initialize?: (dataDir: string) => Promise<void>;
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

export async function acquirePglite(
  dataDir: string | undefined,
  opts: { initialize?: (dataDir: string) => Promise<void>; logger?: Logger } = {},
): Promise<{ db: PGlite; release: () => Promise<void> }> {
  const key = dataDir === undefined ? 'memory://' : resolve(dataDir);
  let entry = instances.get(key);
  if (!entry) {
    // PGlite creates only the last path segment; a fresh data dir needs its parents.
    if (dataDir !== undefined) mkdirSync(key, { recursive: true });
    entry = { db: openPglite(dataDir === undefined ? undefined : key, opts), refs: 0 };
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

export { isPgliteDataDir };

/**
 * Creates the database of a fresh data dir and closes it (run by a short-lived process, see
 * openPglite). No-op on a data dir that has one.
 */
export async function initPgliteDataDir(dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  if (isPgliteDataDir(dataDir)) return;
  const db = await PGlite.create(dataDir, await pgliteOptions(true));
  await db.close();
}

/**
 * A fresh data dir costs PGlite an initdb: a second postgres instance in its own wasm memory, and
 * the new cluster copied between file systems, peaking near 1.2 GB. The process keeps ~110–140 MB of
 * that native memory for good afterwards (the C allocator does not give it back): `greenlane up
 * --sim 20` held 380–460 MB after a fresh start against 270–300 MB on the same data dir restarted
 * (bench/cli-startup.ts --footprint). So where the caller can, initdb runs in another process and
 * this one opens the finished data dir.
 */
async function openPglite(dataDir: string | undefined, opts: { initialize?: (dataDir: string) => Promise<void>; logger?: Logger }): Promise<PGlite> {
  if (dataDir !== undefined && opts.initialize && !isPgliteDataDir(dataDir)) {
    await opts.initialize(dataDir).catch((err: unknown) => {
      opts.logger?.warn({ err: (err as Error).message, dataDir }, 'creating the PGlite database in another process failed; creating it here');
    });
  }
  return PGlite.create(dataDir, await pgliteOptions(dataDir === undefined || !isPgliteDataDir(dataDir)));
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

/** `initdb`: whether PGlite will run initdb (a fresh or in-memory data dir), which needs initdb's wasm too. */
async function pgliteOptions(initdb: boolean): Promise<PGliteOptions> {
  const settings = Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const base: PGliteOptions = { startParams: [...PGlite.defaultStartParams, ...settings] };
  if (!isSea()) return base;
  // In the single executable PGlite's wasm and data files are embedded assets, written once per
  // build to the temp dir (src/util/assets.ts) and handed over from there the way PGlite itself
  // loads them from its package folder: each wasm read and compiled asynchronously (on V8's
  // background threads, not in one synchronous compile on the main thread) and the data file as a
  // file-backed Blob (no copy in memory until PGlite reads it). initdb's wasm is compiled only for
  // an initdb: compiling a module costs native memory (V8's compile jobs) that stays.
  // (WebAssembly's types are not in this project's lib.)
  const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<PGliteOptions['pgliteWasmModule']> } };
  const compile = async (rel: string) => wasm.compile(await readFile(assetPath(rel)));
  const [pgliteWasmModule, initdbWasmModule, fsBundle] = await Promise.all([
    compile('pglite/pglite.wasm'),
    initdb ? compile('pglite/initdb.wasm') : undefined,
    openAsBlob(assetPath('pglite/pglite.data')),
  ]);
  return { ...base, pgliteWasmModule, fsBundle, ...(initdbWasmModule ? { initdbWasmModule } : {}) };
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
  const { db, release } = await acquirePglite(opts.dataDir, { initialize: opts.initialize, logger: opts.logger });
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
