/** A point of the grid's price curve (the original grid JSON, GET /api/pricing). */
export interface PricePoint {
  timestamp: number;
  price_per_kwh: number;
  grid_load: 'Low' | 'Medium' | 'High';
  energy_source: 'Solar' | 'Wind' | 'Grid';
  hour: number;
}

/** A charging station: where it is, how many cars it charges at once and how fast. */
export interface Station {
  id: string;
  name: string;
  lat: number;
  lon: number;
  ports: number;
  powerKw: number;
}

/** $/kWh at an instant (Unix ms). Synchronous so a session can be integrated step by step. */
export type PriceFn = (atMs: number) => number;

export const DEFAULT_TARGET_PCT = 80;

/** The car draws what the port gives, up to what the car accepts. */
export function chargeRateKw(portKw: number, carMaxKw: number): number {
  return Math.max(0, Math.min(portKw, carMaxKw));
}

/** Energy delivered for a rise in state of charge (percent points) of a pack. */
export function energyKwh(capacityKwh: number, startPct: number, endPct: number): number {
  return (Math.max(0, endPct - startPct) / 100) * capacityKwh;
}

/** How long charging from startPct to targetPct takes at a constant rate (0 when already there). */
export function timeToTargetMs(capacityKwh: number, startPct: number, rateKw: number, targetPct = DEFAULT_TARGET_PCT): number {
  const kwh = energyKwh(capacityKwh, startPct, targetPct);
  if (kwh === 0) return 0;
  if (rateKw <= 0) return Infinity;
  return (kwh / rateKw) * 3_600_000;
}

/** Time-average of the price over [fromMs, toMs], by the midpoint rule on `stepMs` slices. */
export function averagePriceOver(price: PriceFn, fromMs: number, toMs: number, stepMs = 60_000): number {
  if (toMs <= fromMs) return price(fromMs);
  let sum = 0;
  for (let t = fromMs; t < toMs; t += stepMs) {
    const dt = Math.min(stepMs, toMs - t);
    sum += price(t + dt / 2) * dt;
  }
  return sum / (toMs - fromMs);
}

export interface SessionInput {
  startMs: number;
  endMs: number;
  startBattery: number;
  endBattery: number;
  capacityKwh: number;
  price: PriceFn;
  stepMs?: number;
}

export interface SessionMaths {
  durationMs: number;
  kwh: number;
  /** $ for the session: the price integrated over it (energy flows at a constant rate). */
  cost: number;
  /** $/kWh actually paid (cost / kWh); the time-average price when no energy flowed. */
  avgPrice: number;
}

/** Energy and cost of a session. A constant charge rate spreads the energy evenly over time, so cost = kWh × time-average price. */
export function sessionMaths(s: SessionInput): SessionMaths {
  const kwh = energyKwh(s.capacityKwh, s.startBattery, s.endBattery);
  const avgPrice = averagePriceOver(s.price, s.startMs, s.endMs, s.stepMs);
  return { durationMs: Math.max(0, s.endMs - s.startMs), kwh: round(kwh, 4), cost: round(kwh * avgPrice, 4), avgPrice: round(avgPrice, 5) };
}

/** A step function over a forecast: each point's price holds until the next point (before the first: the first). */
export function priceFnFromPoints(points: PricePoint[]): PriceFn {
  const sorted = [...points].sort((a, b) => a.timestamp - b.timestamp);
  if (sorted.length === 0) throw new Error('priceFnFromPoints needs at least one price point');
  return (atMs) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sorted[mid].timestamp <= atMs) lo = mid;
      else hi = mid - 1;
    }
    return sorted[lo].price_per_kwh;
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
