import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The TUI depends on the domain, the ports, its own code and types from the services (and the
 * gRPC messages it decodes): never on the composition root (src/app), a concrete adapter or a command.
 */
const repo = resolve(import.meta.dirname, '..', '..');
const tuiDir = join(repo, 'src', 'tui');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** Every relative import of a file: where it points (from src/) and whether it is type-only. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const found: { target: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm)) {
    const spec = m[3] ?? m[4];
    found.push({ target: relative(join(repo, 'src'), resolve(dirname(file), spec)), typeOnly: Boolean(m[2]) });
  }
  return found;
}

describe('the TUI layer', () => {
  const files = sourceFiles(tuiDir);

  it('imports neither the composition root, nor adapters, nor commands', () => {
    const bad = files.flatMap((f) => importsOf(f).filter((i) => /^(app|adapters|commands)\//.test(i.target)).map((i) => `${relative(repo, f)} → src/${i.target}`));
    expect(files.length).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('takes only types from the services and the gRPC layer', () => {
    const bad = files.flatMap((f) => importsOf(f).filter((i) => /^(services|grpc)\//.test(i.target) && !i.typeOnly).map((i) => `${relative(repo, f)} → src/${i.target}`));
    expect(bad).toEqual([]);
  });
});
