/** The original grid JSON (GET /api/pricing). */
export interface PricePoint {
  timestamp: number;
  price_per_kwh: number;
  grid_load: 'Low' | 'Medium' | 'High';
  energy_source: 'Solar' | 'Wind' | 'Grid';
  hour: number;
}

export interface PriceSource {
  /** Price at an instant (Unix ms). May be served from a cache. */
  priceAt(atMs: number): Promise<PricePoint>;
  /** The curve from `fromMs` for `hours`, at `stepMinutes` resolution. */
  forecast(fromMs: number, hours: number, stepMinutes?: number): Promise<PricePoint[]>;
  /** True when the last refresh from the grid failed and a cached curve is served. */
  readonly stale?: boolean;
}
