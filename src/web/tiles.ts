import { UsageError } from '../errors.js';

/**
 * A basemap tile URL template for the web map (`--tiles`): http(s) with `{z}`, `{x}` and `{y}`,
 * e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`. The page's Content-Security-Policy then
 * allows images from that origin, and nothing else.
 */
export function checkTilesUrl(template: string): { template: string; origin: string } {
  let url: URL;
  try {
    url = new URL(template.replace(/\{([zxy])\}/g, '0'));
  } catch {
    throw new UsageError(`--tiles must be a URL template like https://tile.openstreetmap.org/{z}/{x}/{y}.png (got ${JSON.stringify(template)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--tiles must be an http(s) URL (got ${url.protocol})`);
  for (const part of ['{z}', '{x}', '{y}']) if (!template.includes(part)) throw new UsageError(`--tiles needs ${part} in its template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png`);
  if (url.username || url.password) throw new UsageError('--tiles must not carry credentials in the URL');
  return { template, origin: url.origin };
}
