import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquirePglite, createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import { testNamespace } from '../helpers/infra.js';
import { storeContract } from './store.contract.js';

// One in-memory PGlite per process (its init is expensive); each store gets its own schema.
const shared = await acquirePglite(undefined);
afterAll(() => shared.release());

describe('Store contract [pglite, in memory]', () => {
  storeContract(
    () => createPgliteStore({ schema: testNamespace('store') }),
    async (sql, params) => (await shared.db.query<Record<string, unknown>>(sql, params)).rows,
  );
});

describe('PGlite store on disk', () => {
  it('creates a missing data dir and keeps rows across close and reopen', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'greenlane-pglite-'));
    const dataDir = join(parent, 'nested', 'pglite');
    try {
      const first = await createPgliteStore({ dataDir });
      expect(await first.migrate()).toEqual(['001-core']);
      const row = { eventId: 'e-1', carId: 'CAR-001', time: 1_700_000_000_000, lat: 40.75, lon: -73.98, battery: 50, velocity: 10, priceRate: 0.3 };
      expect(await first.insertTelemetry([row])).toBe(1);
      await first.close();
      const again = await createPgliteStore({ dataDir });
      expect(await again.migrate()).toEqual([]);
      expect(await again.insertTelemetry([row])).toBe(0);
      expect(await again.countTelemetry()).toBe(1);
      await again.close();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
