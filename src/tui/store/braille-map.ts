import { BOUNDS, GRID } from '../../domain/manhattan.js';
import type { Band } from './bands.js';
import type { CarView } from './types.js';

/** How a run of map cells is drawn. */
export type MapStyle = 'empty' | 'grid' | Band | 'station' | 'stationFull' | 'stationSelected' | 'car' | 'link';

export interface MapRun {
  text: string;
  style: MapStyle;
}

export interface MapStation {
  /** The number the stations panel shows next to it. */
  n: number;
  lat?: number;
  lon?: number;
  full: boolean;
  selected: boolean;
}

export interface MapInput {
  cars: Iterable<CarView>;
  stations: MapStation[];
  cols: number;
  rows: number;
  /** The selected car and, if it has a booking, the station number it is linked to. */
  selected?: { lat: number; lon: number; station?: number };
}

export interface DrawnMap {
  rows: MapRun[][];
  /** Cars outside the area. */
  outside: number;
}

const BAND_RANK: Record<Band, number> = { green: 1, yellow: 2, red: 3 };
const RANK_BAND: Band[] = ['green', 'green', 'yellow', 'red'];
/** Braille dot bits by [row 0..3][column 0..1] inside one cell. */
const DOT = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

/**
 * Draws the fleet area on a cols × rows braille canvas (2 × 4 dots a cell, north up): the street
 * grid's extent as a dim frame, each car as a dot coloured by the worst battery band in its cell,
 * stations as their panel numbers, the selected car as ◉ linked by a dotted line to its station.
 */
export function drawMap({ cars, stations, cols, rows, selected }: MapInput): DrawnMap {
  const w = cols * 2;
  const h = rows * 4;
  const carDots = new Uint8Array(cols * rows);
  const gridDots = new Uint8Array(cols * rows);
  const band = new Uint8Array(cols * rows);
  const overlay: (MapRun | undefined)[] = new Array(cols * rows);
  const dotX = (lon: number) => Math.floor(((lon - BOUNDS.minLon) / (BOUNDS.maxLon - BOUNDS.minLon)) * w);
  const dotY = (lat: number) => Math.floor(((BOUNDS.maxLat - lat) / (BOUNDS.maxLat - BOUNDS.minLat)) * h);
  const setDot = (target: Uint8Array, x: number, y: number) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return false;
    target[(y >> 2) * cols + (x >> 1)] |= DOT[y & 3][x & 1];
    return true;
  };
  drawExtent(gridDots, setDot, dotX, dotY, w, h);
  let outside = 0;
  for (const car of cars) {
    if (car.lat < BOUNDS.minLat || car.lat > BOUNDS.maxLat || car.lon < BOUNDS.minLon || car.lon > BOUNDS.maxLon) {
      outside++;
      continue;
    }
    const x = Math.min(w - 1, dotX(car.lon));
    const y = Math.min(h - 1, dotY(car.lat));
    setDot(carDots, x, y);
    const i = (y >> 2) * cols + (x >> 1);
    band[i] = Math.max(band[i], BAND_RANK[car.band]);
  }
  const cellOf = (lat: number, lon: number) => [Math.min(rows - 1, Math.max(0, dotY(lat) >> 2)), Math.min(cols - 1, Math.max(0, dotX(lon) >> 1))] as const;
  const stationCells = new Map<number, readonly [number, number]>();
  for (const s of stations) {
    if (s.lat === undefined || s.lon === undefined) continue;
    const [r, c] = cellOf(s.lat, s.lon);
    stationCells.set(s.n, [r, c]);
    const style: MapStyle = s.selected ? 'stationSelected' : s.full ? 'stationFull' : 'station';
    const label = String(s.n);
    for (let k = 0; k < label.length && c + k < cols; k++) overlay[r * cols + c + k] = { text: label[k], style };
  }
  if (selected) {
    const [r, c] = cellOf(selected.lat, selected.lon);
    const to = selected.station !== undefined ? stationCells.get(selected.station) : undefined;
    if (to) for (const [lr, lc] of line(r, c, to[0], to[1])) overlay[lr * cols + lc] ??= { text: '·', style: 'link' };
    overlay[r * cols + c] = { text: '◉', style: 'car' };
  }
  const out: MapRun[][] = [];
  for (let r = 0; r < rows; r++) {
    const runs: MapRun[] = [];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const cell = overlay[i] ?? (carDots[i] ? { text: String.fromCharCode(0x2800 | carDots[i]), style: RANK_BAND[band[i]] } : gridDots[i] ? { text: String.fromCharCode(0x2800 | gridDots[i]), style: 'grid' as const } : { text: ' ', style: 'empty' as const });
      const last = runs.at(-1);
      if (last && last.style === cell.style) last.text += cell.text;
      else runs.push({ ...cell });
    }
    out.push(runs);
  }
  return { rows: out, outside };
}

/** The street grid's extent: its outer avenues (the highways) and its first and last streets. */
function drawExtent(target: Uint8Array, setDot: (t: Uint8Array, x: number, y: number) => boolean, dotX: (lon: number) => number, dotY: (lat: number) => number, w: number, h: number) {
  const x0 = Math.min(w - 1, dotX(GRID.avenues[0]));
  const x1 = Math.min(w - 1, dotX(GRID.avenues.at(-1)!));
  const y0 = Math.min(h - 1, dotY(GRID.streets.at(-1)!));
  const y1 = Math.min(h - 1, dotY(GRID.streets[0]));
  for (let x = x0; x <= x1; x += 2) {
    setDot(target, x, y0);
    setDot(target, x, y1);
  }
  for (let y = y0; y <= y1; y += 2) {
    setDot(target, x0, y);
    setDot(target, x1, y);
  }
}

/** Cells on a straight line between two cells (Bresenham), ends excluded. */
function line(r0: number, c0: number, r1: number, c1: number): [number, number][] {
  const out: [number, number][] = [];
  const dr = Math.abs(r1 - r0);
  const dc = Math.abs(c1 - c0);
  const sr = r0 < r1 ? 1 : -1;
  const sc = c0 < c1 ? 1 : -1;
  let err = dc - dr;
  let [r, c] = [r0, c0];
  while (r !== r1 || c !== c1) {
    const e2 = 2 * err;
    if (e2 > -dr) {
      err -= dr;
      c += sc;
    }
    if (e2 < dc) {
      err += dc;
      r += sr;
    }
    if (r !== r1 || c !== c1) out.push([r, c]);
  }
  return out;
}
