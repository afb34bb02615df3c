import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package root (where package.json lives), found from src/ under tsx and from dist/ alike. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('greenlane: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return (cached = dir);
}

/** A file shipped with the package, e.g. packagePath('deploy', 'stations', 'manhattan.json'). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}
