import type { Band } from './bands.js';
import type { CarView, StationView } from './types.js';

/** The fleet's area (the original simulator's Manhattan box). */
export const FLEET_AREA = { minLat: 40.7, maxLat: 40.85, minLon: -74.02, maxLon: -73.93 } as const;

/** km per degree at this latitude: the box is ~7.6 km wide and ~16.7 km tall. */
const BOX_WIDTH_KM = 0.09 * 111.32 * Math.cos((40.775 * Math.PI) / 180);
const BOX_HEIGHT_KM = 0.15 * 111.32;
/** A terminal cell is about twice as tall as it is wide. */
const CELL_ASPECT = 2;

export type MapCell = { kind: 'empty' } | { kind: 'car'; band: Band; count: number } | { kind: 'station'; busy: boolean };

/** Map size in cells that keeps the area's proportions within the room available. */
export function mapSize(maxCols: number, maxRows: number): { cols: number; rows: number } {
  const colsPerRow = (BOX_WIDTH_KM / BOX_HEIGHT_KM) * CELL_ASPECT;
  let rows = Math.max(3, maxRows);
  let cols = Math.round(rows * colsPerRow);
  if (cols > maxCols) {
    cols = Math.max(3, maxCols);
    rows = Math.max(3, Math.round(cols / colsPerRow));
  }
  return { cols, rows };
}

const worse = (a: Band, b: Band): Band => (a === 'red' || b === 'red' ? 'red' : a === 'yellow' || b === 'yellow' ? 'yellow' : 'green');

function cellOf(lat: number, lon: number, cols: number, rows: number): [number, number] | null {
  const { minLat, maxLat, minLon, maxLon } = FLEET_AREA;
  if (lat < minLat || lat > maxLat || lon < minLon || lon > maxLon) return null;
  const col = Math.min(cols - 1, Math.floor(((lon - minLon) / (maxLon - minLon)) * cols));
  const row = Math.min(rows - 1, Math.floor(((maxLat - lat) / (maxLat - minLat)) * rows));
  return [row, col];
}

/**
 * Projects cars and stations onto a rows × cols grid (north up). A cell shows its worst battery
 * band; stations win over cars so they stay visible. Cars outside the box are counted apart.
 */
export function projectMap(cars: Iterable<CarView>, stations: StationView[], cols: number, rows: number): { cells: MapCell[][]; outside: number } {
  const cells: MapCell[][] = Array.from({ length: rows }, () => Array.from({ length: cols }, () => ({ kind: 'empty' }) as MapCell));
  let outside = 0;
  for (const car of cars) {
    const at = cellOf(car.lat, car.lon, cols, rows);
    if (!at) {
      outside++;
      continue;
    }
    const cell = cells[at[0]][at[1]];
    cells[at[0]][at[1]] = cell.kind === 'car' ? { kind: 'car', band: worse(cell.band, car.band), count: cell.count + 1 } : { kind: 'car', band: car.band, count: 1 };
  }
  for (const s of stations) {
    if (s.lat === undefined || s.lon === undefined) continue;
    const at = cellOf(s.lat, s.lon, cols, rows);
    if (at) cells[at[0]][at[1]] = { kind: 'station', busy: s.ports > 0 && s.taken >= s.ports };
  }
  return { cells, outside };
}
