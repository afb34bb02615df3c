import { BAND_COLOR, bandOf, STATION_COLOR, stationState, type Band, type CarTuple, type WebGrid, type WebStation } from './model.js';

export interface Projection {
  x(lon: number): number;
  y(lat: number): number;
  width: number;
  height: number;
}

/** Equirectangular at the grid's mid latitude, fitted into the canvas (CSS pixels). */
export function projection(grid: WebGrid, width: number, height: number, pad = 16): Projection {
  const b = grid.bounds;
  const k = Math.cos((((b.minLat + b.maxLat) / 2) * Math.PI) / 180);
  const w = (b.maxLon - b.minLon) * k;
  const h = b.maxLat - b.minLat;
  const scale = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
  const ox = (width - w * scale) / 2;
  const oy = (height - h * scale) / 2;
  return { x: (lon) => ox + (lon - b.minLon) * k * scale, y: (lat) => oy + (b.maxLat - lat) * scale, width, height };
}

export const stationRadius = (s: WebStation) => 5 + 1.5 * Math.min(s.ports, 10);

/** The base layer: the simulator's street grid (outer avenues = highways, every fifth street crosstown). */
function drawGrid(ctx: CanvasRenderingContext2D, grid: WebGrid, p: Projection): void {
  const b = grid.bounds;
  ctx.fillStyle = '#0b1220';
  ctx.fillRect(0, 0, p.width, p.height);
  ctx.fillStyle = '#111a2e';
  ctx.fillRect(p.x(b.minLon), p.y(b.maxLat), p.x(b.maxLon) - p.x(b.minLon), p.y(b.minLat) - p.y(b.maxLat));
  grid.avenues.forEach((lon, i) => {
    ctx.strokeStyle = i === 0 || i === grid.avenues.length - 1 ? '#3b4a66' : '#26324a';
    ctx.lineWidth = i === 0 || i === grid.avenues.length - 1 ? 2 : 1;
    ctx.beginPath();
    ctx.moveTo(p.x(lon), p.y(b.maxLat));
    ctx.lineTo(p.x(lon), p.y(b.minLat));
    ctx.stroke();
  });
  grid.streets.forEach((lat, i) => {
    ctx.strokeStyle = i % 5 === 0 ? '#26324a' : '#182238';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(p.x(b.minLon), p.y(lat));
    ctx.lineTo(p.x(b.maxLon), p.y(lat));
    ctx.stroke();
  });
}

function drawCars(ctx: CanvasRenderingContext2D, cars: Iterable<CarTuple>, p: Projection, selected?: string): void {
  const byBand: Record<Band, CarTuple[]> = { green: [], yellow: [], red: [] };
  for (const c of cars) byBand[bandOf(c[3])].push(c);
  // Red last: a critical car is never hidden under a healthy one.
  for (const band of ['green', 'yellow', 'red'] as const) {
    ctx.fillStyle = BAND_COLOR[band];
    for (const c of byBand[band]) ctx.fillRect(Math.round(p.x(c[2])) - 2, Math.round(p.y(c[1])) - 2, 5, 5);
  }
  const sel = selected ? [...byBand.green, ...byBand.yellow, ...byBand.red].find((c) => c[0] === selected) : undefined;
  if (sel) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.strokeRect(p.x(sel[2]) - 5, p.y(sel[1]) - 5, 10, 10);
  }
}

function drawStations(ctx: CanvasRenderingContext2D, stations: WebStation[], p: Projection, selected?: string): void {
  ctx.font = 'bold 11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (const s of stations) {
    if (s.lat === undefined || s.lon === undefined) continue;
    const x = p.x(s.lon);
    const y = p.y(s.lat);
    const r = stationRadius(s);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fillStyle = STATION_COLOR[stationState(s)];
    ctx.fill();
    ctx.lineWidth = s.id === selected ? 3 : 1.5;
    ctx.strokeStyle = s.id === selected ? '#ffffff' : '#0b1220';
    ctx.stroke();
    ctx.fillStyle = '#0b1220';
    ctx.textAlign = 'center';
    ctx.fillText(`${s.taken}/${s.ports}`, x, y);
    if (s.queue > 0) {
      ctx.fillStyle = '#f8fafc';
      ctx.textAlign = 'left';
      ctx.fillText(`Q${s.queue}`, x + r + 3, y);
    }
  }
}

export interface MapLayers {
  grid: WebGrid;
  cars: Iterable<CarTuple>;
  stations: WebStation[];
  selected?: { kind: 'car' | 'station'; id: string };
}

export function drawMap(ctx: CanvasRenderingContext2D, layers: MapLayers, p: Projection): void {
  drawGrid(ctx, layers.grid, p);
  drawCars(ctx, layers.cars, p, layers.selected?.kind === 'car' ? layers.selected.id : undefined);
  drawStations(ctx, layers.stations, p, layers.selected?.kind === 'station' ? layers.selected.id : undefined);
}

/** What is under a click: a station (its disc) first, else the nearest car within 8 px. */
export function hitTest(layers: MapLayers, p: Projection, x: number, y: number): MapLayers['selected'] {
  for (const s of layers.stations) {
    if (s.lat === undefined || s.lon === undefined) continue;
    const r = stationRadius(s) + 2;
    if ((p.x(s.lon) - x) ** 2 + (p.y(s.lat) - y) ** 2 <= r * r) return { kind: 'station', id: s.id };
  }
  let best: string | undefined;
  let bestD = 64;
  for (const c of layers.cars) {
    const d = (p.x(c[2]) - x) ** 2 + (p.y(c[1]) - y) ** 2;
    if (d < bestD) [best, bestD] = [c[0], d];
  }
  return best ? { kind: 'car', id: best } : undefined;
}
