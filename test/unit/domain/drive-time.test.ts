import { describe, expect, it } from 'vitest';
import { CRITICAL_BATTERY_PCT } from '../../../src/domain/battery.js';
import { defaultPolicy, holdMsFor, isCritical } from '../../../src/domain/booking-policy.js';
import { DRIVE_MODEL, driveMinutes, driveMs, roadKm } from '../../../src/domain/drive-time.js';

describe('the one drive-time model', () => {
  it('drives the street distance (1.3 × straight) at 18 km/h', () => {
    expect(roadKm(10)).toBeCloseTo(13);
    expect(driveMs(1.8 / 1.3)).toBeCloseTo(6 * 60_000);
    expect(driveMinutes(1.8 / 1.3)).toBeCloseTo(6);
    expect(driveMinutes(2, { roadFactor: 1, avgSpeedKmh: 60 })).toBeCloseTo(2);
  });

  it('is the policy default, so holds follow it', () => {
    expect({ roadFactor: defaultPolicy.roadFactor, avgSpeedKmh: defaultPolicy.avgSpeedKmh }).toEqual(DRIVE_MODEL);
    expect(holdMsFor(1)).toBe(Math.round(driveMs(1) + defaultPolicy.graceMs));
  });

  it('the policy is critical below the one critical threshold', () => {
    expect(defaultPolicy.criticalPct).toBe(CRITICAL_BATTERY_PCT);
    expect(isCritical(CRITICAL_BATTERY_PCT - 0.1)).toBe(true);
    expect(isCritical(CRITICAL_BATTERY_PCT)).toBe(false);
  });
});
