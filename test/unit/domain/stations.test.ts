import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src/cli/exit-codes.js';
import { parseStations, readStationsFile } from '../../../src/config/stations-file.js';
import { gridStations, stationsOutside } from '../../../src/domain/stations.js';

describe('stations file', () => {
  it('the shipped Manhattan file is valid and inside the simulator area', async () => {
    const stations = await readStationsFile('deploy/stations/manhattan.json');
    expect(stations.length).toBeGreaterThanOrEqual(10);
    expect(stationsOutside(stations)).toEqual([]);
    expect(stations.every((s) => s.ports >= 2 && s.ports <= 8 && s.powerKw >= 50 && s.powerKw <= 350)).toBe(true);
  });

  it('names the bad field', () => {
    expect(() => parseStations([{ id: 'a', name: 'A', lat: 40.7, lon: -74, ports: 0, powerKw: 50 }], 'x.json')).toThrow(/x\.json: 0\.ports/);
    const dup = { id: 'a', name: 'A', lat: 40.7, lon: -74, ports: 2, powerKw: 50 };
    expect(() => parseStations([dup, dup])).toThrow(/duplicate station id a/);
  });

  it('a missing file is a config error with a next step', async () => {
    expect(exitCodeFor(await readStationsFile('nope.json').catch((e: unknown) => e))).toBe(3);
  });

  it('grid stations spread inside the bounds', () => {
    const g = gridStations(10, 2);
    expect(g).toHaveLength(10);
    expect(new Set(g.map((s) => s.id)).size).toBe(10);
    expect(stationsOutside(g)).toEqual([]);
  });
});
