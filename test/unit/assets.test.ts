// The single executable's embedded files (src/util/assets.ts), with a stand-in for what its entry
// (scripts/sea/main.cjs) hands over: written to the temp dir once per process, read from there.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const files: Record<string, string> = { 'proto/fleet.proto': 'syntax = "proto3";', 'deploy/stations/a.json': '[1]', 'src/adapters/redis/lua/x.lua': 'return 1' };
const bytes = (k: string) => new TextEncoder().encode(files[k]).buffer;
const reads: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'gl-assets-'));
const oldTmp = process.env.TMPDIR;
process.env.TMPDIR = tmp;
(globalThis as Record<string, unknown>).__greenlaneSea = {
  isSea: () => true,
  getAsset: (k: string) => (reads.push(`copy ${k}`), bytes(k).slice(0)),
  getRawAsset: (k: string) => (reads.push(`raw ${k}`), bytes(k)),
  keys: Object.keys(files),
  buildId: 'test-build',
};
const { assetPath, readAsset, listAssets, isSea } = await import('../../src/util/assets.js');

afterAll(() => {
  delete (globalThis as Record<string, unknown>).__greenlaneSea;
  process.env.TMPDIR = oldTmp;
  rmSync(tmp, { recursive: true, force: true });
});

it('writes every embedded file once per process, in place (no copies), and reads them from disk after', () => {
  expect(isSea()).toBe(true);
  const proto = assetPath('proto/fleet.proto');
  expect(proto).toBe(join(tmp, `greenlane-${process.getuid?.() ?? 'user'}`, 'test-build', 'proto/fleet.proto'));
  expect(readFileSync(proto, 'utf8')).toBe(files['proto/fleet.proto']);
  expect(reads.filter((r) => r.startsWith('copy'))).toEqual([]);
  expect(reads.length).toBe(3);
  // Later uses touch no embedded bytes.
  assetPath('deploy/stations/a.json');
  expect(readAsset('src/adapters/redis/lua/x.lua')).toBe('return 1');
  expect(listAssets('src/adapters/redis/lua')).toEqual(['x.lua']);
  expect(reads.length).toBe(3);
});

it('keeps a file already written by an earlier process (same size) and does not rewrite it', async () => {
  const file = assetPath('deploy/stations/a.json');
  writeFileSync(file, '[2]'); // same size: taken as this build's file
  const before = statSync(file).mtimeMs;
  const { vi } = await import('vitest');
  vi.resetModules();
  const fresh = await import('../../src/util/assets.js');
  expect(readFileSync(fresh.assetPath('deploy/stations/a.json'), 'utf8')).toBe('[2]');
  expect(statSync(file).mtimeMs).toBe(before);
});
