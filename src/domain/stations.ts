import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Station } from '../ports/fleet-state.js';

/** The simulator's area (ORIGINAL-CONTRACT.md): stations outside it cannot be reached by simulated cars. */
export const MANHATTAN_BOUNDS = { minLat: 40.7, maxLat: 40.85, minLon: -74.02, maxLon: -73.93 } as const;

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

/** Validates parsed JSON into stations; throws a ConfigError naming the first bad field. */
export function parseStations(data: unknown, source = 'stations'): Station[] {
  const parsed = stationsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, [
      'A stations file is a JSON array of {id, name, lat, lon, ports, powerKw}; see deploy/stations/manhattan.json.',
    ]);
  }
  return parsed.data;
}

/** Reads and validates a stations JSON file. */
export async function readStationsFile(path: string): Promise<Station[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read stations file ${path}: ${(err as Error).message}`, ['Pass an existing file, e.g. deploy/stations/manhattan.json.']);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`stations file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseStations(data, path);
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
