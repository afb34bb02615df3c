import { z } from 'zod';
import { BOUNDS } from './manhattan.js';
import type { Station } from './charging.js';

/** The simulator's area (the original contract's Manhattan bounding box, src/domain/manhattan.ts): stations outside it cannot be reached by simulated cars. */
export const MANHATTAN_BOUNDS = BOUNDS;

export const stationSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only'),
  name: z.string().min(1),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  ports: z.number().int().min(1).max(64),
  powerKw: z.number().positive().max(1000),
});

export const stationsSchema = z
  .array(stationSchema)
  .min(1, 'at least one station')
  .superRefine((stations, ctx) => {
    const seen = new Set<string>();
    stations.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate station id ${s.id}` });
      seen.add(s.id);
    });
  });

/** The first problem with parsed stations JSON as `path: message`, or null when it is valid. */
export function stationsIssue(data: unknown): string | null {
  const parsed = stationsSchema.safeParse(data);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}

/** Stations outside a bounding box (the simulator's cars would never reach them). */
export function stationsOutside(stations: Station[], bounds = MANHATTAN_BOUNDS): Station[] {
  return stations.filter((s) => s.lat < bounds.minLat || s.lat > bounds.maxLat || s.lon < bounds.minLon || s.lon > bounds.maxLon);
}

/** A synthetic grid of stations inside the bounds: the herd tests use 10 × 2 ports. */
export function gridStations(count: number, ports: number, powerKw = 150, bounds = MANHATTAN_BOUNDS): Station[] {
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  return Array.from({ length: count }, (_, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    return {
      id: `ST-${String(i + 1).padStart(2, '0')}`,
      name: `Grid station ${i + 1}`,
      lat: bounds.minLat + ((r + 0.5) / rows) * (bounds.maxLat - bounds.minLat),
      lon: bounds.minLon + ((c + 0.5) / cols) * (bounds.maxLon - bounds.minLon),
      ports,
      powerKw,
    };
  });
}
