import { PassThrough, Writable } from 'node:stream';
import { expect, it } from 'vitest';

// Ink keeps the replay buffer only when rendering interactively; under CI=true it draws a final frame
// and keeps none. It reads CI once at import, so clear it before loading Ink (as `greenlane tail` does).
for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[k];
const { Static, Text, render } = await import('ink');
const { bindStaticTrimmer } = await import('../../src/tui/ink-static-trim.js');

it("bounds Ink's replay buffer of <Static> output", async () => {
  const stdout = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: true, columns: 80, rows: 20 }) as unknown as NodeJS.WriteStream;
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {}, ref: () => {}, unref: () => {} }) as unknown as NodeJS.ReadStream;
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} `.padEnd(60, '.'));
  const app = render(<Static items={lines}>{(l) => <Text key={l}>{l}</Text>}</Static>, { stdout, stdin, patchConsole: false, debug: false });
  await new Promise((r) => setTimeout(r, 100));
  const trim = await bindStaticTrimmer(stdout, 10_000);
  const { default: registry } = (await import(new URL('../../node_modules/ink/build/instances.js', import.meta.url).href)) as { default: WeakMap<object, { fullStaticOutput: string }> };
  expect(registry.get(stdout)!.fullStaticOutput.length).toBeGreaterThan(100_000);
  trim();
  const kept = registry.get(stdout)!.fullStaticOutput;
  expect(kept.length).toBeLessThanOrEqual(10_000);
  expect(kept.startsWith('line ')).toBe(true);
  expect(kept).toContain('line 2999 ');
  app.unmount();
});
