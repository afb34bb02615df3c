// A fresh PGlite data dir's database is created by the `initialize` hook (a short-lived process in
// the CLI: src/app/engines.ts) before this process opens it; when the hook fails it is created here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { acquirePglite, initPgliteDataDir, isPgliteDataDir } from '../../src/adapters/pglite/pglite-store.js';

const root = mkdtempSync(join(tmpdir(), 'gl-pglite-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('lets the hook create a fresh data dir, then opens it; an existing one is not handed to the hook', async () => {
  const dir = join(root, 'hooked');
  const initialize = vi.fn(initPgliteDataDir);
  const first = await acquirePglite(dir, { initialize });
  expect(initialize).toHaveBeenCalledWith(dir);
  expect(isPgliteDataDir(dir)).toBe(true);
  expect((await first.db.query<{ one: number }>('select 1 as one')).rows[0]?.one).toBe(1);
  await first.release();
  const again = await acquirePglite(dir, { initialize });
  expect(initialize).toHaveBeenCalledTimes(1);
  await again.release();
}, 180_000);

it('creates the database in this process when the hook fails, and says so', async () => {
  const dir = join(root, 'fallback');
  const warn = vi.fn();
  const logger = { warn } as unknown as NonNullable<Parameters<typeof acquirePglite>[1]>['logger'];
  const opened = await acquirePglite(dir, { initialize: () => Promise.reject(new Error('no such command')), logger });
  expect(isPgliteDataDir(dir)).toBe(true);
  expect(warn).toHaveBeenCalledOnce();
  expect(JSON.stringify(warn.mock.calls[0])).toContain('no such command');
  await opened.release();
}, 180_000);
