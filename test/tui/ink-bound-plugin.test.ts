// The single executable's bundle replaces Ink's two never-forgetting text caches with the bounded
// ones (scripts/sea/ink-bound-plugin.mjs, used by scripts/build-binary.mjs).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
// @ts-expect-error: a build script, plain JavaScript without types
import { inkBoundPlugin } from '../../scripts/sea/ink-bound-plugin.mjs';
import { boundedMeasureText, boundedWrapText } from '../../src/tui/ink-bounded.js';

type Plugin = { plugin: import('esbuild').Plugin; replaced: Set<string> };

const inkEntry = createRequire(import.meta.url).resolve('ink');
const fromInk = createRequire(inkEntry);
const load = async <T>(path: string) => ((await import(pathToFileURL(path).href)) as { default: T }).default;

it("bundles Ink with the bounded measure and wrap in place of Ink's own modules", async () => {
  const bound = inkBoundPlugin() as Plugin;
  const result = await build({
    stdin: { contents: "import { render, Text } from 'ink'; export { render, Text };", resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    external: ['react-devtools-core'],
    plugins: [bound.plugin],
    logLevel: 'silent',
  });
  expect([...bound.replaced].sort()).toEqual(['measure-text', 'wrap-text']);
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((p) => p.endsWith('src/tui/ink-bounded.ts'))).toBe(true);
  const code = result.outputFiles[0]!.text;
  expect(code).toContain('boundedMeasureText(');
  expect(code).toContain('boundedWrapText(');
  // Ink's unbounded caches (ink/build/measure-text.js, ink/build/wrap-text.js) are not in it.
  expect(code).not.toContain('const cacheKey = text + String(maxWidth) + String(wrapType)');
  expect(code).not.toMatch(/cache\.set\(text, dimensions\)/);
});

it("measures and wraps exactly as Ink's modules do, holding at most its bound", async () => {
  const inkDir = dirname(inkEntry);
  const inkMeasure = await load<(t: string) => { width: number; height: number }>(join(inkDir, 'measure-text.js'));
  const inkWrap = await load<(t: string, w: number, type: string) => string>(join(inkDir, 'wrap-text.js'));
  const measure = boundedMeasureText(await load(fromInk.resolve('widest-line')), 100);
  const wrap = boundedWrapText(await load(fromInk.resolve('wrap-ansi')), await load(fromInk.resolve('cli-truncate')), 100);
  for (let i = 0; i < 2_000; i++) {
    const text = `car ${i} at station \u001b[32m${i % 7}\u001b[39m\nnext line ${'x'.repeat(i % 30)}`;
    expect(measure(text)).toEqual(inkMeasure(text));
    for (const type of ['wrap', 'truncate', 'truncate-middle', 'truncate-start', 'end']) expect(wrap(text, 12, type)).toBe(inkWrap(text, 12, type));
  }
  expect(measure('')).toEqual({ width: 0, height: 0 });
  expect(measure.cacheSize()).toBeLessThanOrEqual(100);
  expect(wrap.cacheSize()).toBeLessThanOrEqual(100);
  expect(wrap.cacheSize()).toBeGreaterThan(0);
});
