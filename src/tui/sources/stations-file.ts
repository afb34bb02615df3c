import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assetPath } from '../../util/assets.js';
import type { Station } from '../../ports/fleet-state.js';
import type { StationCatalog } from './types.js';

/** deploy/stations/manhattan.json shipped with the package. */
export function defaultStationsFile(): string | undefined {
  return assetPath('deploy/stations/manhattan.json');
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
