import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import { createIngestion, type Ingestion } from '../../src/grpc/ingestion-server.js';
import type { BookingResponseMsg, CarStatusBatchMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConsumedRecord, EventBus } from '../../src/ports/event-bus.js';
import { AckQueue } from '../../src/services/ingestion/acks.js';

const TOKEN = 'test-token-0123456789';
const NS = 'acks';
const T0 = Date.now() - 60_000;

const status = (carId: string, timestamp: number, patch: Partial<CarStatusMsg> = {}): CarStatusMsg => ({
  car_id: carId,
  latitude: 40.75,
  longitude: -73.98,
  battery_level: 80,
  velocity: 30,
  timestamp,
  ...patch,
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A memory bus whose publishes hang while closed (a Kafka outage), and resolve once opened. */
function gatedBus(): EventBus & { open: boolean; publishes: number; release(): void } {
  const inner = createMemoryEventBus();
  let waiters: (() => void)[] = [];
  const bus = Object.create(inner) as EventBus & { open: boolean; publishes: number; release(): void };
  bus.open = true;
  bus.publishes = 0;
  bus.publish = async (topic, records) => {
    bus.publishes++;
    if (!bus.open) await new Promise<void>((r) => waiters.push(r));
    return inner.publish(topic, records);
  };
  bus.release = () => {
    bus.open = true;
    for (const w of waiters) w();
    waiters = [];
  };
  return bus;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startStack(bus: EventBus, highWater = 10_000): Promise<{ ingestion: Ingestion; client: FleetClient; records: ConsumedRecord[] }> {
  const ingestion = createIngestion({
    config: { grpcHost: '127.0.0.1', grpcPort: 0 },
    namespace: NS,
    bus,
    fleet: createMemoryFleetState(),
    tokens: [TOKEN],
    logger: silentLogger,
    registry: new Registry(),
    batch: { maxBatch: 50, flushIntervalMs: 1, highWater },
  });
  await ingestion.start();
  const records: ConsumedRecord[] = [];
  const sub = await bus.subscribe({ topic: topicName(NS, TOPIC_EVENTS), groupId: 't', fromBeginning: true, handleBatch: async (b) => void records.push(...b) });
  const client = createFleetClient(`127.0.0.1:${ingestion.port}`, TOKEN);
  cleanups.push(() => ingestion.stop(), () => sub.stop(), () => client.close());
  return { ingestion, client, records };
}

function openBatchStream(client: FleetClient) {
  const call = client.streamTelemetryBatch();
  const acks: number[] = [];
  const other: BookingResponseMsg[] = [];
  call.on('data', (r: BookingResponseMsg) => (r.ack_seq ? acks.push(r.ack_seq) : other.push(r)));
  call.on('error', () => {});
  return { call, acks, other };
}

const batch = (seq: number, cars: number, at: number): CarStatusBatchMsg => ({ seq, cars: Array.from({ length: cars }, (_, i) => status(`CAR-A${i}`, at)) });

describe('acknowledged telemetry batches', () => {
  it('acknowledges a numbered batch only once its events are on the bus, in order and cumulatively', async () => {
    const bus = gatedBus();
    const { client, records } = await startStack(bus);
    const { call, acks, other } = openBatchStream(client);
    call.write(batch(1, 10, T0));
    await waitFor(() => acks.length === 1, 5_000, 'first ack');
    expect(acks).toEqual([1]);
    expect(records.length).toBe(10);

    bus.open = false; // Kafka goes away: nothing is acknowledged while the publish hangs
    call.write(batch(2, 10, T0 + 1000));
    call.write(batch(3, 10, T0 + 2000));
    await waitFor(() => bus.publishes >= 2, 5_000, 'a publish attempt');
    await new Promise((r) => setTimeout(r, 100));
    expect(acks).toEqual([1]);
    bus.release();
    await waitFor(() => acks.at(-1) === 3, 5_000, 'acks after the outage');
    expect(acks.every((a, i) => i === 0 || a > acks[i - 1])).toBe(true);
    expect(other).toEqual([]); // nothing else was said on the stream
  });

  it('acknowledges a batch whose readings were all rejected, after the earlier ones', async () => {
    const { client } = await startStack(createMemoryEventBus());
    const { call, acks, other } = openBatchStream(client);
    call.write(batch(1, 3, T0));
    call.write({ seq: 2, cars: [status('CAR-BAD', T0, { battery_level: 500 })] });
    await waitFor(() => acks.includes(2), 5_000, 'ack of the rejected batch');
    expect(acks.at(-1)).toBe(2);
    expect(other).toMatchObject([{ status: 'BOOKING_FAILED', reason: 'invalid_battery_level' }]);
  });

  it('a batch sent again carries the same event ids; unnumbered batches and the original RPC get no ack', async () => {
    const { client, records } = await startStack(createMemoryEventBus());
    const first = openBatchStream(client);
    first.call.write(batch(1, 5, T0));
    await waitFor(() => first.acks.length === 1, 5_000, 'ack');
    first.call.end();
    const again = openBatchStream(client); // the client reconnected and resends what it sent before
    again.call.write(batch(1, 5, T0));
    again.call.write({ cars: [status('CAR-U', T0)] });
    await waitFor(() => again.acks.length === 1 && records.length === 11, 5_000, 'resent batch and the unnumbered one');
    const ids = records.map((r) => JSON.parse(r.value) as { event_id: string; car_id: string });
    const batched = ids.filter((e) => e.car_id.startsWith('CAR-A'));
    expect(new Set(batched.map((e) => e.event_id)).size).toBe(5); // 10 records, 5 ids: the worker keeps one row each
    expect(batched[0].event_id).toBe(`CAR-A0@${T0}`);

    const single = client.streamTelemetry();
    const answers: BookingResponseMsg[] = [];
    single.on('data', (r: BookingResponseMsg) => answers.push(r));
    single.on('error', () => {});
    single.write(status('CAR-S', T0));
    await waitFor(() => records.length === 12, 5_000, 'single reading');
    await new Promise((r) => setTimeout(r, 50));
    expect(answers).toEqual([]);
    expect(again.acks).toEqual([1]);
    single.end();
  });
});

describe('bounded ingestion buffer', () => {
  it('stops reading streams while the bus is down once the buffer is full, and loses nothing', async () => {
    const bus = gatedBus();
    const highWater = 200;
    const { ingestion, client, records } = await startStack(bus, highWater);
    bus.open = false;
    const { call, acks } = openBatchStream(client);
    let peak = 0;
    const probe = setInterval(() => (peak = Math.max(peak, ingestion.stats().buffered)), 1);
    cleanups.push(() => clearInterval(probe));
    const batches = 100;
    let blocked = false;
    for (let seq = 1; seq <= batches; seq++) if (!call.write(batch(seq, 20, T0 + seq * 1000))) blocked = true;
    await waitFor(() => ingestion.stats().paused >= 1, 5_000, 'pause');
    await new Promise((r) => setTimeout(r, 300));
    const stalled = ingestion.stats();
    // The bound counts what waits and what is being written; one message may overshoot it by its cars.
    expect(stalled.buffered).toBeLessThanOrEqual(highWater + 20);
    expect(stalled.accepted).toBeLessThan(batches * 20);
    expect(acks).toEqual([]);
    expect(blocked || stalled.accepted < batches * 20).toBe(true);
    bus.release();
    await waitFor(() => acks.at(-1) === batches, 10_000, 'every batch acknowledged');
    expect(peak).toBeLessThanOrEqual(highWater + 20);
    expect(records.length).toBe(batches * 20);
    call.end();
  });
});

describe('AckQueue', () => {
  it('acknowledges in order, skipping to the newest settled batch', () => {
    const sent: number[] = [];
    const q = new AckQueue((seq) => sent.push(seq));
    const a = q.open(1);
    a.pending = 2;
    q.seal(a);
    const b = q.open(2);
    b.pending = 1;
    q.seal(b);
    q.settle(b, 1);
    expect(sent).toEqual([]); // 2 is on the bus but 1 is not yet
    q.settle(a, 2);
    expect(sent).toEqual([2]);
    expect(q.size).toBe(0);
  });
});

