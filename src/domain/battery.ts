/** A simple EV pack model: energy drawn by distance plus a small auxiliary load (HVAC, computers). */
export interface PackModel {
  /** Usable capacity, kWh (typical 60–100). */
  capacityKwh: number;
  /** Consumption while driving, Wh per km (typical 150–220). */
  whPerKm: number;
  /** Auxiliary draw, kW, also while stopped (an autonomous car's sensors and computers). */
  auxKw: number;
}

/** Below this battery percent a car is critical: served ahead of every other car, never deferred, flagged on every console. */
export const CRITICAL_BATTERY_PCT = 15;

export const DEFAULT_PACK: PackModel = { capacityKwh: 75, whPerKm: 180, auxKw: 0.3 };

/** Energy used, kWh, for a distance (km) driven over a duration (hours). */
export function energyUsedKwh(pack: PackModel, distanceKm: number, hours: number): number {
  return (distanceKm * pack.whPerKm) / 1000 + pack.auxKw * Math.max(0, hours);
}

/** State of charge (percent) after driving; never below 0. */
export function drainBattery(pack: PackModel, batteryPct: number, distanceKm: number, hours: number): number {
  const usedPct = (energyUsedKwh(pack, distanceKm, hours) / pack.capacityKwh) * 100;
  return Math.max(0, batteryPct - usedPct);
}

/** Range left, km, at the pack's driving consumption. */
export function rangeKm(pack: PackModel, batteryPct: number): number {
  return ((batteryPct / 100) * pack.capacityKwh * 1000) / pack.whPerKm;
}

/**
 * State of charge after charging at `powerKw` for `hours`. Above 80 % the charger tapers
 * linearly to 10 % of its power at 100 %, as DC fast charging does. Returns the new percent
 * and the energy delivered.
 */
export function chargeBattery(pack: PackModel, batteryPct: number, powerKw: number, hours: number): { batteryPct: number; kwh: number } {
  let pct = batteryPct;
  let kwh = 0;
  const stepH = 1 / 3600;
  for (let t = 0; t < hours && pct < 100; t += stepH) {
    const dt = Math.min(stepH, hours - t);
    const taper = pct <= 80 ? 1 : 1 - 0.9 * ((pct - 80) / 20);
    const e = powerKw * taper * dt;
    kwh += e;
    pct = Math.min(100, pct + (e / pack.capacityKwh) * 100);
  }
  return { batteryPct: pct, kwh };
}
