import type { PricePoint } from '../../ports/price-source.js';
import type { PriceFeed } from './types.js';

/** Reads the grid service over HTTP: GET /api/pricing and /api/pricing/forecast?hours=N. */
export function createGridPriceFeed(gridUrl: string, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): PriceFeed {
  const doFetch = opts.fetch ?? fetch;
  const base = gridUrl.replace(/\/+$/, '');
  async function get<T>(path: string): Promise<T> {
    const res = await doFetch(base + path, { signal: AbortSignal.timeout(opts.timeoutMs ?? 3_000) });
    if (!res.ok) throw new Error(`grid ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }
  return {
    current: () => get<PricePoint>('/api/pricing'),
    forecast: async (hours) => {
      const body = await get<PricePoint[] | { points?: PricePoint[]; forecast?: PricePoint[] }>(`/api/pricing/forecast?hours=${hours}`);
      return Array.isArray(body) ? body : (body.points ?? body.forecast ?? []);
    },
  };
}
