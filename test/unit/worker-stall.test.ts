import { describe, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry, serveMetrics } from '../../src/observability/metrics.js';
import type { Store } from '../../src/ports/store.js';
import { createWorker } from '../../src/services/worker.js';
import { createStallDetector, readinessOf } from '../../src/services/worker-stall.js';

const T0 = Date.UTC(2024, 5, 3, 17, 0);

describe('stall detector (fake clock)', () => {
  it('a partition failing for stallAfterMs while its lag does not shrink is stalled; progress clears it', () => {
    let t = 1_000_000;
    const d = createStallDetector({ stallAfterMs: 30_000, now: () => t });
    d.begin(0);
    d.failed(0, new Error('connection refused'));
    expect(d.check(new Map([[0, 100]]))).toEqual([]); // not long enough yet
    t += 29_999;
    expect(d.check(new Map([[0, 150]]))).toEqual([]);
    t += 1;
    const [s] = d.check(new Map([[0, 180]]));
    expect(s).toMatchObject({ partition: 0, since: 1_000_000, lagAtStart: 100, lag: 180, lastError: 'connection refused' });
    const r = readinessOf(d.check(new Map([[0, 180]])), t);
    expect(r).toEqual({ ready: false, reason: 'stalled: partition 0 has made no progress for 30 s, lag 100 → 180, last error: connection refused' });
    d.done(0);
    expect(d.check(new Map([[0, 0]]))).toEqual([]);
  });

  it('a slow partition whose lag shrinks, or one with nothing left, is not stalled; others are judged on their own', () => {
    let t = 0;
    const d = createStallDetector({ stallAfterMs: 10_000, now: () => t });
    d.begin(1);
    d.begin(2);
    d.check(new Map([[1, 500], [2, 500]]));
    t += 20_000;
    expect(d.check(new Map([[1, 400], [2, 500]])).map((s) => s.partition)).toEqual([2]);
    expect(d.check(new Map([[1, 400], [2, 0]]))).toEqual([]);
  });

  it('without a lag, time alone decides', () => {
    let t = 0;
    const d = createStallDetector({ stallAfterMs: 5_000, now: () => t });
    d.begin(0);
    t = 5_000;
    expect(d.check(undefined)).toHaveLength(1);
  });
});

describe('worker /ready on a stalled partition (memory bus, fake clock)', () => {
  it('turns NOT READY with the reason while the store keeps failing, and READY once rows are written', async () => {
    let t = 5_000_000;
    let storeDown = true;
    let written = 0;
    const store = {
      kind: 'pglite',
      insertTelemetry: async (rows: unknown[]) => {
        if (storeDown) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        written += rows.length;
        return rows.length;
      },
    } as unknown as Store;
    const bus = createMemoryEventBus({ retryBackoffMs: 5 });
    const ns = 'stall';
    const worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry: createRegistry(false), stallAfterMs: 30_000, now: () => t });
    await worker.start();
    const server = await serveMetrics({ registry: createRegistry(false), port: 0, host: '127.0.0.1', ready: () => worker.readiness() });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ready`;
    const get = async () => fetch(url).then(async (r) => [r.status, await r.text()] as const);
    const event = (i: number) => ({ key: 'CAR-1', value: JSON.stringify({ event_id: `e${i}`, event_type: 'telemetry', car_id: 'CAR-1', lat: 40.7, lon: -73.9, battery: 50, velocity: 1, timestamp: T0 + i }) });
    try {
      await bus.publish(topicName(ns, TOPIC_EVENTS), [event(1)]);
      while (worker.stats().failedBatches < 2) await new Promise((r) => setTimeout(r, 5));
      expect(await get()).toEqual([200, 'READY']); // failing, but not for long yet
      t += 30_000;
      await bus.publish(topicName(ns, TOPIC_EVENTS), [event(2), event(3)]); // lag grows while stuck
      const [status, body] = await get();
      expect(status).toBe(503);
      expect(body).toMatch(/^NOT READY: stalled: partition \d+ has made no progress for 30 s, lag 1 → 3, last error: connect ECONNREFUSED/);
      expect(worker.ready()).toBe(false);
      storeDown = false;
      while (written < 3) await new Promise((r) => setTimeout(r, 5));
      expect(await get()).toEqual([200, 'READY']);
      expect(worker.ready()).toBe(true);
    } finally {
      server.close();
      await worker.stop();
      await bus.close();
    }
  });
});
