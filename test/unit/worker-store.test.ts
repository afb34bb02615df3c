import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalPriceSource } from '../../src/adapters/grid/http-price-source.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { acquirePglite, createPgliteStore } from '../../src/adapters/pglite/pglite-store.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import type { ConsumedRecord } from '../../src/ports/event-bus.js';
import type { Store, TelemetryRow } from '../../src/ports/store.js';
import { createWorker, type DlqPayload } from '../../src/services/worker.js';
import { allOrWorst, classifyStoreError, storeErrorDetail, writeBisecting } from '../../src/services/worker-store.js';
import { testNamespace } from '../helpers/infra.js';

const T0 = Date.UTC(2024, 5, 3, 17, 0);
const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('classifyStoreError', () => {
  it.each([
    ['22021 invalid byte sequence (a NUL in text)', pgError('22021'), 'data'],
    ['22008 datetime field overflow', pgError('22008'), 'data'],
    ['22P02 invalid text representation', pgError('22P02'), 'data'],
    ['23514 check violation', pgError('23514'), 'data'],
    ['23502 not-null violation', pgError('23502'), 'data'],
    ['42601 syntax error', pgError('42601'), 'data'],
    ['42804 datatype mismatch', pgError('42804'), 'data'],
    ['RangeError: Invalid time value (formatting a Date)', new RangeError('Invalid time value'), 'data'],
    ['TypeError from formatting', new TypeError('Cannot convert a BigInt'), 'data'],
    ['42P01 undefined table (schema dropped: not the record)', pgError('42P01'), 'transient'],
    ['42703 undefined column (not migrated)', pgError('42703'), 'transient'],
    ['42501 insufficient privilege', pgError('42501'), 'transient'],
    ['08006 connection failure', pgError('08006'), 'transient'],
    ['57P01 admin shutdown', pgError('57P01'), 'transient'],
    ['57014 statement timeout', pgError('57014'), 'transient'],
    ['40001 serialization failure', pgError('40001'), 'transient'],
    ['53300 too many connections', pgError('53300'), 'transient'],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'transient'],
    ['a TypeError with a system code', Object.assign(new TypeError('socket'), { code: 'ECONNRESET' }), 'transient'],
    ['pool timeout (no code)', new Error('timeout exceeded when trying to connect'), 'transient'],
    ['connection terminated (no code)', new Error('Connection terminated unexpectedly'), 'transient'],
    ['not an Error at all', 'boom', 'transient'],
    ['null', null, 'transient'],
  ])('%s → %s', (_name, err, expected) => {
    expect(classifyStoreError(err)).toBe(expected);
  });

  it('the DLQ detail keeps the message and the SQLSTATE', () => {
    expect(storeErrorDetail(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toBe('invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)');
    expect(storeErrorDetail(new RangeError('Invalid time value'))).toBe('Invalid time value');
  });
});

describe('writeBisecting', () => {
  const poisonAt = (bad: Set<number>) => async (items: number[]) => {
    const hit = items.find((i) => bad.has(i));
    if (hit !== undefined) throw pgError('23514', `item ${hit}`);
    return items;
  };

  it('writes a clean batch in one attempt', async () => {
    const r = await writeBisecting([1, 2, 3], poisonAt(new Set()));
    expect(r).toEqual({ written: [[1, 2, 3]], rejected: [], attempts: 1 });
  });

  it('isolates each poison item, writes every other item once in order, in O(k log n) writes', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const r = await writeBisecting(items, poisonAt(new Set([0, 517, 999])));
    expect(r.rejected.map((x) => x.item)).toEqual([0, 517, 999]);
    expect((r.rejected[1]!.err as Error).message).toBe('item 517');
    expect(r.written.flat()).toEqual(items.filter((i) => ![0, 517, 999].includes(i)));
    expect(r.attempts).toBeLessThan(3 * 2 * 11);
  });

  it('rethrows a transient error, at any depth, so the batch is redelivered', async () => {
    let calls = 0;
    const write = async (items: number[]) => {
      if (++calls === 1) throw pgError('22021');
      if (items.includes(1)) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return items;
    };
    await expect(writeBisecting([1, 2, 3, 4], write)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('allOrWorst: a transient failure wins over a data error from another table', async () => {
    await expect(allOrWorst([Promise.reject(pgError('22021', 'data')), Promise.reject(pgError('08006', 'down')), 1])).rejects.toThrow('down');
    await expect(allOrWorst([Promise.reject(pgError('22021', 'data')), 1])).rejects.toThrow('data');
    expect(await allOrWorst([1, Promise.resolve(2)])).toEqual([1, 2]);
  });
});

describe('bisecting on PGlite (the store refuses the rows itself)', () => {
  let db: Awaited<ReturnType<typeof acquirePglite>>;
  beforeAll(async () => {
    db = await acquirePglite(undefined);
  });
  afterAll(() => db.release());

  const row = (i: number, patch: Partial<TelemetryRow> = {}): TelemetryRow => ({ eventId: `e-${i}`, carId: `CAR-${i % 5}`, time: T0 + i * 1000, lat: 40.7, lon: -73.9, battery: 50, velocity: 10, priceRate: 0.2, ...patch });

  it('a NUL car id (PGlite SQLSTATE 22021) and an overflowing time (RangeError) are rejected; the other 198 rows are written', async () => {
    const store = await createPgliteStore({ schema: testNamespace('bis') });
    await store.migrate();
    const rows = Array.from({ length: 200 }, (_, i) => row(i));
    rows[37] = row(37, { carId: 'P\u0000' });
    rows[150] = row(150, { time: 100000000000000000 });
    const r = await writeBisecting(rows, (part) => store.insertTelemetry(part));
    expect(r.rejected.map((x) => x.item.eventId)).toEqual(['e-37', 'e-150']);
    expect(classifyStoreError(r.rejected[0]!.err)).toBe('data');
    expect(storeErrorDetail(r.rejected[0]!.err)).toMatch(/SQLSTATE 22/);
    expect(r.rejected[1]!.err).toBeInstanceOf(RangeError);
    expect(r.written.reduce((a, b) => a + b, 0)).toBe(198);
    expect(await store.countTelemetry()).toBe(198);
    await store.close();
  });
});

describe('the worker routes what the store refuses to the DLQ and moves on (memory bus + PGlite)', () => {
  let db: Awaited<ReturnType<typeof acquirePglite>>;
  beforeAll(async () => {
    db = await acquirePglite(undefined);
  });
  afterAll(() => db.release());

  it('a schema-valid record the store rejects (CHECK constraint, 23514) goes to the DLQ with the store error; the rest of its batch is written', async () => {
    const ns = testNamespace('wbis');
    const bus = createMemoryEventBus({ retryBackoffMs: 10 });
    const store: Store = await createPgliteStore({ schema: ns });
    await store.migrate();
    // A rule only the store knows: the record passes the schema and fails at the store, as a real poison would.
    await db.db.exec(`ALTER TABLE "${ns}".telemetry ADD CONSTRAINT no_banned_car CHECK (car_id <> 'BANNED')`);
    const worker = createWorker({ bus, store, prices: createLocalPriceSource(undefined, 'UTC'), namespace: ns, logger: silentLogger, registry: createRegistry(false) });
    await worker.start();
    const events = Array.from({ length: 300 }, (_, i) => ({ event_id: `ev-${i}`, event_type: 'telemetry', car_id: i === 123 ? 'BANNED' : `CAR-${i % 7}`, lat: 40.7, lon: -73.9, battery: 50, velocity: 10, timestamp: T0 + i * 1000 }));
    await bus.publish(topicName(ns, TOPIC_EVENTS), events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
    const dlq: ConsumedRecord[] = [];
    const sub = await bus.subscribe({ topic: topicName(ns, TOPIC_DLQ), groupId: 'reader', handleBatch: async (rs) => void dlq.push(...rs) });
    const until = Date.now() + 10_000;
    while ((dlq.length < 1 || worker.stats().telemetryRows < 299) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    expect(await store.countTelemetry()).toBe(299);
    expect(dlq).toHaveLength(1);
    const payload = JSON.parse(dlq[0]!.value) as DlqPayload;
    expect(payload).toMatchObject({ reason: 'store_rejected', detail: expect.stringMatching(/no_banned_car.*SQLSTATE 23514/) });
    expect(JSON.parse(payload.original)).toMatchObject({ event_id: 'ev-123' });
    expect(worker.stats()).toMatchObject({ failedBatches: 0, dlq: 1 });
    await worker.stop();
    await bus.close();
    await store.close();
  });
});
