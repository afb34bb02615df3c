import type { CarBooking, CarTuple, DeltaMsg, SnapshotMsg, WebGrid, WebKpis, WebPricePoint, WebStation } from '../../src/web/protocol.js';

export type { CarBooking, CarTuple, WebGrid, WebKpis, WebPricePoint, WebStation };

/** The TUI's battery bands (src/tui/store/bands.ts): > 50 green, 20–50 yellow, < 20 red. */
export type Band = 'green' | 'yellow' | 'red';
export const bandOf = (battery: number): Band => (battery > 50 ? 'green' : battery >= 20 ? 'yellow' : 'red');
export const BAND_COLOR: Record<Band, string> = { green: '#22c55e', yellow: '#eab308', red: '#ef4444' };

/** Station fill by occupancy: free, busy (half or more taken), full; offline when an operator took it out. */
export const STATION_COLOR = { free: '#22d3ee', busy: '#a855f7', full: '#ec4899', offline: '#64748b' } as const;
export function stationState(s: WebStation): keyof typeof STATION_COLOR {
  if (s.offline) return 'offline';
  if (s.ports > 0 && s.taken >= s.ports) return 'full';
  if (s.ports > 0 && s.taken * 2 >= s.ports) return 'busy';
  return 'free';
}

/** What the page knows; cars live in a mutable map (10,000 of them change every second). */
export interface FleetModel {
  operator: string;
  grid: WebGrid;
  cars: Map<string, CarTuple>;
  stations: WebStation[];
  bookings: CarBooking[];
  kpis: WebKpis;
  critical: CarTuple[];
  price: WebPricePoint | null;
  forecast: WebPricePoint[];
  /** A basemap tile URL template (`--tiles`), when the server has one. */
  tiles?: string;
  /** Bumped on every frame, so React re-renders the panels and the canvas redraws. */
  version: number;
}

export function fromSnapshot(s: SnapshotMsg): FleetModel {
  return {
    operator: s.operator,
    grid: s.grid,
    cars: new Map(s.cars.map((c) => [c[0], c])),
    stations: s.stations,
    bookings: s.bookings,
    kpis: s.kpis,
    critical: s.critical,
    price: s.price,
    forecast: s.forecast,
    tiles: s.tiles,
    version: 1,
  };
}

export function applyDelta(m: FleetModel, d: DeltaMsg): FleetModel {
  for (const c of d.cars) m.cars.set(c[0], c);
  for (const id of d.removed) m.cars.delete(id);
  return {
    ...m,
    kpis: d.kpis,
    critical: d.critical,
    stations: d.stations ?? m.stations,
    bookings: d.bookings ?? m.bookings,
    price: 'price' in d ? (d.price ?? null) : m.price,
    forecast: d.forecast ?? m.forecast,
    version: m.version + 1,
  };
}
