import type { VirtualKpis } from './kpis.js';

/**
 * The targets for greenlane against the greedy baseline on the same seed (issue 10): herd —
 * 0 stranded, 0 double bookings, p95 wait ≥ 30 % below greedy; day — 0 stranded, average price paid
 * ≥ 20 % and 18:00 peak ≥ 30 % below greedy, with at least 95 % of greedy's energy delivered (like for
 * like: a cheap price and a low peak must not come from energy left undelivered, i.e. cars parked).
 */
export interface TargetCheck {
  value: number | null;
  limit: number;
  /** 'max': value ≤ limit; 'min': value ≥ limit. */
  bound: 'max' | 'min';
  met: boolean;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const ratioOf = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b !== 0 ? round3(a / b) : null);
const check = (value: number | null, limit: number, bound: 'max' | 'min' = 'max'): TargetCheck => ({ value, limit, bound, met: value !== null && (bound === 'max' ? value <= limit : value >= limit) });

export function herdTargets(g: VirtualKpis, n: VirtualKpis): Record<string, TargetCheck> {
  return {
    stranded: check(g.stranded, 0),
    doubleBookings: check(g.doubleBookings, 0),
    p95WaitRatio: check(ratioOf(g.waitP95Min, n.waitP95Min), 0.7),
  };
}

export function dayTargets(g: VirtualKpis, n: VirtualKpis): Record<string, TargetCheck> {
  return {
    stranded: check(g.stranded, 0),
    avgPriceRatio: check(ratioOf(g.avgPricePaid, n.avgPricePaid), 0.8),
    eveningPeakRatio: check(ratioOf(g.eveningPeakKw, n.eveningPeakKw), 0.7),
    energyRatio: check(ratioOf(g.energyKwh, n.energyKwh), 0.95, 'min'),
  };
}

export function targetsFor(g: VirtualKpis, n: VirtualKpis): Record<string, TargetCheck> {
  return g.scenario === 'herd' ? herdTargets(g, n) : dayTargets(g, n);
}

/** One line: each target with its value, limit and whether it is met. */
export function targetsLine(targets: Record<string, TargetCheck>): string {
  const parts = Object.entries(targets).map(([name, t]) => `${name} ${t.value ?? 'n/a'} ${t.bound === 'max' ? '≤' : '≥'} ${t.limit} ${t.met ? 'met' : 'NOT met'}`);
  return `targets: ${parts.join(' · ')}`;
}
