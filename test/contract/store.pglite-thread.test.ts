import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createThreadedPgliteStore, queryPgliteThread } from '../../src/adapters/pglite/threaded-store.js';
import type { Store } from '../../src/ports/store.js';
import { testNamespace } from '../helpers/infra.js';
import { storeContract } from './store.contract.js';

// One store stays open so the in-memory instance (and its thread) outlives each contract store.
const anchor = await createThreadedPgliteStore({ schema: testNamespace('anchor') });
afterAll(() => anchor.close());

describe('Store contract [pglite on its own thread, in memory]', () => {
  storeContract(
    () => createThreadedPgliteStore({ schema: testNamespace('store') }),
    (sql, params) => queryPgliteThread(undefined, sql, params),
  );
});

describe('PGlite thread', () => {
  it('keeps rows on disk across close and reopen, and passes errors back with their message', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'greenlane-pglite-thread-'));
    const dataDir = join(parent, 'pglite');
    let store: Store | undefined;
    try {
      store = await createThreadedPgliteStore({ dataDir });
      expect(await store.migrate()).toEqual(['001-core']);
      const row = { eventId: 'e-1', carId: 'CAR-001', time: 1_700_000_000_000, lat: 40.75, lon: -73.98, battery: 50, velocity: 10, priceRate: 0.3 };
      expect(await store.insertTelemetry([row])).toBe(1);
      await expect(queryPgliteThread(dataDir, 'select * from no_such_table')).rejects.toThrow(/no_such_table/);
      await store.close();
      store = await createThreadedPgliteStore({ dataDir });
      expect(await store.migrate()).toEqual([]);
      expect(await store.countTelemetry()).toBe(1);
    } finally {
      await store?.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
