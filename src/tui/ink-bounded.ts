import { BoundedCache } from './ink-text-cache.js';

/**
 * Ink's text measurement (ink/build/measure-text.js and ink/build/wrap-text.js, Ink 6.8) with its
 * caches bounded. Ink keeps both in module-level maps that never forget, so a console whose
 * numbers and clock change every frame grows for as long as it runs (src/tui/ink-text-cache.ts).
 * The single executable's bundle puts these in place of Ink's two modules, built on the measuring
 * functions Ink itself imports (scripts/sea/ink-bound-plugin.mjs); the npm install binds the same
 * bound at run time instead (bindTextMeasureCache).
 */
export const INK_CACHE_MAX = 1_000;

type Dimensions = { width: number; height: number };
type Wrap = (text: string, width: number, opts: { trim: boolean; hard: boolean }) => string;
type Truncate = (text: string, width: number, opts: { position: 'start' | 'middle' | 'end' }) => string;

/** Ink's measureText (the widest line and the line count of a text), cached up to `max` texts. */
export function boundedMeasureText(widestLine: (text: string) => number, max = INK_CACHE_MAX) {
  const cache = new BoundedCache<Dimensions>(max);
  const measureText = (text: string): Dimensions =>
    text.length === 0 ? { width: 0, height: 0 } : cache.getOr(text, () => ({ width: widestLine(text), height: text.split('\n').length }));
  return Object.assign(measureText, { cacheSize: () => cache.size });
}

/** Ink's wrapText (a text wrapped or truncated to a width), cached up to `max` results. */
export function boundedWrapText(wrap: Wrap, truncate: Truncate, max = INK_CACHE_MAX) {
  const cache = new BoundedCache<string>(max);
  const wrapText = (text: string, maxWidth: number, wrapType: string): string =>
    cache.getOr(`${maxWidth}\u0000${wrapType}\u0000${text}`, () => {
      if (wrapType === 'wrap') return wrap(text, maxWidth, { trim: false, hard: true });
      if (!wrapType.startsWith('truncate')) return text;
      return truncate(text, maxWidth, { position: wrapType === 'truncate-middle' ? 'middle' : wrapType === 'truncate-start' ? 'start' : 'end' });
    });
  return Object.assign(wrapText, { cacheSize: () => cache.size });
}
