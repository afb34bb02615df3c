import { priceFnFromPoints, type PriceFn, type PricePoint } from '../../domain/charging.js';
import type { Logger } from '../../observability/logger.js';
import type { PriceSource } from '../../ports/price-source.js';

export interface PriceCacheOptions {
  /** Absent: every price is 0 and there is no forecast (no deferral). */
  source?: PriceSource;
  now: () => number;
  logger: Pick<Logger, 'warn'>;
  /** How far ahead the deferral forecast looks. */
  forecastHours: number;
  currentTtlMs?: number;
  forecastTtlMs?: number;
}

/**
 * The coordinator's one view of grid prices, cached so a decision never waits on the grid twice a
 * second: the current price (1 min), the forecast deferrals choose from (5 min), and the minute-step
 * curve a finished session is priced over (fetched per session, falling back to the current price).
 */
export class PriceCache {
  private currentEntry: { at: number; price: number } | null = null;
  private forecastEntry: { at: number; points: PricePoint[] } | null = null;
  private readonly currentTtlMs: number;
  private readonly forecastTtlMs: number;

  constructor(private readonly o: PriceCacheOptions) {
    this.currentTtlMs = o.currentTtlMs ?? 60_000;
    this.forecastTtlMs = o.forecastTtlMs ?? 5 * 60_000;
  }

  get available(): boolean {
    return this.o.source !== undefined;
  }

  /** $/kWh now; the last known price when the grid fails, 0 without a price source. */
  async current(): Promise<number> {
    const now = this.o.now();
    if (!this.o.source) return 0;
    if (this.currentEntry && now - this.currentEntry.at < this.currentTtlMs) return this.currentEntry.price;
    try {
      this.currentEntry = { at: now, price: (await this.o.source.priceAt(now)).price_per_kwh };
    } catch (err) {
      this.o.logger.warn({ err }, 'price unavailable; using the last known');
    }
    return this.currentEntry?.price ?? 0;
  }

  /** The 15-minute forecast from now; empty (no deferral) when the grid fails. */
  async forecast(): Promise<PricePoint[]> {
    const now = this.o.now();
    if (!this.o.source) return [];
    if (this.forecastEntry && now - this.forecastEntry.at < this.forecastTtlMs) return this.forecastEntry.points;
    try {
      this.forecastEntry = { at: now, points: await this.o.source.forecast(now, this.o.forecastHours, 15) };
    } catch (err) {
      this.o.logger.warn({ err }, 'forecast unavailable; no deferral');
      return [];
    }
    return this.forecastEntry.points;
  }

  /** The price curve over [fromMs, toMs] at minute steps, so a session's cost follows it closely. */
  async over(fromMs: number, toMs: number): Promise<PriceFn> {
    if (!this.o.source) return () => 0;
    try {
      const hours = Math.max(1, Math.ceil((toMs - fromMs) / 3_600_000) + 1);
      const points = await this.o.source.forecast(fromMs, hours, 1);
      if (points.length > 0) return priceFnFromPoints(points);
    } catch (err) {
      this.o.logger.warn({ err }, 'price curve unavailable for the session; using the current price');
    }
    const p = await this.current();
    return () => p;
  }
}
