import { createGridClient } from '../adapters/grid/grid-client.js';
import type { PriceFeed } from '../tui/sources/types.js';

/** Reads the grid service over HTTP: GET /api/pricing and /api/pricing/forecast?hours=N. */
export function createGridPriceFeed(gridUrl: string, opts: { timeoutMs?: number; fetch?: typeof fetch; token?: string } = {}): PriceFeed {
  const grid = createGridClient({ gridUrl, timeoutMs: opts.timeoutMs ?? 3_000, fetchImpl: opts.fetch, token: opts.token });
  return {
    current: () => grid.priceAt(),
    forecast: async (hours) => (await grid.forecast({ hours })).points,
  };
}
