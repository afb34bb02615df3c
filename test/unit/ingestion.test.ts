import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { TOPIC_EVENTS, topicName, type TelemetryEvent } from '../../src/domain/events.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConsumedRecord, EventBus } from '../../src/ports/event-bus.js';
import type { FleetState } from '../../src/ports/fleet-state.js';
import { createIngestion } from '../../src/grpc/ingestion-server.js';

const TOKEN = 'test-token-0123456789';
const ORIGINAL_PROTO = fileURLToPath(new URL('../fixtures/original-fleet.proto', import.meta.url));
const NS = 'ing';

const status = (carId: string, patch: Partial<CarStatusMsg> = {}): CarStatusMsg => ({
  car_id: carId,
  latitude: 40.75,
  longitude: -73.98,
  battery_level: 80,
  velocity: 30,
  timestamp: Date.now(),
  ...patch,
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect<T>(stream: NodeJS.EventEmitter): { items: T[]; error: Promise<grpc.ServiceError> } {
  const items: T[] = [];
  stream.on('data', (x: T) => items.push(x));
  const error = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  return { items, error };
}

async function startStack(opts: Partial<Parameters<typeof createIngestion>[0]> = {}) {
  const bus = opts.bus ?? createMemoryEventBus();
  const fleet = opts.fleet ?? createMemoryFleetState();
  const ingestion = createIngestion({
    config: { grpcHost: '127.0.0.1', grpcPort: 0 },
    namespace: NS,
    bus,
    fleet,
    tokens: [TOKEN, 'second-token'],
    logger: silentLogger,
    registry: new Registry(),
    ...opts,
  });
  await ingestion.start();
  const records: ConsumedRecord[] = [];
  const sub = await bus.subscribe({ topic: topicName(NS, TOPIC_EVENTS), groupId: 'test', fromBeginning: true, handleBatch: async (b) => void records.push(...b) });
  return { bus, fleet, ingestion, records, sub, address: `127.0.0.1:${ingestion.port}` };
}

describe('ingestion over gRPC (memory adapters)', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let client: FleetClient;

  beforeAll(async () => {
    stack = await startStack();
    client = createFleetClient(stack.address, TOKEN);
  });
  afterAll(async () => {
    client.close();
    await stack.sub.stop();
    await stack.ingestion.stop();
  });

  it('refuses a stream without a token: UNAUTHENTICATED "missing x-api-token"', async () => {
    const anon = createFleetClient(stack.address, '');
    const call = anon.streamTelemetry();
    const { error } = collect(call);
    call.write(status('CAR-ANON'));
    const err = await error;
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toBe('missing x-api-token');
    anon.close();
  });

  it('refuses a wrong token on every RPC: UNAUTHENTICATED "invalid x-api-token"', async () => {
    const wrong = createFleetClient(stack.address, 'test-token-0123456788');
    const call = wrong.streamTelemetry();
    const { error } = collect(call);
    call.write(status('CAR-WRONG'));
    expect(await error).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'invalid x-api-token' });
    await expect(wrong.getCar('CAR-WRONG')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(wrong.stats()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const shorter = createFleetClient(stack.address, 'short');
    await expect(shorter.stats()).rejects.toMatchObject({ details: 'invalid x-api-token' });
    wrong.close();
    shorter.close();
    expect(await stack.fleet.getCar('CAR-WRONG')).toBeNull();
  });

  it('accepts any configured token', async () => {
    const other = createFleetClient(stack.address, 'second-token');
    await expect(other.stats()).resolves.toMatchObject({ active_streams: expect.any(Number) });
    other.close();
  });

  const invalid: [string, Partial<CarStatusMsg>][] = [
    ['car_id', { car_id: '' }],
    ['car_id', { car_id: 'bad id!' }],
    ['latitude', { latitude: 91 }],
    ['latitude', { latitude: NaN }],
    ['longitude', { longitude: -181 }],
    ['battery_level', { battery_level: 100.5 }],
    ['battery_level', { battery_level: -1 }],
    ['velocity', { velocity: 401 }],
    ['timestamp', { timestamp: 0 }],
    ['timestamp', { timestamp: Date.now() + 3 * 86_400_000 }],
    ['timestamp', { timestamp: Date.now() - 30 * 86_400_000 }],
  ];

  it('answers each invalid message with BOOKING_FAILED naming the field, and the stream goes on', async () => {
    const call = client.streamTelemetry();
    const { items } = collect<BookingResponseMsg>(call);
    const before = stack.ingestion.stats();
    invalid.forEach(([, patch], i) => {
      call.write(status(`CAR-V${i}`, patch));
      call.write(status(`CAR-V${i}`, { latitude: 40.71 + i / 1000 }));
    });
    await waitFor(() => items.length === invalid.length, 5_000, 'rejections');
    items.forEach((res, i) => {
      const [field] = invalid[i];
      expect(res.status).toBe('BOOKING_FAILED');
      expect(res.reason).toBe(`invalid_${field}`);
      expect(res.message).toMatch(new RegExp(`^INVALID_ARGUMENT: ${field}`));
    });
    // Every valid follow-up was accepted and is the car's latest state.
    await waitFor(async () => (await stack.fleet.getCar(`CAR-V${invalid.length - 1}`)) !== null, 5_000, 'follow-ups');
    for (let i = 1; i < invalid.length; i++) expect((await stack.fleet.getCar(`CAR-V${i}`))?.lat).toBeCloseTo(40.71 + i / 1000, 9);
    const after = stack.ingestion.stats();
    expect(after.rejected - before.rejected).toBe(invalid.length);
    expect(after.accepted - before.accepted).toBe(invalid.length);
    call.end();
  });

  it('publishes accepted telemetry keyed by car_id in the original flat shape plus event_id, and keeps the latest position', async () => {
    const call = client.streamTelemetry();
    const t0 = Date.now() - 10_000;
    for (let i = 0; i < 5; i++) call.write(status('CAR-BUS', { latitude: 40.72 + i / 100, timestamp: t0 + i * 1000, battery_level: 90 - i }));
    await waitFor(() => stack.records.filter((r) => r.key === 'CAR-BUS').length === 5, 5_000, 'records');
    const mine = stack.records.filter((r) => r.key === 'CAR-BUS');
    const events = mine.map((r) => JSON.parse(r.value) as TelemetryEvent);
    expect(events.map((e) => e.timestamp)).toEqual([0, 1, 2, 3, 4].map((i) => t0 + i * 1000));
    expect(Object.keys(events[0]).sort()).toEqual(['battery', 'car_id', 'event_id', 'event_type', 'lat', 'lon', 'timestamp', 'velocity']);
    expect(events[4]).toMatchObject({ event_type: 'telemetry', car_id: 'CAR-BUS', lat: 40.76, lon: -73.98, battery: 86, velocity: 30 });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(5);
    expect(await stack.fleet.getCar('CAR-BUS')).toMatchObject({ carId: 'CAR-BUS', lat: 40.76, lon: -73.98, battery: 86, timestamp: t0 + 4000 });
    const viaRpc = await client.getCar('CAR-BUS');
    expect(viaRpc).toMatchObject({ car_id: 'CAR-BUS', latitude: 40.76, battery_level: 86, found: true });
    expect(await client.getCar('CAR-NOBODY')).toBeNull();
    call.end();
  });

  it('works with a client built from the original proto (no per-message echo)', async () => {
    const original = createFleetClient(stack.address, TOKEN, { protoPath: ORIGINAL_PROTO });
    const call = original.streamTelemetry();
    const { items } = collect<BookingResponseMsg>(call);
    call.write(status('CAR-ORIG', { latitude: 40.8 }));
    call.write(status('CAR-ORIG', { latitude: 95 }));
    await waitFor(async () => (await stack.fleet.getCar('CAR-ORIG'))?.lat === 40.8, 5_000, 'original client write');
    await waitFor(() => items.length === 1, 5_000, 'rejection');
    // The original client decodes the response without the added fields.
    expect(items[0]).toMatchObject({ car_id: 'CAR-ORIG', status: 'BOOKING_FAILED' });
    expect(items[0]).not.toHaveProperty('reason');
    call.end();
    original.close();
  });

  it('StreamTelemetryBatch validates each car on its own', async () => {
    const call = client.streamTelemetryBatch();
    const { items } = collect<BookingResponseMsg>(call);
    call.write({ cars: [status('CAR-B1'), status('CAR-B2', { velocity: 999 }), status('CAR-B3')] });
    await waitFor(async () => (await stack.fleet.getCar('CAR-B3')) !== null && items.length === 1, 5_000, 'batch');
    expect(items[0]).toMatchObject({ car_id: 'CAR-B2', status: 'BOOKING_FAILED', reason: 'invalid_velocity' });
    expect(await stack.fleet.getCar('CAR-B1')).not.toBeNull();
    expect(await stack.fleet.getCar('CAR-B2')).toBeNull();
    call.end();
  });

  it('pushes decisions to a car stream (sendToCar) and notifies telemetry listeners after the write', async () => {
    const seen: TelemetryEvent[] = [];
    const off = stack.ingestion.onTelemetry((events) => void seen.push(...events.filter((e) => e.car_id === 'CAR-PUSH')));
    const call = client.streamTelemetry();
    const { items } = collect<BookingResponseMsg>(call);
    call.write(status('CAR-PUSH'));
    await waitFor(() => seen.length === 1, 5_000, 'listener');
    expect(stack.ingestion.hasCar('CAR-PUSH')).toBe(true);
    expect(stack.ingestion.sendToCar('CAR-PUSH', { booking_id: 'b1', station_id: 'ST-1', status: 'BOOKING_CONFIRMED', message: 'go', price_rate: 0.3 })).toBe(true);
    expect(stack.ingestion.sendToCar('CAR-NOT-HERE', { status: 'BOOKING_CONFIRMED' })).toBe(false);
    await waitFor(() => items.length === 1, 5_000, 'pushed response');
    expect(items[0]).toMatchObject({ car_id: 'CAR-PUSH', booking_id: 'b1', station_id: 'ST-1', status: 'BOOKING_CONFIRMED', price_rate: 0.3 });
    off();
    call.end();
    await waitFor(() => !stack.ingestion.hasCar('CAR-PUSH'), 5_000, 'stream cleanup');
  });

  it('WatchEvents streams the bus JSON once the subscription is live, with filters', async () => {
    const watch = client.watchEvents({ car_ids: ['CAR-WATCH'] });
    const { items } = collect<{ json: string; car_id: string; event_type: string; timestamp: number }>(watch);
    await new Promise((r) => watch.once('metadata', r));
    const call = client.streamTelemetry();
    call.write(status('CAR-OTHER'));
    call.write(status('CAR-WATCH', { timestamp: Date.now() - 1 }));
    await waitFor(() => items.length === 1, 5_000, 'watched event');
    expect(items[0]).toMatchObject({ car_id: 'CAR-WATCH', event_type: 'telemetry' });
    expect(JSON.parse(items[0].json)).toMatchObject({ car_id: 'CAR-WATCH', event_type: 'telemetry', event_id: expect.any(String) });
    watch.cancel();
    call.end();
  });

  it('Stats reports counters and open streams', async () => {
    const call = client.streamTelemetry();
    call.write(status('CAR-STATS'));
    await waitFor(async () => (await stack.fleet.getCar('CAR-STATS')) !== null);
    const s = await client.stats();
    expect(s.active_streams).toBeGreaterThanOrEqual(1);
    expect(s.accepted).toBe(stack.ingestion.stats().accepted);
    expect(s.rejected).toBeGreaterThanOrEqual(invalid.length);
    call.end();
  });
});

/** A fleet state whose writes wait until released: stands in for a slow Redis. */
function gatedFleet(inner: FleetState): FleetState & { release(): void; calls: number } {
  let open = false;
  let waiters: (() => void)[] = [];
  const gated = Object.create(inner) as FleetState & { release(): void; calls: number };
  gated.calls = 0;
  gated.upsertCars = async (cars) => {
    gated.calls++;
    if (!open) await new Promise<void>((r) => waiters.push(r));
    return inner.upsertCars(cars);
  };
  gated.release = () => {
    open = true;
    for (const w of waiters) w();
    waiters = [];
  };
  return gated;
}

describe('ingestion backpressure and shutdown', () => {
  it('stops reading streams while the batch queue is full, loses nothing, and flushes on stop', async () => {
    const fleet = gatedFleet(createMemoryFleetState());
    const bus: EventBus = createMemoryEventBus();
    const stack = await startStack({ fleet, bus, batch: { maxBatch: 20, flushIntervalMs: 1, highWater: 100 } });
    const client = createFleetClient(stack.address, TOKEN);
    const calls = [client.streamTelemetry(), client.streamTelemetry()];
    const total = 3_000;
    let maxQueued = 0;
    const probe = setInterval(() => (maxQueued = Math.max(maxQueued, stack.ingestion.stats().queued)), 1);
    let clientBlocked = false;
    for (let i = 0; i < total; i++) {
      const ok = calls[i % 2].write(status(`CAR-P${i % 50}`, { timestamp: Date.now() - total + i }));
      if (!ok) clientBlocked = true;
    }
    await waitFor(() => stack.ingestion.stats().paused >= 1, 5_000, 'pause');
    await new Promise((r) => setTimeout(r, 200));
    const stalled = stack.ingestion.stats();
    expect(stalled.queued).toBeLessThanOrEqual(100);
    expect(stalled.accepted).toBeLessThan(total); // the rest waits in the client / HTTP/2 windows, not in our memory
    expect(clientBlocked).toBe(true);
    fleet.release();
    await waitFor(() => stack.ingestion.stats().published === total, 10_000, 'all published');
    clearInterval(probe);
    expect(maxQueued).toBeLessThanOrEqual(100);
    await waitFor(() => stack.records.length === total, 5_000, 'all on the bus');
    expect(new Set(stack.records.map((r) => JSON.parse(r.value).event_id)).size).toBe(total);

    // Graceful stop: what was accepted is written before the server goes.
    for (let i = 0; i < 200; i++) calls[0].write(status('CAR-LAST', { velocity: i }));
    await waitFor(() => stack.ingestion.stats().accepted === total + 200, 5_000, 'last accepted');
    await stack.ingestion.stop();
    expect(stack.ingestion.stats()).toMatchObject({ queued: 0, published: total + 200 });
    expect((await fleet.getCar('CAR-LAST'))?.velocity).toBe(199);
    await waitFor(() => stack.records.length === total + 200, 5_000, 'flushed on stop');
    client.close();
    await stack.sub.stop();
  });

  it('a port in use is a PortInUseError naming --grpc-port', async () => {
    const a = await startStack();
    const b = createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: a.ingestion.port }, bus: a.bus, fleet: a.fleet, tokens: [TOKEN], logger: silentLogger });
    await expect(b.start()).rejects.toMatchObject({ code: 'PORT_IN_USE', suggestions: [expect.stringContaining('--grpc-port')] });
    await a.sub.stop();
    await a.ingestion.stop();
  });

  it('refuses to be created without tokens', () => {
    expect(() => createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: 0 }, bus: createMemoryEventBus(), fleet: createMemoryFleetState(), tokens: [], logger: silentLogger })).toThrow(/token/);
  });
});
