import { Deck, MapView, WebMercatorViewport, type Layer, type MapViewState } from '@deck.gl/core';
import { useEffect, useRef, useState } from 'react';
import { carLayer, gridLayers, stationLayers, type MapLayers } from './map-layers.js';
import type { WebStation } from './model.js';

declare global {
  interface Window {
    /** Where a point is on the map (CSS px from its top-left), and opening a car's or station's detail: for operators' scripts and the browser test. */
    greenlaneMap?: { project(lat: number, lon: number): { x: number; y: number }; select(kind: 'car' | 'station', id: string): void };
  }
}

/** The view that fits the street grid into the element. */
function fitted(layers: MapLayers, width: number, height: number): MapViewState {
  const b = layers.grid.bounds;
  const v = new WebMercatorViewport({ width, height }).fitBounds(
    [
      [b.minLon, b.minLat],
      [b.maxLon, b.maxLat],
    ],
    { padding: 16 },
  );
  return { longitude: v.longitude, latitude: v.latitude, zoom: v.zoom, pitch: 0, bearing: 0 };
}

/** A basemap from `--tiles URL` (…/{z}/{x}/{y}.png), loaded only when one is configured. */
async function tileLayer(url: string): Promise<Layer> {
  const [{ TileLayer }, { BitmapLayer }] = await Promise.all([import('@deck.gl/geo-layers'), import('@deck.gl/layers')]);
  return new TileLayer({
    id: 'basemap',
    data: url,
    minZoom: 0,
    maxZoom: 19,
    tileSize: 256,
    renderSubLayers: (props) => {
      const [[west, south], [east, north]] = (props.tile as unknown as { boundingBox: [[number, number], [number, number]] }).boundingBox;
      return new BitmapLayer({ id: `${props.id}-bitmap`, image: props.data as never, bounds: [west, south, east, north] });
    },
  });
}

/**
 * The map: deck.gl layers on WebGL (cars, stations, the street grid, optionally a basemap), pan and
 * zoom with mouse or touch, redrawn once per hub frame (at most 10 a second).
 */
export function FleetMap(props: { layers: MapLayers; version: number; tiles?: string; onSelect(sel: MapLayers['selected']): void }) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const deck = useRef<Deck<MapView> | undefined>(undefined);
  const onSelect = useRef(props.onSelect);
  onSelect.current = props.onSelect;
  const [basemap, setBasemap] = useState<Layer>();

  useEffect(() => {
    const el = wrap.current!;
    const d = new Deck<MapView>({
      canvas: canvas.current!,
      width: '100%',
      height: '100%',
      views: new MapView({ repeat: false }),
      initialViewState: fitted(props.layers, Math.max(200, el.clientWidth), Math.max(200, el.clientHeight)),
      controller: { doubleClickZoom: true, dragRotate: false },
      // The browser test reads the drawn pixels back.
      deviceProps: { type: 'webgl', webgl: { preserveDrawingBuffer: true } },
      pickingRadius: 6,
      getCursor: ({ isHovering, isDragging }) => (isDragging ? 'grabbing' : isHovering ? 'pointer' : 'grab'),
    });
    deck.current = d;
    window.greenlaneMap = {
      project(lat, lon) {
        const vp = d.getViewports()[0];
        const [x, y] = vp ? vp.project([lon, lat]) : [Number.NaN, Number.NaN];
        return { x: x!, y: y! };
      },
      select: (kind, id) => onSelect.current({ kind, id }),
    };
    return () => {
      d.finalize();
      deck.current = undefined;
    };
    // The deck is made once; the layers below change every frame.
  }, []);

  useEffect(() => {
    if (!props.tiles) return;
    let live = true;
    void tileLayer(props.tiles).then((l) => live && setBasemap(l));
    return () => {
      live = false;
    };
  }, [props.tiles]);

  useEffect(() => {
    const { layers, version } = props;
    const sel = layers.selected;
    deck.current?.setProps({
      layers: [
        ...(basemap ? [basemap] : []),
        ...gridLayers(layers.grid, basemap !== undefined),
        carLayer(layers.cars, version, sel?.kind === 'car' ? sel.id : undefined),
        ...stationLayers(layers.stations, sel?.kind === 'station' ? sel.id : undefined),
      ],
    });
  }, [props.version, props.layers, basemap]);

  // Selection is picked on the DOM click (not deck's tap gesture, which a slow software-GL frame
  // between press and release can miss); a press that moved is a pan, not a click.
  const down = useRef({ x: 0, y: 0 });
  const onClick = (ev: React.MouseEvent<HTMLCanvasElement>) => {
    if (Math.abs(ev.clientX - down.current.x) + Math.abs(ev.clientY - down.current.y) > 4) return;
    const r = ev.currentTarget.getBoundingClientRect();
    const info = deck.current?.pickObject({ x: ev.clientX - r.left, y: ev.clientY - r.top, radius: 6, layerIds: ['stations', 'cars'] });
    const id = info?.layer?.id;
    if (id === 'stations') onSelect.current({ kind: 'station', id: (info!.object as WebStation).id });
    else if (id === 'cars') onSelect.current({ kind: 'car', id: (info!.object as [string])[0] });
    else onSelect.current(undefined);
  };

  return (
    <div ref={wrap} className="map">
      <canvas id="map" ref={canvas} aria-label="fleet map" onPointerDown={(ev) => void (down.current = { x: ev.clientX, y: ev.clientY })} onClick={onClick} />
    </div>
  );
}
