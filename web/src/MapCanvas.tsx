import { useEffect, useRef, useState } from 'react';
import { drawMap, hitTest, projection, type MapLayers, type Projection } from './map-draw.js';

declare global {
  interface Window {
    /** Where a point is on the map canvas (CSS px from its top-left): for operators' scripts and the browser test. */
    greenlaneMap?: { project(lat: number, lon: number): { x: number; y: number } };
  }
}

/** The map: one 2D canvas, redrawn once per frame from the hub (at most 10 a second). */
export function MapCanvas(props: { layers: MapLayers; version: number; onSelect(sel: MapLayers['selected']): void }) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 800, h: 600 });
  const proj = useRef<Projection | undefined>(undefined);

  useEffect(() => {
    const el = wrap.current!;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(200, el.clientWidth), h: Math.max(200, el.clientHeight) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current!;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size.w * dpr);
    c.height = Math.round(size.h * dpr);
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const p = projection(props.layers.grid, size.w, size.h);
    proj.current = p;
    window.greenlaneMap = { project: (lat, lon) => ({ x: p.x(lon), y: p.y(lat) }) };
    const raf = requestAnimationFrame(() => drawMap(ctx, props.layers, p));
    return () => cancelAnimationFrame(raf);
  }, [props.version, props.layers, size]);

  const onClick = (ev: React.MouseEvent<HTMLCanvasElement>) => {
    const r = ev.currentTarget.getBoundingClientRect();
    if (proj.current) props.onSelect(hitTest(props.layers, proj.current, ev.clientX - r.left, ev.clientY - r.top));
  };

  return (
    <div ref={wrap} className="map">
      <canvas id="map" ref={canvas} style={{ width: size.w, height: size.h }} onClick={onClick} aria-label="fleet map" />
    </div>
  );
}
