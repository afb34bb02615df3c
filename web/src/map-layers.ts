import { COORDINATE_SYSTEM, type Layer } from '@deck.gl/core';
import { LineLayer, ScatterplotLayer, SolidPolygonLayer, TextLayer } from '@deck.gl/layers';
import { BAND_COLOR, bandOf, STATION_COLOR, stationState, type CarTuple, type WebGrid, type WebStation } from './model.js';

/** What the map draws; `selected` is highlighted. */
export interface MapLayers {
  grid: WebGrid;
  cars: Iterable<CarTuple>;
  stations: WebStation[];
  selected?: { kind: 'car' | 'station'; id: string };
}

type Rgba = [number, number, number, number];
const rgb = (hex: string, a = 255): Rgba => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), a];
const BAND_RGB = { green: rgb(BAND_COLOR.green), yellow: rgb(BAND_COLOR.yellow), red: rgb(BAND_COLOR.red) };
const BAND_ORDER = { green: 0, yellow: 1, red: 2 } as const;
const WHITE: Rgba = [255, 255, 255, 255];
const INK: Rgba = [11, 18, 32, 255];

/** Station disc radius in pixels, by port count (the page's legend: bigger = more ports). */
export const stationRadius = (s: WebStation) => 5 + 1.5 * Math.min(s.ports, 10);

interface Segment {
  from: [number, number];
  to: [number, number];
  major: boolean;
}

/** The base layer: the simulator's street grid (outer avenues = highways, every fifth street crosstown). */
export function gridLayers(grid: WebGrid, withBasemap: boolean): Layer[] {
  const b = grid.bounds;
  const segments: Segment[] = [
    ...grid.avenues.map((lon, i): Segment => ({ from: [lon, b.minLat], to: [lon, b.maxLat], major: i === 0 || i === grid.avenues.length - 1 })),
    ...grid.streets.map((lat, i): Segment => ({ from: [b.minLon, lat], to: [b.maxLon, lat], major: i % 5 === 0 })),
  ];
  const area: [number, number][] = [
    [b.minLon, b.minLat],
    [b.maxLon, b.minLat],
    [b.maxLon, b.maxLat],
    [b.minLon, b.maxLat],
  ];
  return [
    new SolidPolygonLayer<[number, number][]>({ id: 'area', data: [area], getPolygon: (p) => p, getFillColor: withBasemap ? [17, 26, 46, 90] : [17, 26, 46, 255] }),
    new LineLayer<Segment>({
      id: 'streets',
      data: segments,
      getSourcePosition: (s) => s.from,
      getTargetPosition: (s) => s.to,
      getColor: (s) => (s.major ? [59, 74, 102, 255] : [30, 42, 64, 255]),
      getWidth: (s) => (s.major ? 2 : 1),
      widthUnits: 'pixels',
    }),
  ];
}

/** Cars as points by battery band, red drawn last so a critical car is never hidden under a healthy one. */
export function carLayer(cars: Iterable<CarTuple>, version: number, selected?: string): Layer {
  const data = [...cars].sort((a, b) => BAND_ORDER[bandOf(a[3])] - BAND_ORDER[bandOf(b[3])]);
  return new ScatterplotLayer<CarTuple>({
    id: 'cars',
    data,
    coordinateSystem: COORDINATE_SYSTEM.LNGLAT,
    getPosition: (c) => [c[2], c[1]],
    getFillColor: (c) => BAND_RGB[bandOf(c[3])],
    getLineColor: WHITE,
    getLineWidth: (c) => (c[0] === selected ? 2 : 0),
    stroked: true,
    radiusUnits: 'pixels',
    lineWidthUnits: 'pixels',
    getRadius: (c) => (c[0] === selected ? 5 : 3),
    pickable: true,
    updateTriggers: { getFillColor: version, getPosition: version, getLineWidth: selected, getRadius: selected },
  });
}

/** Stations as discs sized by ports and coloured by occupancy, with taken/ports inside and the queue beside. */
export function stationLayers(stations: WebStation[], selected?: string): Layer[] {
  const placed = stations.filter((s) => s.lat !== undefined && s.lon !== undefined);
  const at = (s: WebStation): [number, number] => [s.lon!, s.lat!];
  return [
    new ScatterplotLayer<WebStation>({
      id: 'stations',
      data: placed,
      getPosition: at,
      getRadius: stationRadius,
      radiusUnits: 'pixels',
      getFillColor: (s) => rgb(STATION_COLOR[stationState(s)]),
      stroked: true,
      lineWidthUnits: 'pixels',
      getLineWidth: (s) => (s.id === selected ? 3 : 1.5),
      getLineColor: (s) => (s.id === selected ? WHITE : INK),
      pickable: true,
      updateTriggers: { getLineWidth: selected, getLineColor: selected },
    }),
    new TextLayer<WebStation>({
      id: 'station-ports',
      data: placed,
      getPosition: at,
      getText: (s) => `${s.taken}/${s.ports}`,
      getSize: 11,
      getColor: INK,
      fontWeight: 'bold',
      characterSet: '0123456789/Q',
    }),
    new TextLayer<WebStation>({
      id: 'station-queue',
      data: placed.filter((s) => s.queue > 0),
      getPosition: at,
      getText: (s) => `Q${s.queue}`,
      getSize: 11,
      getColor: [248, 250, 252, 255],
      getTextAnchor: 'start',
      getPixelOffset: (s) => [stationRadius(s) + 3, 0],
      fontWeight: 'bold',
      characterSet: '0123456789/Q',
    }),
  ];
}
