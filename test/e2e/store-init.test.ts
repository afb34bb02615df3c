// `greenlane store:init <dir>` (hidden): what `up` runs as a short-lived process to create a fresh
// PGlite data dir's database (src/adapters/pglite/pglite-store.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'gl-store-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('creates the database of a fresh data dir and exits; is hidden from help', async () => {
  const dir = join(root, 'pglite');
  const r = await runCli(['store:init', dir], { reject: false, timeout: 300_000 });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
  const again = await runCli(['store:init', dir], { reject: false, timeout: 300_000 });
  expect(again.exitCode, String(again.stderr)).toBe(0);
  const help = await runCli(['--help'], { reject: false });
  expect(String(help.stdout)).not.toContain('store:init');
}, 600_000);
