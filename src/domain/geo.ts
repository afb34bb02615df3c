/** A point on Earth in degrees. */
export interface LatLon {
  lat: number;
  lon: number;
}

/** Mean Earth radius in km; Redis GEO uses 6372797.560856 m, which differs by < 0.02 %. */
export const EARTH_RADIUS_KM = 6372.797560856;

const toRad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine), the same formula Redis GEODIST uses. */
export function haversineKm(a: LatLon, b: LatLon): number {
  const dLat = toRad(b.lat - a.lat);
  const dLon = toRad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
