/** The fleet's area (the original simulator's Manhattan box), where the synthetic source drives. */
export const FLEET_AREA = { minLat: 40.7, maxLat: 40.85, minLon: -74.02, maxLon: -73.93 } as const;
