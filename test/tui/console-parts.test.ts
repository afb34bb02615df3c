import { describe, expect, it } from 'vitest';
import { drawMap } from '../../src/tui/store/braille-map.js';
import { consoleLayout } from '../../src/tui/store/console-layout.js';
import { CarHistories } from '../../src/tui/store/car-history.js';
import { FeedSampler } from '../../src/tui/store/feed-sampler.js';
import type { CarView } from '../../src/tui/store/types.js';

const car = (carId: string, lat: number, lon: number, battery = 80): CarView => ({ carId, lat, lon, battery, velocity: 0, timestamp: 0, band: battery > 50 ? 'green' : battery >= 20 ? 'yellow' : 'red', critical: battery < 15 });
const text = (rows: { text: string }[][]) => rows.map((r) => r.map((x) => x.text).join(''));

describe('console layout', () => {
  it('fits every size from 80×24 in one screen, and asks for more below', () => {
    for (const [c, r] of [[80, 24], [120, 40], [200, 60], [97, 31]]) {
      const l = consoleLayout(c, r);
      expect(l.tooSmall).toBe(false);
      // header, fleet, alert, body, feed (+ border), action, keys
      expect(3 + l.bodyRows + l.feedRows + 2 + 2).toBeLessThanOrEqual(r - 1);
      expect(l.mapCols + 3 + l.sideWidth).toBeLessThanOrEqual(c);
      expect(l.stationRows).toBeGreaterThanOrEqual(3);
    }
    expect(consoleLayout(200, 60).mapCols).toBeGreaterThan(100);
    expect(consoleLayout(79, 24).tooSmall).toBe(true);
    expect(consoleLayout(80, 23).tooSmall).toBe(true);
  });
});

describe('braille map', () => {
  it('draws the grid extent, cars by band, numbered stations and the selected car linked to its station', () => {
    const m = drawMap({
      cars: [car('A', 40.8, -73.96, 10), car('B', 41.5, -73.9)],
      stations: [{ n: 12, lat: 40.72, lon: -74.0, full: false, selected: false }],
      cols: 30,
      rows: 20,
      selected: { lat: 40.8, lon: -73.96, station: 12 },
    });
    const lines = text(m.rows);
    expect(m.outside).toBe(1);
    expect(lines.join('\n')).toContain('12');
    expect(lines.join('\n')).toContain('◉');
    expect(lines.join('\n')).toContain('·');
    expect(lines[0]).toMatch(/^[\u2800-\u28ff]+/);
    expect(m.rows.flat().some((r) => r.style === 'link')).toBe(true);
    const plain = drawMap({ cars: [car('A', 40.8, -73.96, 10)], stations: [], cols: 30, rows: 20 });
    expect(plain.rows.flat().some((r) => r.style === 'red')).toBe(true);
  });
});

describe('feed scrollback and car history', () => {
  it('keeps a bounded scrollback and counts what sampling left out', () => {
    const feed = new FeedSampler({ perFlush: 2, generationSize: 3, flushMs: 100, scrollback: 5 });
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 5; j++) feed.sample({ event_id: `${i}-${j}`, event_type: 'telemetry', car_id: `C${j}`, timestamp: j, lat: 0, lon: 0, battery: 90, velocity: 0 });
      feed.flush();
    }
    expect(feed.scrollback).toHaveLength(5);
    expect(feed.skipped).toBe(12);
  });

  it('samples a battery trend and keeps the last decisions with reasons, bounded', () => {
    const h = new CarHistories(2, 1000, 3, 2);
    for (let t = 0; t < 10_000; t += 500) h.battery('A', 50 - t / 1000, t);
    expect(h.get('A')!.trend).toEqual([43, 42, 41]);
    for (const [type, reason] of [['booking_queued', 'no_free_port'], ['booking_confirmed', undefined], ['booking_cancelled', 'operator']] as const) h.decision({ event_id: type, event_type: type, car_id: 'A', timestamp: 1, station_id: 'S', reason });
    expect(h.get('A')!.decisions.map((d) => [d.type, d.reason])).toEqual([['booking_confirmed', undefined], ['booking_cancelled', 'operator']]);
    h.battery('B', 1, 0);
    h.battery('C', 1, 0);
    expect(h.get('A')).toBeUndefined();
  });
});
