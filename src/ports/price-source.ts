import type { PricePoint } from '../domain/charging.js';

export type { PricePoint };

export interface PriceSource {
  /** Price at an instant (Unix ms). May be served from a cache. */
  priceAt(atMs: number): Promise<PricePoint>;
  /** The curve from `fromMs` for `hours`, at `stepMinutes` resolution. */
  forecast(fromMs: number, hours: number, stepMinutes?: number): Promise<PricePoint[]>;
  /** True when the last refresh from the grid failed and a cached curve is served. */
  readonly stale?: boolean;
}
