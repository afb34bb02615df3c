import { CRITICAL_BATTERY_PCT } from './battery.js';
import { chargeRateKw, DEFAULT_TARGET_PCT, energyKwh, type PricePoint, type Station } from './charging.js';
import { DRIVE_MODEL, driveMs, roadKm, type DriveModel } from './drive-time.js';
import { haversineKm } from './geo.js';

/** A station the car can reach, with its policy score (lower is better) and the hold it would get there. */
export interface Candidate {
  stationId: string;
  score: number;
  /** Hold duration if this station is the one confirmed (drive time + grace); defaults to the request's holdMs. */
  holdMs?: number;
  /** Estimated drive to the station, ms: a port freed there goes to the queued car that arrives soonest (src/ports/reservations.ts stationQueueScore). */
  driveMs?: number;
}

/** A station's occupancy as the reservations see it. */
export interface StationStatus {
  id: string;
  ports: number;
  holds: number;
  charging: number;
  /** Queued cars waiting for this station: each queued car counts once, at its best candidate. */
  queueLength: number;
}

/** The pack properties the policy needs (src/domain/battery.ts PackModel fits), plus the car's charge limit. */
export interface PackLike {
  capacityKwh: number;
  whPerKm: number;
  /** The most the car accepts, kW. */
  maxChargeKw?: number;
}

/** The drive model (src/domain/drive-time.ts) is part of the policy: a deployment may tune it. */
export interface PolicyParams extends DriveModel {
  /** A car asks for charge below this battery percent. */
  requestThresholdPct: number;
  /** Below this a car is critical: first in the queue, a 30 min lead at promotions (src/ports/reservations.ts), never deferred. */
  criticalPct: number;
  targetPct: number;
  /** Battery kept back when judging reach, percent points. */
  reserveMarginPct: number;
  /** Hold = drive time + grace, capped. */
  graceMs: number;
  maxHoldMs: number;
  minHoldMs: number;
  /** Average session length used for the expected wait. */
  avgSessionMin: number;
  /**
   * At most this many stations offered to the reservation, best first (default: every reachable
   * station). A queued car is promoted only at its candidates, so a cap leaves ports idle while
   * cars that could reach them wait (see candidatesFor).
   */
  maxCandidates: number;
  /** Real drives run up to this much longer than the estimate (red lights, traffic): an approaching car's hold is renewed to cover even that. */
  driveMargin: number;
  /** How many minutes of time a dollar is worth in the score (price → minutes). */
  minutesPerDollar: number;
  carMaxKw: number;
  deferral: DeferralParams;
  topUp: TopUpParams;
}

/**
 * Cheap-hour top-ups: a car that is not low yet charges while the grid is near its cheapest, so the
 * energy it will need later in the day (the evening peak included) is bought at night instead of
 * the car running low in the afternoon and being parked for the next trough (section 5 of docs/POLICY.md).
 */
export interface TopUpParams {
  enabled: boolean;
  /** Cars below this battery percent (and at or above the request threshold) may top up. */
  belowPct: number;
  /** The price now is cheap when it is at most this above the lowest price of the next `lookaheadHours`, $/kWh. */
  spreadPerKwh: number;
  lookaheadHours: number;
  /**
   * Before a price rise: when the price within the next `riseHours` climbs at least the deferral's
   * minSavingsPerKwh above now, cars below `riseBelowPct` (the ones that would run low in it) top up now.
   */
  riseHours: number;
  riseBelowPct: number;
  /**
   * Only at a station within this drive, minutes: the port is held while the car drives to it, and nobody
   * charges on it meanwhile (with no limit, a day's top-ups held about 30 % of the ports' hours idle).
   */
  maxDriveMin: number;
  /**
   * Only where more ports are free than this share of the station's ports (rounded down): the last ones
   * are left to cars that need a charge now (0.25: one of 4–7 ports, two of 8; none at a station of 1–3).
   */
  leaveFreeShare: number;
}

export interface DeferralParams {
  enabled: boolean;
  /** Only defer when the saving is at least this, $/kWh. */
  minSavingsPerKwh: number;
  /** Look no further ahead than this. */
  maxDeferHours: number;
  /**
   * Expected drain while waiting for the window, percent per hour: a parked car's auxiliary load (0.3 kW
   * of a 75 kWh pack, about 0.4 %/h in src/domain/battery.ts) with a margin. A deferred car keeps working
   * (src/sim/driver-plans.ts) and drains faster; it is booked as soon as it reaches the floor
   * (deferralFloorPct), so the estimate never strands it — it only decides which windows are offered.
   */
  drainPctPerHour: number;
  /** Battery that must remain (above critical) when the window opens, percent points. */
  safetyMarginPct: number;
  /** Zone for the "deferred to HH:MM" text: 'UTC', 'local' or an IANA name. */
  timeZone: string;
}

export const defaultPolicy: Readonly<PolicyParams> = Object.freeze({
  requestThresholdPct: 30,
  criticalPct: CRITICAL_BATTERY_PCT,
  targetPct: DEFAULT_TARGET_PCT,
  ...DRIVE_MODEL,
  reserveMarginPct: 2,
  graceMs: 5 * 60_000,
  maxHoldMs: 20 * 60_000,
  minHoldMs: 60_000,
  avgSessionMin: 30,
  maxCandidates: Number.POSITIVE_INFINITY,
  driveMargin: 1.5,
  minutesPerDollar: 2,
  carMaxKw: 150,
  deferral: { enabled: true, minSavingsPerKwh: 0.05, maxDeferHours: 4, drainPctPerHour: 1, safetyMarginPct: 5, timeZone: 'UTC' },
  topUp: { enabled: true, belowPct: 70, spreadPerKwh: 0.05, lookaheadHours: 24, riseHours: 4, riseBelowPct: 50, maxDriveMin: 10, leaveFreeShare: 0.25 },
});

export type PolicyOverrides = Partial<Omit<PolicyParams, 'deferral' | 'topUp'>> & { deferral?: Partial<DeferralParams>; topUp?: Partial<TopUpParams> };

export function resolvePolicy(partial: PolicyOverrides = {}): PolicyParams {
  return { ...defaultPolicy, ...partial, deferral: { ...defaultPolicy.deferral, ...partial.deferral }, topUp: { ...defaultPolicy.topUp, ...partial.topUp } };
}

/** How far ahead the coordinator must see the price forecast: the deferral horizon and the top-up lookahead. */
export function forecastHoursFor(p: Pick<PolicyParams, 'deferral' | 'topUp'> = defaultPolicy): number {
  return Math.max(p.deferral.maxDeferHours, p.topUp.enabled ? p.topUp.lookaheadHours : 0);
}

/**
 * Below which battery a car not yet low tops up now (0: none does). In a cheap hour — the price within
 * the spread of the lowest of the next lookahead hours — every car below belowPct; before a price rise,
 * the cars below riseBelowPct. A forecast that ends early, or none, opens no top-up.
 */
export function topUpBelowPct(opts: { nowMs: number; currentPrice: number; forecast: PricePoint[]; params?: Pick<PolicyParams, 'topUp' | 'deferral'> }): number {
  const p = opts.params ?? defaultPolicy;
  const t = p.topUp;
  if (!t.enabled) return 0;
  const until = opts.nowMs + t.lookaheadHours * 3_600_000;
  const riseUntil = opts.nowMs + t.riseHours * 3_600_000;
  let lowest = Infinity;
  let highestSoon = -Infinity;
  let last = -Infinity;
  for (const point of opts.forecast) {
    if (point.timestamp > until) continue;
    lowest = Math.min(lowest, point.price_per_kwh);
    if (point.timestamp <= riseUntil) highestSoon = Math.max(highestSoon, point.price_per_kwh);
    last = Math.max(last, point.timestamp);
  }
  if (last < until - 3_600_000) return 0;
  if (opts.currentPrice <= lowest + t.spreadPerKwh) return t.belowPct;
  if (highestSoon >= opts.currentPrice + p.deferral.minSavingsPerKwh) return t.riseBelowPct;
  return 0;
}

/** A car that may top up now: not low enough to ask anyway, below the level the hour tops up to (topUpBelowPct). */
export function wantsTopUp(battery: number, belowPct: number, p: Pick<PolicyParams, 'requestThresholdPct'> = defaultPolicy): boolean {
  return battery >= p.requestThresholdPct && battery < belowPct;
}

/** Range left, km: battery% × capacity / consumption, minus the reserve margin. */
export function reachKm(pack: PackLike, batteryPct: number, reserveMarginPct = 0): number {
  const usable = Math.max(0, batteryPct - reserveMarginPct);
  return ((usable / 100) * pack.capacityKwh * 1000) / pack.whPerKm;
}

/** How long a port is held for the car: the drive plus a grace, within [minHold, maxHold]. */
export function holdMsFor(straightKm: number, p: Pick<PolicyParams, 'roadFactor' | 'avgSpeedKmh' | 'graceMs' | 'maxHoldMs' | 'minHoldMs'> = defaultPolicy): number {
  return Math.round(Math.min(p.maxHoldMs, Math.max(p.minHoldMs, driveMs(straightKm, p) + p.graceMs)));
}

/** Ports neither held nor charging (no status known: unbounded). */
export function freePorts(status: StationStatus | undefined): number {
  return status ? status.ports - status.holds - status.charging : Number.POSITIVE_INFINITY;
}

/** A station with a port neither held nor charging (no status known: assumed free). */
export function hasFreePort(status: StationStatus | undefined): boolean {
  return freePorts(status) > 0;
}

/** A station a top-up may use: more free ports than the share it leaves to cars that need a charge now. */
export function openForTopUp(status: StationStatus | undefined, p: Pick<PolicyParams, 'topUp'> = defaultPolicy): boolean {
  return freePorts(status) > (status ? Math.floor(status.ports * p.topUp.leaveFreeShare) : 0);
}

/** A top-up's candidates: the scored stations open for it (openForTopUp) within its drive (maxDriveMin), best first. */
export function topUpStations(scored: ScoredStation[], status: Map<string, StationStatus>, p: Pick<PolicyParams, 'topUp'> = defaultPolicy): ScoredStation[] {
  return scored.filter((s) => s.free && s.driveMin <= p.topUp.maxDriveMin && openForTopUp(status.get(s.station.id), p));
}

/** Minutes until a port is likely free: none when one is free now, else (queue + 1) sessions shared by the ports. */
export function expectedWaitMin(status: StationStatus | undefined, avgSessionMin: number): number {
  if (!status || status.ports <= 0) return 0;
  if (status.holds + status.charging < status.ports) return 0;
  return ((status.queueLength + 1) * avgSessionMin) / status.ports;
}

export interface CarPosition {
  lat: number;
  lon: number;
  battery: number;
}

export interface ScoredStation {
  station: Station;
  distanceKm: number;
  driveMin: number;
  waitMin: number;
  chargeMin: number;
  pricePerKwh: number;
  /** Minutes-equivalent; lower is better. */
  score: number;
  holdMs: number;
  free: boolean;
}

/**
 * Stations the car can reach on its remaining range, scored by drive time + expected wait +
 * charge time + price (as minutes), best first. Distances may come precomputed (GEOSEARCH).
 */
export function scoreStations(opts: {
  car: CarPosition;
  stations: (Station | { station: Station; distanceKm: number })[];
  status?: Map<string, StationStatus>;
  pack: PackLike;
  price?: (stationId: string) => number;
  params?: PolicyParams;
}): ScoredStation[] {
  const p = opts.params ?? defaultPolicy;
  const reach = reachKm(opts.pack, opts.car.battery, p.reserveMarginPct);
  const kwhNeeded = energyKwh(opts.pack.capacityKwh, opts.car.battery, p.targetPct);
  const carMax = opts.pack.maxChargeKw ?? p.carMaxKw;
  return opts.stations
    .map((s) => ('station' in s ? s : { station: s, distanceKm: haversineKm(opts.car, s) }))
    .filter(({ distanceKm }) => roadKm(distanceKm, p) <= reach)
    .map(({ station, distanceKm }): ScoredStation => {
      const status = opts.status?.get(station.id);
      const driveMin = driveMs(distanceKm, p) / 60_000;
      const waitMin = expectedWaitMin(status, p.avgSessionMin);
      const chargeMin = (kwhNeeded / Math.max(0.1, chargeRateKw(station.powerKw, carMax))) * 60;
      const pricePerKwh = opts.price?.(station.id) ?? 0;
      const score = driveMin + waitMin + chargeMin + pricePerKwh * kwhNeeded * p.minutesPerDollar;
      const free = hasFreePort(status);
      return { station, distanceKm, driveMin, waitMin, chargeMin, pricePerKwh, score, holdMs: holdMsFor(distanceKm, p), free };
    })
    .sort((a, b) => a.score - b.score || a.distanceKm - b.distanceKm);
}

/**
 * The reservation's candidate list: every station the car can reach on its range, best first (the
 * score already weighs the drive), each with its own hold; `maxCandidates` may cap it. The list is
 * also where a queued car can be promoted, so it must not be cut to the best few: cars asking together
 * see the same scores and share the same best few, and with a cap of 5 the other stations' ports (the
 * 50 kW ones first, their slower charge ranks them last) stayed idle while cars that could reach them
 * queued. Far stations stay in: a far hold does not lapse on the way because the coordinator renews a
 * hold while its car is seen approaching (see holdRenewalMs).
 */
export function candidatesFor(scored: ScoredStation[], p: Pick<PolicyParams, 'maxCandidates'> = defaultPolicy): Candidate[] {
  return scored.slice(0, p.maxCandidates).map((s) => ({ stationId: s.station.id, score: round(s.score, 3), holdMs: s.holdMs, driveMs: Math.round(s.driveMin * 60_000) }));
}

/**
 * How long a hold must still run for a car `straightKm` from its station when the drive may take
 * `driveMargin` times the estimate, plus the grace, capped at the longest hold. The coordinator
 * renews an approaching car's hold to this, so a far hold is not lost on the way, yet a car that
 * stops approaching (or streaming) loses it within maxHold.
 */
export function holdRenewalMs(straightKm: number, p: Pick<PolicyParams, 'roadFactor' | 'avgSpeedKmh' | 'graceMs' | 'maxHoldMs' | 'driveMargin'> = defaultPolicy): number {
  return Math.round(Math.min(p.maxHoldMs, driveMs(straightKm, p) * p.driveMargin + p.graceMs));
}

export function isCritical(battery: number, p: Pick<PolicyParams, 'criticalPct'> = defaultPolicy): boolean {
  return battery < p.criticalPct;
}

export function wantsCharge(battery: number, p: Pick<PolicyParams, 'requestThresholdPct'> = defaultPolicy): boolean {
  return battery < p.requestThresholdPct;
}

export interface Deferral {
  deferUntil: number;
  pricePerKwh: number;
  savingsPerKwh: number;
  /** Human text, e.g. "deferred to 02:15, saves $0.11/kWh". */
  reason: string;
}

/** Battery below which a car is never kept waiting for a cheaper window: critical plus the safety margin. */
export function deferralFloorPct(p: Pick<PolicyParams, 'criticalPct' | 'deferral'> = defaultPolicy): number {
  return p.criticalPct + p.deferral.safetyMarginPct;
}

/**
 * Price-aware charging: a car above the critical level may wait for a cheaper window if, at the
 * expected drain, it still is at or above the floor (deferralFloorPct) when the window opens. Picks the
 * cheapest reachable window (earliest on ties); null when charging now is as good or deferral is unsafe.
 * From the window the coordinator books a deferred car where a port is free (as a top-up, even above the
 * request threshold), and as soon as it reaches the floor as any low car (src/services/coordination/telemetry-reactions.ts).
 */
export function planDeferral(opts: { battery: number; nowMs: number; currentPrice: number; forecast: PricePoint[]; params?: PolicyParams }): Deferral | null {
  const p = opts.params ?? defaultPolicy;
  const d = p.deferral;
  if (!d.enabled || opts.battery < p.criticalPct) return null;
  const horizonMs = opts.nowMs + d.maxDeferHours * 3_600_000;
  let best: PricePoint | null = null;
  for (const point of opts.forecast) {
    if (point.timestamp <= opts.nowMs || point.timestamp > horizonMs) continue;
    const hours = (point.timestamp - opts.nowMs) / 3_600_000;
    const batteryThen = opts.battery - d.drainPctPerHour * hours;
    if (batteryThen < deferralFloorPct(p)) continue;
    if (!best || point.price_per_kwh < best.price_per_kwh) best = point;
  }
  if (!best) return null;
  const savings = round(opts.currentPrice - best.price_per_kwh, 4);
  if (savings < d.minSavingsPerKwh) return null;
  return {
    deferUntil: best.timestamp,
    pricePerKwh: best.price_per_kwh,
    savingsPerKwh: savings,
    reason: `deferred to ${clockTime(best.timestamp, d.timeZone)}, saves $${savings.toFixed(2)}/kWh`,
  };
}

/** HH:MM in a zone ('local' = the machine's); falls back to UTC for zones Intl does not know. */
export function clockTime(ms: number, timeZone = 'UTC'): string {
  const fmt = (tz?: string) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: tz }).format(ms);
  try {
    return fmt(timeZone === 'local' ? undefined : timeZone);
  } catch {
    return fmt('UTC');
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
