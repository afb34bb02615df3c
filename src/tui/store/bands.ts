import { CRITICAL_BATTERY_PCT } from '../../domain/battery.js';

/** Battery bands and thresholds of the original monitor. */
export type Band = 'green' | 'yellow' | 'red';

/** Below this a car is "CRITICAL BATTERY!" (the original threshold). */
export const CRITICAL_BELOW = CRITICAL_BATTERY_PCT;

/** 🟢 > 50 %, 🟡 20–50 %, 🔴 < 20 %. */
export function bandOf(battery: number): Band {
  if (battery > 50) return 'green';
  if (battery >= 20) return 'yellow';
  return 'red';
}

export function isCritical(battery: number): boolean {
  return battery < CRITICAL_BELOW;
}

export const bandIcon: Record<Band, string> = { green: '🟢', yellow: '🟡', red: '🔴' };

/** Ink / chalk colour names per band. */
export const bandColor: Record<Band, 'green' | 'yellow' | 'red'> = { green: 'green', yellow: 'yellow', red: 'red' };
