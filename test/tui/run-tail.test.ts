import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FleetEvent } from '../../src/domain/events.js';
import { runTail } from '../../src/tui/run-tail.js';
import type { EventSource, EventSourceHandlers } from '../../src/tui/sources/types.js';

/** A source the test drives by hand. */
function manualSource(): EventSource & { push(events: FleetEvent[]): void | Promise<void>; h?: EventSourceHandlers } {
  const s: EventSource & { push(events: FleetEvent[]): void | Promise<void>; h?: EventSourceHandlers } = {
    kind: 'synthetic',
    label: 'manual',
    async start(h) {
      s.h = h;
      h.onStatus({ state: 'connected' });
    },
    async stop() {},
    push: (events) => s.h!.onEvents(events),
  };
  return s;
}
const tele = (car: string, battery: number): FleetEvent => ({ event_id: car + battery, event_type: 'telemetry', car_id: car, lat: 40.7234, lon: -73.9876, battery, velocity: 45.2, timestamp: new Date(2025, 0, 1, 12, 34, 56).getTime() });
const capture = () => {
  const stream = new PassThrough() as PassThrough & NodeJS.WriteStream;
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
};

describe('runTail without a terminal', () => {
  it('plain: one original-format line per event, stops at --limit, summary on stderr', async () => {
    const out = capture();
    const err = capture();
    const source = manualSource();
    const done = runTail({ sources: { events: source }, output: 'plain', limit: 3, stdout: out.stream, stderr: err.stream, color: false });
    await new Promise((r) => setTimeout(r, 10));
    source.push([tele('CAR-001', 85.3), tele('CAR-002', 12)]);
    source.push([tele('CAR-003', 30), tele('CAR-004', 99)]);
    const result = await done;
    expect(out.text().split('\n')).toEqual([
      '[12:34:56] 🟢 CAR-001 | Battery:  85.3% | Location: (40.7234, -73.9876) | Speed:  45.2 km/h',
      '[12:34:56] 🔴 CAR-002 | Battery:  12.0% | Location: (40.7234, -73.9876) | Speed:  45.2 km/h ⚠ CRITICAL BATTERY!',
      '[12:34:56] 🟡 CAR-003 | Battery:  30.0% | Location: (40.7234, -73.9876) | Speed:  45.2 km/h',
      '',
    ]);
    expect(result).toMatchObject({ events: 3, reason: 'limit' });
    expect(err.text()).toContain('manual: connected');
    expect(err.text()).toMatch(/Session summary\s+Events:\s+3\s+Duration:\s+[\d.]+ s\s+Events\/s:\s+[\d.]+/);
  });

  it('json: NDJSON, one event object per line, stops after --duration', async () => {
    const out = capture();
    const source = manualSource();
    const done = runTail({ sources: { events: source }, output: 'json', durationSec: 0.2, stdout: out.stream, stderr: capture().stream });
    await new Promise((r) => setTimeout(r, 10));
    source.push([tele('CAR-001', 50), { event_id: 'b1', event_type: 'booking_confirmed', car_id: 'CAR-001', station_id: 'ST-1', timestamp: 5 }]);
    const result = await done;
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ event_type: 'telemetry', car_id: 'CAR-001', battery: 50 }), expect.objectContaining({ event_type: 'booking_confirmed', station_id: 'ST-1' })]);
    expect(result).toMatchObject({ events: 2, reason: 'duration' });
  });

  it('applies backpressure: a full pipe makes onEvents return a promise that settles on drain', async () => {
    const stream = new PassThrough({ highWaterMark: 16 }) as PassThrough & NodeJS.WriteStream;
    const source = manualSource();
    const ac = new AbortController();
    const done = runTail({ sources: { events: source }, output: 'plain', stdout: stream, stderr: capture().stream, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 10));
    const pending = source.push([tele('CAR-001', 50)]);
    expect(pending).toBeInstanceOf(Promise);
    let settled = false;
    void (pending as Promise<void>).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    stream.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(true);
    ac.abort();
    expect((await done).reason).toBe('signal');
  });
});
