import { afterEach, expect, it } from 'vitest';
import type { BusRecord, ConsumedRecord, EventBus, Subscription } from '../../src/ports/event-bus.js';

/** Polls until check() is true; fails with what it last saw otherwise. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** count records over `keys` cars, each value carrying its per-key sequence number. */
function records(count: number, keys: number, tag = 'r'): BusRecord[] {
  const seq = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const key = `CAR-${String(i % keys).padStart(3, '0')}`;
    const n = seq.get(key) ?? 0;
    seq.set(key, n + 1);
    return { key, value: JSON.stringify({ tag, key, n }) };
  });
}

const ids = (got: ConsumedRecord[]) => got.map((r) => `${r.key}/${JSON.parse(r.value).n}/${JSON.parse(r.value).tag}`);

/**
 * The EventBus contract: every adapter must pass it unchanged. topicPrefix() returns a fresh
 * prefix per call so topics and groups never collide between tests or runs.
 */
export function eventBusContract(makeBus: () => Promise<EventBus>, topicPrefix: () => string): void {
  const buses: EventBus[] = [];
  const open = async (): Promise<EventBus> => {
    const bus = await makeBus();
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  /** A fresh topic (created) and group for one test. */
  async function scenario(bus: EventBus): Promise<{ topic: string; groupId: string }> {
    const prefix = topicPrefix();
    const topic = `${prefix}.fleet-events`;
    await bus.ensureTopics([topic]);
    return { topic, groupId: `${prefix}.group` };
  }

  it('delivers everything published, in order per key, in bounded batches', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    const sent = records(300, 10);
    for (let i = 0; i < sent.length; i += 75) await bus.publish(topic, sent.slice(i, i + 75));

    const got: ConsumedRecord[] = [];
    const batchSizes: number[] = [];
    const sub = await bus.subscribe({
      topic,
      groupId,
      maxBatch: 40,
      handleBatch: async (batch) => {
        batchSizes.push(batch.length);
        got.push(...batch);
      },
    });
    await waitFor('all 300 records', () => got.length >= 300);
    await sub.stop();

    expect(got).toHaveLength(300);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(40);
    const partitionOf = new Map<string, number>();
    const lastN = new Map<string, number>();
    for (const r of got) {
      expect(r.topic).toBe(topic);
      expect(Number.isInteger(Number(r.offset))).toBe(true);
      expect(r.timestamp).toBeGreaterThan(Date.now() - 120_000);
      expect(partitionOf.get(r.key) ?? r.partition).toBe(r.partition); // one key, one partition
      partitionOf.set(r.key, r.partition);
      const n = JSON.parse(r.value).n as number;
      expect(n).toBe((lastN.get(r.key) ?? -1) + 1); // per-key order, no gaps
      lastN.set(r.key, n);
    }
    expect(new Set(partitionOf.values()).size).toBeGreaterThan(1);
  });

  it('splits a group between two consumers without duplicates', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    const byConsumer: ConsumedRecord[][] = [[], []];
    const subs: Subscription[] = [];
    for (const mine of byConsumer) {
      subs.push(await bus.subscribe({ topic, groupId, handleBatch: async (batch) => void mine.push(...batch) }));
    }
    const sent = records(600, 30);
    for (let i = 0; i < sent.length; i += 100) await bus.publish(topic, sent.slice(i, i + 100));

    await waitFor('600 distinct records', () => new Set(ids(byConsumer.flat())).size >= 600);
    await sleep(500); // give a duplicate time to show up
    await Promise.all(subs.map((s) => s.stop()));

    const all = ids(byConsumer.flat());
    expect(all).toHaveLength(600);
    expect(new Set(all).size).toBe(600);
    expect(byConsumer[0].length).toBeGreaterThan(0);
    expect(byConsumer[1].length).toBeGreaterThan(0);
    const keysOf = (got: ConsumedRecord[]) => new Set(got.map((r) => r.key));
    const shared = [...keysOf(byConsumer[0])].filter((k) => keysOf(byConsumer[1]).has(k));
    expect(shared).toEqual([]); // a key belongs to one partition, a partition to one consumer
  });

  it('redelivers a batch whose handler threw and commits only after success', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    await bus.publish(topic, records(50, 5));

    const attempts: ConsumedRecord[][] = [];
    let failures = 0;
    const sub = await bus.subscribe({
      topic,
      groupId,
      handleBatch: async (batch) => {
        attempts.push(batch);
        if (failures === 0) {
          failures++;
          throw new Error('simulated handler failure');
        }
      },
    });
    await waitFor('50 successfully handled records', () => new Set(ids(attempts.slice(1).flat())).size >= 50);
    await sub.stop();

    // The failed batch came back, from the same offset.
    const failed = attempts[0];
    const retried = attempts.slice(1).find((b) => b[0].partition === failed[0].partition);
    expect(retried?.[0].offset).toBe(failed[0].offset);
    expect(ids(retried ?? []).slice(0, failed.length)).toEqual(ids(failed));

    // A new consumer in the same group starts after what was handled: it sees only new records.
    const later: ConsumedRecord[] = [];
    const next = await bus.subscribe({ topic, groupId, handleBatch: async (batch) => void later.push(...batch) });
    await bus.publish(topic, records(3, 3, 'after'));
    await waitFor('the 3 new records', () => later.length >= 3);
    await sleep(300);
    await next.stop();
    expect(later.map((r) => JSON.parse(r.value).tag)).toEqual(['after', 'after', 'after']);
  });

  it('stops promptly while a handler keeps failing, leaving its records for the next consumer', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    await bus.publish(topic, records(10, 1));
    let attempts = 0;
    const failing = await bus.subscribe({
      topic,
      groupId,
      handleBatch: async () => {
        attempts++;
        throw new Error('always fails');
      },
    });
    await waitFor('a retry', () => attempts >= 2);
    const started = Date.now();
    await failing.stop();
    expect(Date.now() - started).toBeLessThan(5_000);

    const got: ConsumedRecord[] = [];
    const next = await bus.subscribe({ topic, groupId, handleBatch: async (batch) => void got.push(...batch) });
    await waitFor('the 10 uncommitted records', () => got.length >= 10);
    await next.stop();
    expect(got.map((r) => JSON.parse(r.value).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reports lag for records not yet handled, and none once they are', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    await bus.publish(topic, records(40, 8));

    let open_ = false;
    let handled = 0;
    const sub = await bus.subscribe({
      topic,
      groupId,
      handleBatch: async (batch) => {
        await waitFor('the gate', () => open_, 30_000);
        handled += batch.length;
      },
    });
    // Nothing is committed while the handler is held.
    await waitFor('lag of 40', async () => (await sub.lag()) === 40);
    await bus.publish(topic, records(10, 2, 'more'));
    await waitFor('lag of 50', async () => (await sub.lag()) === 50);

    open_ = true;
    await waitFor('all handled', () => handled >= 50);
    await waitFor('lag of 0', async () => (await sub.lag()) === 0);
    await sub.stop();
  });

  it('starts a new group at the head when fromBeginning is false', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    await bus.publish(topic, records(20, 4, 'old'));
    const got: ConsumedRecord[] = [];
    const sub = await bus.subscribe({ topic, groupId, fromBeginning: false, handleBatch: async (batch) => void got.push(...batch) });
    await sleep(500); // a latest-offset consumer resolves its position on its first fetch
    await bus.publish(topic, records(5, 5, 'new'));
    await waitFor('5 new records', () => got.length >= 5);
    await sleep(300);
    await sub.stop();
    expect(got.map((r) => JSON.parse(r.value).tag)).toEqual(Array(5).fill('new'));
  });

  it('forgets an ephemeral group once its last member stops, while a durable group keeps its commit', async () => {
    const bus = await open();
    const { topic, groupId } = await scenario(bus);
    await bus.publish(topic, records(12, 3));
    // A group that never commits keeps every record retained (the memory bus trims what all groups committed).
    const holder = await bus.subscribe({ topic, groupId: `${groupId}-hold`, handleBatch: async () => Promise.reject(new Error('hold')) });
    const consumeAll = async (group: string, ephemeral: boolean) => {
      const got: ConsumedRecord[] = [];
      const sub = await bus.subscribe({ topic, groupId: group, ephemeral, handleBatch: async (batch) => void got.push(...batch) });
      await waitFor(`12 records for ${group}`, () => got.length >= 12);
      await sub.stop();
      return got.length;
    };
    const afterRejoin = async (group: string, ephemeral: boolean) => {
      const got: ConsumedRecord[] = [];
      const sub = await bus.subscribe({ topic, groupId: group, ephemeral, handleBatch: async (batch) => void got.push(...batch) });
      await sleep(1_000);
      await sub.stop();
      return got.length;
    };
    expect(await consumeAll(`${groupId}-eph`, true)).toBe(12);
    expect(await consumeAll(`${groupId}-dur`, false)).toBe(12);
    expect(await afterRejoin(`${groupId}-eph`, true)).toBe(12); // forgotten: starts over
    expect(await afterRejoin(`${groupId}-dur`, false)).toBe(0); // committed: nothing left
    await holder.stop();
  });
}
