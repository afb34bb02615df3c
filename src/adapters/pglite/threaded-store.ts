import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../ports/store.js';
import { isPgliteDataDir } from './data-dir.js';
import type { PgliteStoreOptions } from './pglite-store.js';
import type { ThreadMethod, ThreadReply, ThreadRequest } from './thread-protocol.js';

/**
 * PGlite on a thread of its own. In embedded mode one process runs ingestion, the coordinator and
 * the worker; PostgreSQL's wasm (each insert batch, each migration) then shares one core with
 * them. This store posts every call to a worker thread holding the PGlite instance
 * (src/adapters/pglite/store-thread.ts), so the writes run on the second core; rows cross by
 * structured clone. It passes the same Store contract (test/contract/store.pglite.test.ts).
 *
 * As with PGlite in-process (src/adapters/pglite/pglite-store.ts), a process keeps one instance
 * per data dir: one thread per data dir, one store per schema on it; the thread ends with its
 * last store. It keeps the process alive only while a call is waiting for it.
 */
interface ThreadEntry {
  worker: Worker;
  stores: number;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  dead?: Error;
  logger?: Logger;
}

const threads = new Map<string, ThreadEntry>();
let nextId = 1;

/**
 * The thread's entry next to this module: .js once built; from a checkout run through tsx, the
 * .ts source, loaded after tsx's hooks (a worker's own `--import` runs after its entry resolves on
 * Node 20, so the thread first imports tsx, then the entry).
 */
function spawnEntry(dataDir: string | undefined): Worker {
  const opts = { workerData: { dataDir }, name: 'greenlane-pglite' };
  if (!fileURLToPath(import.meta.url).endsWith('.ts')) return new Worker(new URL('./store-thread.js', import.meta.url), opts);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const url = new URL('./store-thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => (t.register(), import(${JSON.stringify(url)})))`, { ...opts, eval: true });
}

function startThread(key: string, dataDir: string | undefined, logger?: Logger): ThreadEntry {
  const worker = spawnEntry(dataDir);
  const t: ThreadEntry = { worker, stores: 0, pending: new Map(), logger };
  worker.unref();
  worker.on('message', (m: ThreadReply) => {
    if ('log' in m) return void t.logger?.[m.log](m.obj, m.msg);
    const p = t.pending.get(m.id);
    if (!p) return;
    t.pending.delete(m.id);
    if (t.pending.size === 0) worker.unref();
    if ('error' in m) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name, ...(m.error.code ? { code: m.error.code } : {}) }));
    else p.resolve(m.result);
  });
  const fail = (err: Error) => {
    t.dead = new Error(`the PGlite thread stopped: ${err.message}`, { cause: err });
    if (threads.get(key) === t) threads.delete(key);
    for (const p of t.pending.values()) p.reject(t.dead);
    t.pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  return t;
}

function call(t: ThreadEntry, store: number, method: ThreadMethod, args: unknown[]): Promise<unknown> {
  if (t.dead) return Promise.reject(t.dead);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    t.pending.set(id, { resolve, reject });
    if (t.pending.size === 1) t.worker.ref();
    t.worker.postMessage({ id, store, method, args } satisfies ThreadRequest);
  });
}

/** A Store whose PGlite runs on its own thread; same options as createPgliteStore. */
export async function createThreadedPgliteStore(opts: PgliteStoreOptions = {}): Promise<Store> {
  const key = opts.dataDir === undefined ? 'memory://' : resolve(opts.dataDir);
  if (!threads.has(key)) await initializeElsewhere(opts);
  const t = threads.get(key) ?? startThread(key, opts.dataDir, opts.logger?.child({ adapter: 'pglite-store' }));
  threads.set(key, t);
  t.stores++;
  const id = nextId++;
  try {
    await call(t, id, 'open', [opts.schema]);
  } catch (err) {
    await release(t, key);
    throw err;
  }
  const invoke = (method: ThreadMethod) => (...args: unknown[]) => call(t, id, method, args) as Promise<never>;
  let closed = false;
  return {
    kind: 'pglite',
    migrate: invoke('migrate'),
    info: invoke('info'),
    insertTelemetry: invoke('insertTelemetry'),
    insertSessions: invoke('insertSessions'),
    insertBookings: invoke('insertBookings'),
    countTelemetry: invoke('countTelemetry'),
    listSessions: invoke('listSessions'),
    activeBookings: invoke('activeBookings'),
    async close() {
      if (closed) return;
      closed = true;
      await call(t, id, 'close', []).catch(() => {});
      await release(t, key);
    },
  };
}

/** As in-process (src/adapters/pglite/pglite-store.ts openPglite): a fresh data dir's initdb runs in another process when the caller can. */
async function initializeElsewhere(opts: PgliteStoreOptions): Promise<void> {
  const dir = opts.dataDir;
  if (dir === undefined || !opts.initialize || isPgliteDataDir(dir)) return;
  await opts.initialize(dir).catch((err: unknown) => {
    opts.logger?.warn({ err: (err as Error).message, dataDir: dir }, 'creating the PGlite database in another process failed; creating it on the store thread');
  });
}

/** Raw SQL on the PGlite thread of a data dir (undefined = in memory) that has a store open: for tests. */
export async function queryPgliteThread(dataDir: string | undefined, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const t = threads.get(dataDir === undefined ? 'memory://' : resolve(dataDir));
  if (!t) throw new Error('no PGlite thread for this data dir: open a store on it first');
  return (await call(t, 0, 'query', [sql, params])) as Record<string, unknown>[];
}

async function release(t: ThreadEntry, key: string): Promise<void> {
  if (--t.stores > 0) return;
  if (threads.get(key) === t) threads.delete(key);
  await t.worker.terminate();
}
