import type { Store } from '../../ports/store.js';

/**
 * A store method the PGlite thread answers (src/adapters/pglite/store-thread.ts), `open` for a
 * new schema, or `query`: raw SQL on the thread's instance (tests look at what the port hides).
 */
export type ThreadMethod = Exclude<keyof Store, 'kind'> | 'open' | 'query';

/** Main thread → PGlite thread: call `method` on store `store` (one per schema). */
export interface ThreadRequest {
  id: number;
  store: number;
  method: ThreadMethod;
  args: unknown[];
}

/** PGlite thread → main thread: a call's result or error, or a log line of the store. */
export type ThreadReply =
  | { id: number; result: unknown }
  | { id: number; error: { name: string; message: string; code?: string } }
  | { log: 'info' | 'warn'; obj: object; msg?: string };
