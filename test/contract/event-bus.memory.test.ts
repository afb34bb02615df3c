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

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
