// The runtime dependency tree as installed: every package `npm install greenlane` brings in, i.e. what
// `npm ls --omit dev --all` reaches (npm's own rule: a package is left out only when nothing but
// devDependencies needs it). Shared by the SBOM and the licence check.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');

/** [{ name, version, license, path }] sorted by name, one per name@version. Throws if npm ls fails. */
export function runtimePackages() {
  let out;
  try {
    out = execFileSync('npm', ['ls', '--omit', 'dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (err) {
    throw new Error(`npm ls failed (is the tree installed? run npm ci): ${err.stderr || err.message}`);
  }
  const seen = new Map();
  for (const dir of out.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (dir === root) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const key = `${pkg.name}@${pkg.version}`;
    if (!seen.has(key)) seen.set(key, { name: pkg.name, version: pkg.version, license: declaredLicense(pkg), path: dir });
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The licence a package.json declares, as one SPDX expression (legacy forms included). */
export function declaredLicense(pkg) {
  if (typeof pkg.license === 'string') return pkg.license.trim();
  if (pkg.license?.type) return String(pkg.license.type);
  if (Array.isArray(pkg.licenses) && pkg.licenses.length > 0) {
    const ids = pkg.licenses.map((l) => (typeof l === 'string' ? l : l?.type)).filter(Boolean);
    return ids.length > 1 ? `(${ids.join(' OR ')})` : ids[0];
  }
  return undefined;
}
