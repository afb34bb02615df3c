import { Flags } from '@oclif/core';
import { assertTimeZone, defaultPricingParams, resolvePricingParams, type PricingParams } from '../domain/pricing.js';
import { UsageError } from '../errors.js';

const decimal = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (input.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got "${input}"`);
    return n;
  },
});

/** Curve parameters, shared by `greenlane grid` and `greenlane price` (local fallback). */
export const pricingFlags = {
  'time-zone': Flags.string({ summary: 'Wall-clock zone of the curve: local, UTC, +02:00 or an IANA name.', default: 'local', env: 'GREENLANE_GRID_TIME_ZONE', helpGroup: 'PRICING' }),
  'price-base': decimal({ summary: `Midpoint of the daily swing, $/kWh (default ${defaultPricingParams.base}).`, env: 'GREENLANE_GRID_PRICE_BASE', helpGroup: 'PRICING' }),
  'price-amplitude': decimal({ summary: `Half the daily swing, $/kWh (default ${defaultPricingParams.amplitude}).`, env: 'GREENLANE_GRID_PRICE_AMPLITUDE', helpGroup: 'PRICING' }),
  'peak-hour': decimal({ summary: `Hour of the daily maximum (default ${defaultPricingParams.peakHour}).`, env: 'GREENLANE_GRID_PEAK_HOUR', helpGroup: 'PRICING' }),
  'trough-hour': decimal({ summary: `Hour of the daily minimum (default ${defaultPricingParams.troughHour}).`, env: 'GREENLANE_GRID_TROUGH_HOUR', helpGroup: 'PRICING' }),
  'solar-discount': decimal({ summary: `Discount 08:00–18:00 as a fraction (default ${defaultPricingParams.solarDiscount}).`, env: 'GREENLANE_GRID_SOLAR_DISCOUNT', helpGroup: 'PRICING' }),
};

type PricingFlagValues = { [K in keyof typeof pricingFlags]?: K extends 'time-zone' ? string : number };

/** Validated curve parameters and zone from the flags; bad values are usage errors (exit 2). */
export function pricingFromFlags(f: PricingFlagValues): { params: PricingParams; tz: string } {
  try {
    const tz = f['time-zone'] ?? 'local';
    assertTimeZone(tz);
    const params = resolvePricingParams({ base: f['price-base'], amplitude: f['price-amplitude'], peakHour: f['peak-hour'], troughHour: f['trough-hour'], solarDiscount: f['solar-discount'] });
    return { params, tz };
  } catch (err) {
    throw new UsageError((err as Error).message, ['See `greenlane grid --help` for the pricing flags.']);
  }
}
