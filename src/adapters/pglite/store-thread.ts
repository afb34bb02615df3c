/**
 * The PGlite thread's entry (started by src/adapters/pglite/threaded-store.ts): it owns the
 * PGlite instance of one data dir and answers store calls posted to it, so PostgreSQL's wasm runs
 * on a core of its own while the main thread ingests and coordinates.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../ports/store.js';
import { acquirePglite, createPgliteStore } from './pglite-store.js';
import type { ThreadReply, ThreadRequest } from './thread-protocol.js';

const port = parentPort!;
const { dataDir } = workerData as { dataDir?: string };
const stores = new Map<number, Promise<Store>>();

/** The store's log lines go to the main thread's logger. */
const forward = {
  info: (obj: object, msg?: string) => port.postMessage({ log: 'info', obj, msg } satisfies ThreadReply),
  warn: (obj: object, msg?: string) => port.postMessage({ log: 'warn', obj, msg } satisfies ThreadReply),
  child: () => forward,
};
const logger = forward as unknown as Logger;

async function handle(req: ThreadRequest): Promise<unknown> {
  if (req.method === 'open') {
    const opened = createPgliteStore({ dataDir, schema: req.args[0] as string, logger });
    stores.set(req.store, opened);
    await opened;
    return undefined;
  }
  if (req.method === 'query') {
    const { db, release } = await acquirePglite(dataDir);
    try {
      return (await db.query(req.args[0] as string, req.args[1] as unknown[])).rows;
    } finally {
      await release();
    }
  }
  const store = await stores.get(req.store);
  if (!store) throw new Error(`no store ${req.store} in the PGlite thread`);
  if (req.method === 'close') stores.delete(req.store);
  const fn = store[req.method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (!fn) throw new Error(`the store has no ${req.method}()`);
  return fn.apply(store, req.args);
}

port.on('message', (req: ThreadRequest) => {
  handle(req).then(
    (result) => port.postMessage({ id: req.id, result } satisfies ThreadReply),
    (err: Error) => port.postMessage({ id: req.id, error: { name: err?.name ?? 'Error', message: err?.message ?? String(err), code: (err as { code?: string })?.code } } satisfies ThreadReply),
  );
});
