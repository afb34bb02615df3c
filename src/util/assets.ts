import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
  /**
   * The asset in place, in the executable's mapped file (`node:sea` getRawAsset): no copy, but the
   * pages it touches stay resident in this process's RSS while it runs. Absent from an older entry.
   */
  getRawAsset?(key: string): ArrayBuffer;
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
  return readFileSync(assetPath(relPath), 'utf8');
}

/** The file names (not paths) directly in a shipped folder, e.g. listAssets('src/adapters/redis/lua'). */
export function listAssets(relDir: string): string[] {
  const s = sea();
  if (!s) return readdirSync(packagePath(relDir));
  const prefix = relDir.replace(/\/$/, '') + '/';
  return s.keys.filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length));
}

let extracted: string | undefined;

/**
 * A path on disk for a shipped file, for consumers that need one (docker compose, the proto loader,
 * a stations file flag default, PGlite's wasm and data). In the single executable the embedded
 * files are written under the temp dir once per build, keeping their relative layout (compose
 * mounts deploy/ folders); a process checks them once (by size, without reading the embedded
 * bytes) and reads an embedded file only to write a missing one. Reading embedded bytes pulls
 * their pages of the executable into the process's RSS, so later reads go to the written files.
 */
export function assetPath(relPath: string): string {
  const s = sea();
  if (!s) return packagePath(relPath);
  extracted ??= extractAssets(s);
  return join(extracted, relPath);
}

function extractAssets(s: SeaAssets): string {
  const root = join(tmpdir(), `greenlane-${process.getuid?.() ?? 'user'}`, s.buildId);
  for (const key of s.keys) {
    const file = join(root, key);
    const bytes = new Uint8Array(s.getRawAsset ? s.getRawAsset(key) : s.getAsset(key));
    if (existsSync(file) && statSync(file).size === bytes.byteLength) continue;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Written aside and renamed: a concurrent start sees the whole file or none.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  }
  return root;
}
