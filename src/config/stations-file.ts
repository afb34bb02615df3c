import { readFile } from 'node:fs/promises';
import type { Station } from '../domain/charging.js';
import { stationsIssue, stationsSchema } from '../domain/stations.js';
import { ConfigError } from '../errors.js';

/** Validates parsed JSON into stations; throws a ConfigError naming the first bad field. */
export function parseStations(data: unknown, source = 'stations'): Station[] {
  const issue = stationsIssue(data);
  if (issue) {
    throw new ConfigError(`${source}: ${issue}`, [
      'A stations file is a JSON array of {id, name, lat, lon, ports, powerKw}; see deploy/stations/manhattan.json.',
    ]);
  }
  return stationsSchema.parse(data);
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
