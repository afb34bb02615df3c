import { PassThrough, Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { Box, Text, render } from 'ink';
import { bindTextMeasureCache, BoundedCache } from '../../src/tui/ink-text-cache.js';

function terminal() {
  const frames: string[] = [];
  const stdout = Object.assign(new Writable({ write: (c, _e, cb) => (frames.push(String(c)), cb()) }), { isTTY: true, columns: 60, rows: 20 }) as unknown as NodeJS.WriteStream;
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {}, ref: () => {}, unref: () => {} }) as unknown as NodeJS.ReadStream;
  return { stdout, stdin, lastFrame: () => frames.at(-1) ?? '' };
}

it('forgets everything once full, so it never holds more than its bound', () => {
  const c = new BoundedCache<number>(3);
  for (let i = 0; i < 10; i++) c.getOr(`k${i}`, () => i);
  expect(c.size).toBeLessThanOrEqual(3);
  expect(c.getOr('k9', () => -1)).toBe(9);
});

it("measures Ink's text nodes through bounded caches and lays them out as Ink does", async () => {
  const t = terminal();
  const frame = (i: number) => (
    <Box flexDirection="column" width={20}>
      <Text wrap="truncate">{`line ${i} `.repeat(5)}</Text>
      <Text>{`wrapped ${i} `.repeat(3)}</Text>
      <Text>end</Text>
    </Box>
  );
  const app = render(frame(0), { stdout: t.stdout, stdin: t.stdin, patchConsole: false, debug: true });
  const bound = await bindTextMeasureCache(t.stdout, 50);
  expect(bound.installed).toBe(true);
  for (let i = 1; i <= 300; i++) app.rerender(frame(i));
  expect(bound.cacheSize()).toBeGreaterThan(0);
  expect(bound.cacheSize()).toBeLessThanOrEqual(100);
  const hooked = t.lastFrame();
  app.unmount();
  // The same frame drawn by Ink alone: identical layout (truncation, wrapping, positions).
  const plain = terminal();
  const ref = render(frame(300), { stdout: plain.stdout, stdin: plain.stdin, patchConsole: false, debug: true });
  expect(hooked).toContain('line 300');
  expect(hooked.split('\n').length).toBeGreaterThan(3);
  expect(hooked).toBe(plain.lastFrame());
  ref.unmount();
});
