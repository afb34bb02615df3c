import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import type { TelemetryEvent } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Backpressure, StreamSlot, type FlowStream } from '../../src/services/ingestion/backpressure.js';
import { latestPerCar, retryDelayMs, writeTelemetryBatch } from '../../src/services/ingestion/batch-writer.js';
import { MicroBatcher } from '../../src/services/ingestion/batcher.js';
import { createIngestionMetrics } from '../../src/services/ingestion/metrics.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('MicroBatcher', () => {
  it('writes a full batch at once, then what queued meanwhile, one write at a time, in order', async () => {
    const writes: number[][] = [];
    let running = 0;
    const b = new MicroBatcher<number>({ maxBatch: 3, flushIntervalMs: 10_000, highWater: 100 }, async (batch) => {
      expect(running++).toBe(0);
      writes.push([...batch]);
      await tick();
      running--;
    });
    for (let i = 1; i <= 4; i++) b.push(i);
    expect(writes).toEqual([[1, 2, 3]]);
    expect(b.size).toBe(1);
    await tick();
    await tick();
    expect(writes).toEqual([[1, 2, 3], [4]]);
    expect(b.size).toBe(0);
  });

  it('writes a partial batch once the interval after its first item has passed', async () => {
    const writes: number[][] = [];
    const b = new MicroBatcher<number>({ maxBatch: 100, flushIntervalMs: 20, highWater: 1_000 }, async (batch) => void writes.push([...batch]));
    b.push(1);
    b.push(2);
    await tick();
    expect(writes).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(writes).toEqual([[1, 2]]);
  });

  it('reports full at highWater and free again once back to half', async () => {
    const changes: boolean[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number>({ maxBatch: 2, flushIntervalMs: 1_000, highWater: 4 }, () => gate, (full) => changes.push(full));
    for (let i = 0; i < 6; i++) b.push(i); // the first batch of 2 is stuck in the write
    expect(b.full).toBe(true);
    expect(changes).toEqual([true]);
    release();
    await b.drain();
    expect(b.size).toBe(0);
    expect(b.full).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('counts the batch being written: a write stuck on a dead sink keeps the buffer full', async () => {
    const changes: boolean[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number>({ maxBatch: 4, flushIntervalMs: 1_000, highWater: 4 }, () => gate, (full) => changes.push(full));
    for (let i = 0; i < 4; i++) b.push(i); // the whole buffer is one batch, stuck in the write
    expect(b.size).toBe(0);
    expect(b.buffered).toBe(4);
    expect(b.full).toBe(true);
    release();
    await b.drain();
    expect(b.buffered).toBe(0);
    expect(changes).toEqual([true, false]);
  });

  it('drain() writes everything queued', async () => {
    const seen: number[] = [];
    const b = new MicroBatcher<number>({ maxBatch: 10, flushIntervalMs: 10_000, highWater: 100 }, async (batch) => void seen.push(...batch));
    b.push(1);
    b.push(2);
    await b.drain();
    expect(seen).toEqual([1, 2]);
  });
});

class FakeStream extends EventEmitter implements FlowStream<string> {
  paused = false;
  writable = true;
  ended = false;
  written: string[] = [];
  accept = true;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write(msg: string) {
    this.written.push(msg);
    return this.accept;
  }
  end() {
    this.ended = true;
    this.writable = false;
  }
}

describe('Backpressure', () => {
  it('pauses every stream while the queue is full, and resumes them after', () => {
    const flow = new Backpressure<string>();
    const a = new StreamSlot(new FakeStream());
    const b = new StreamSlot(new FakeStream());
    flow.add(a);
    flow.add(b);
    flow.setQueueFull(true);
    expect([a, b].map((s) => (s.stream as FakeStream).paused)).toEqual([true, true]);
    const c = new StreamSlot(new FakeStream());
    flow.add(c); // a stream opened while full starts paused
    expect((c.stream as FakeStream).paused).toBe(true);
    flow.setQueueFull(false);
    expect([a, b, c].map((s) => (s.stream as FakeStream).paused)).toEqual([false, false, false]);
  });

  it('pauses a stream whose responses back up until it drains, even when the queue frees', () => {
    const flow = new Backpressure<string>();
    const stream = new FakeStream();
    const slot = new StreamSlot(stream);
    flow.add(slot);
    stream.accept = false;
    expect(flow.respond(slot, 'r1')).toBe(true);
    expect(stream.paused).toBe(true);
    flow.setQueueFull(false);
    expect(stream.paused).toBe(true);
    stream.emit('drain');
    expect(stream.paused).toBe(false);
    expect(stream.written).toEqual(['r1']);
  });

  it('does not write to a closed stream, and endAll() resumes and ends every stream', () => {
    const flow = new Backpressure<string>();
    const stream = new FakeStream();
    const slot = new StreamSlot(stream);
    flow.add(slot);
    flow.setQueueFull(true);
    flow.endAll();
    expect(stream).toMatchObject({ paused: false, ended: true });
    expect(flow.respond(slot, 'late')).toBe(false);
    expect(stream.written).toEqual([]);
  });
});

const event = (car: string, timestamp: number, battery = 50): TelemetryEvent => ({ event_id: `${car}-${timestamp}`, event_type: 'telemetry', car_id: car, lat: 40.75, lon: -73.98, battery, velocity: 10, timestamp });

describe('writeTelemetryBatch', () => {
  const metrics = createIngestionMetrics(new Registry(), () => 0);

  it('retries a failing write with growing delays until the engines take it', async () => {
    const fleet = createMemoryFleetState();
    const bus = createMemoryEventBus();
    let failures = 2;
    const upsert = fleet.upsertCars.bind(fleet);
    fleet.upsertCars = async (cars) => {
      if (failures-- > 0) throw new Error('redis down');
      return upsert(cars);
    };
    const sleep = vi.fn(async () => {});
    const onError = vi.fn();
    const ok = await writeTelemetryBatch({ fleet, bus, topic: 't', logger: silentLogger, metrics, isStopping: () => false, onError, sleep }, [event('A', 2, 40), event('A', 1, 41)]);
    expect(ok).toBe(true);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(sleep.mock.calls).toEqual([[retryDelayMs(1)], [retryDelayMs(2)]]);
    expect(await fleet.getCar('A')).toMatchObject({ battery: 40, timestamp: 2 });
  });

  it('gives up only during shutdown, after three attempts', async () => {
    const fleet = createMemoryFleetState();
    fleet.upsertCars = async () => {
      throw new Error('redis down');
    };
    const sleep = vi.fn(async () => {});
    const ok = await writeTelemetryBatch({ fleet, bus: createMemoryEventBus(), topic: 't', logger: silentLogger, metrics, isStopping: () => true, sleep }, [event('A', 1)]);
    expect(ok).toBe(false);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('backs off from 100 ms, doubling, capped at 5 s', () => {
    expect([1, 2, 3, 10].map(retryDelayMs)).toEqual([100, 200, 400, 5_000]);
  });

  it('keeps only the newest state per car for fleet state', () => {
    expect(latestPerCar([event('A', 1, 10), event('B', 5), event('A', 3, 30), event('A', 2, 20)]).map((c) => [c.carId, c.timestamp, c.battery])).toEqual([
      ['A', 3, 30],
      ['B', 5, 50],
    ]);
  });
});
