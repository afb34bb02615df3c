import { describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import { eventBusContract } from './event-bus.contract.js';

let counter = 0;

describe('EventBus contract [memory]', () => {
  eventBusContract(async () => createMemoryEventBus(), () => `mem${++counter}`);
});

describe('memory event bus retention', () => {
  it('trims what every group committed and skips a group that falls behind the cap', async () => {
    const bus = createMemoryEventBus({ partitions: 1, maxRetainedPerPartition: 100 });
    const got: ConsumedRecord[] = [];
    const sub = await bus.subscribe({ topic: 't', groupId: 'g', handleBatch: async (b) => void got.push(...b) });
    await bus.publish('t', Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: String(i) })));
    await waitUntil(() => got.length === 50);
    await sub.stop();

    // A new group joining now sees only what is retained: everything was committed and trimmed.
    const late: ConsumedRecord[] = [];
    const lateSub = await bus.subscribe({ topic: 't', groupId: 'late', handleBatch: async (b) => void late.push(...b) });
    await new Promise((r) => setTimeout(r, 100));
    expect(late).toEqual([]);
    await lateSub.stop();

    // Group g is stopped; 150 more records exceed the cap, so g skips the oldest when it returns.
    await bus.publish('t', Array.from({ length: 150 }, (_, i) => ({ key: 'k', value: String(50 + i) })));
    const back: ConsumedRecord[] = [];
    const again = await bus.subscribe({ topic: 't', groupId: 'g', handleBatch: async (b) => void back.push(...b) });
    await waitUntil(() => back.length > 0 && back.at(-1)?.value === '199');
    expect(back.length).toBeLessThanOrEqual(100);
    expect(back[0].offset).toBe(String(200 - back.length));
    expect(await again.lag()).toBe(0);
    await bus.close();
  });
});

describe('memory event bus backpressure', () => {
  it('never drops what a running durable group has not consumed: publish waits for it instead', async () => {
    const bus = createMemoryEventBus({ partitions: 1, maxRetainedPerPartition: 100 });
    const got: string[] = [];
    let release: () => void = () => {};
    let gate = new Promise<void>((r) => (release = r));
    // A slow durable consumer (the worker): it takes each batch only when let through.
    await bus.subscribe({ topic: 't', groupId: 'worker', maxBatch: 50, handleBatch: async (b) => {
      await gate;
      got.push(...b.map((r) => r.value));
    } });
    // An observer that never reads fast either: ephemeral, so it may skip.
    await bus.subscribe({ topic: 't', groupId: 'watch', ephemeral: true, maxBatch: 50, handleBatch: () => new Promise((r) => setTimeout(r, 1000)) });
    let published = false;
    const publishing = bus.publish('t', Array.from({ length: 300 }, (_, i) => ({ key: 'k', value: String(i) }))).then(() => (published = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(published).toBe(false); // 300 > the cap of 100 and the worker has read nothing
    const pump = setInterval(() => {
      release();
      gate = new Promise<void>((r) => (release = r));
    }, 5);
    await publishing;
    await waitUntil(() => got.length === 300);
    clearInterval(pump);
    release();
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    await bus.close();
  });

  it('a stalled durable group holds publish only for maxPublishWaitMs, then the cap applies', async () => {
    const bus = createMemoryEventBus({ partitions: 1, maxRetainedPerPartition: 100, maxPublishWaitMs: 200 });
    const sub = await bus.subscribe({ topic: 't', groupId: 'stuck', handleBatch: () => new Promise(() => {}) });
    const t0 = Date.now();
    await bus.publish('t', Array.from({ length: 300 }, (_, i) => ({ key: 'k', value: String(i) })));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(await sub.lag()).toBeLessThanOrEqual(100);
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
