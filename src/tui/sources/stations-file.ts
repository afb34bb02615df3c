import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Station } from '../../ports/fleet-state.js';
import type { StationCatalog } from './types.js';

/** deploy/stations/manhattan.json shipped with the package (found from src/ or dist/). */
export function defaultStationsFile(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'deploy', 'stations', 'manhattan.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** Stations from a JSON file `[{id,name,lat,lon,ports,powerKw}]`; invalid entries are skipped. */
export function createStationsFileCatalog(path: string | undefined): StationCatalog {
  return {
    async list() {
      if (!path) return [];
      const raw = JSON.parse(readFileSync(resolve(path), 'utf8')) as unknown;
      const list = Array.isArray(raw) ? raw : ((raw as { stations?: unknown[] }).stations ?? []);
      return list.filter(isStation);
    },
  };
}

function isStation(v: unknown): v is Station {
  const s = v as Station;
  return typeof s?.id === 'string' && typeof s.lat === 'number' && typeof s.lon === 'number' && typeof s.ports === 'number' && (s.name = s.name ?? s.id) !== undefined;
}
