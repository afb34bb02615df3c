import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packagePath } from './package-root.js';

/**
 * Files shipped with the program (proto, Lua scripts, SQL migrations, stations, deploy/, the web page, PGlite's
 * wasm and data), named by their path in the package, e.g. `proto/fleet.proto`. From an npm install
 * or a checkout they are files under the package root; in the single executable they are embedded
 * assets (`node:sea`), which the executable's entry hands over as `globalThis.__greenlaneSea`.
 */

interface SeaAssets {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
  getAsset(key: string, encoding: string): string;
  /** Every embedded asset key. */
  keys: string[];
  /** Identifies the build, so extracted copies of one build never mix with another's. */
  buildId: string;
}

function sea(): SeaAssets | undefined {
  const s = (globalThis as { __greenlaneSea?: SeaAssets }).__greenlaneSea;
  return s?.isSea() ? s : undefined;
}

/** True in the single executable. */
export function isSea(): boolean {
  return sea() !== undefined;
}

/** A shipped text file. */
export function readAsset(relPath: string): string {
  const s = sea();
  return s ? s.getAsset(relPath, 'utf8') : readFileSync(packagePath(relPath), 'utf8');
}

/** A shipped binary file. */
export function readAssetBytes(relPath: string): Uint8Array {
  const s = sea();
  return s ? new Uint8Array(s.getAsset(relPath)) : readFileSync(packagePath(relPath));
}

/** The file names (not paths) directly in a shipped folder, e.g. listAssets('src/adapters/redis/lua'). */
export function listAssets(relDir: string): string[] {
  const s = sea();
  if (!s) return readdirSync(packagePath(relDir));
  const prefix = relDir.replace(/\/$/, '') + '/';
  return s.keys.filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length));
}

/**
 * A path on disk for a shipped file, for consumers that need one (docker compose, the proto loader,
 * a stations file flag default). In the single executable the embedded files other than PGlite's
 * are written once per build under the temp dir, keeping their relative layout (compose mounts
 * deploy/ folders).
 */
export function assetPath(relPath: string): string {
  const s = sea();
  if (!s) return packagePath(relPath);
  const root = join(tmpdir(), `greenlane-${process.getuid?.() ?? 'user'}`, s.buildId);
  for (const key of s.keys) {
    if (key.startsWith('pglite/')) continue;
    const file = join(root, key);
    const bytes = new Uint8Array(s.getAsset(key));
    if (existsSync(file) && statSync(file).size === bytes.byteLength) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  return join(root, relPath);
}
