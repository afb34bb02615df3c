/**
 * The one drive-time model: the booking policy, the coordinator's nearest answers, the CLI and the
 * TUI all estimate a drive with it, so a hold, a `stations nearest` row and the console agree.
 * Manhattan's streets are a grid (street distance ≈ 1.3 × great-circle distance) and cars make about
 * 18 km/h there with red lights included, which is what the simulator's cars make (src/sim/driver.ts).
 */
export interface DriveModel {
  /** Street distance over great-circle distance. */
  roadFactor: number;
  /** Average urban speed, km/h. */
  avgSpeedKmh: number;
}

export const DRIVE_MODEL: Readonly<DriveModel> = Object.freeze({ roadFactor: 1.3, avgSpeedKmh: 18 });

/** Street distance for a straight-line distance. */
export function roadKm(straightKm: number, m: Pick<DriveModel, 'roadFactor'> = DRIVE_MODEL): number {
  return straightKm * m.roadFactor;
}

/** Estimated drive time in milliseconds for a straight-line distance. */
export function driveMs(straightKm: number, m: DriveModel = DRIVE_MODEL): number {
  return (roadKm(straightKm, m) / m.avgSpeedKmh) * 3_600_000;
}

/** Estimated drive time in minutes for a straight-line distance. */
export function driveMinutes(straightKm: number, m: DriveModel = DRIVE_MODEL): number {
  return (roadKm(straightKm, m) / m.avgSpeedKmh) * 60;
}
