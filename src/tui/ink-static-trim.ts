import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

/**
 * Ink (6.8) appends every <Static> line to a private `fullStaticOutput` string that is only
 * replayed when the dashboard fills the screen. For a tail left open all day that string is the
 * one unbounded buffer left, so this keeps its tail. Ink's per-stdout instance registry is
 * not exported; we reach it by file path and do nothing if the layout ever changes.
 */
export async function bindStaticTrimmer(stdout: NodeJS.WriteStream, maxChars = 256 * 1024): Promise<() => void> {
  const instance = await inkInstanceFor(stdout).catch(() => undefined);
  if (!instance || typeof instance.fullStaticOutput !== 'string') return () => {};
  return () => {
    const full = instance.fullStaticOutput as string;
    if (full.length > maxChars) instance.fullStaticOutput = full.slice(full.indexOf('\n', full.length - maxChars) + 1);
  };
}

async function inkInstanceFor(stdout: NodeJS.WriteStream): Promise<{ fullStaticOutput?: string } | undefined> {
  const inkEntry = createRequire(import.meta.url).resolve('ink');
  const registry = (await import(pathToFileURL(join(dirname(inkEntry), 'instances.js')).href)) as { default?: WeakMap<object, { fullStaticOutput?: string }> };
  return registry.default?.get(stdout);
}
