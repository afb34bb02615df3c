import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import type { FleetEvent } from '../../src/domain/events.js';
import { createFleetClient } from '../../src/grpc/client.js';
import { loadFleetProto, type FleetEventMsg } from '../../src/grpc/proto.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import { createKafkaSource, sessionGroupId } from '../../src/tui/sources/kafka-source.js';
import { parseFleetEvent } from '../../src/tui/sources/parse-event.js';
import { backoffDelay, createReconnectLoop, type Connection } from '../../src/tui/sources/reconnect.js';
import { createServerSource } from '../../src/tui/sources/server-source.js';
import type { SourceStatus } from '../../src/tui/sources/types.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const fastBackoff = { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 };
const telemetry = (car: string, battery = 50) => JSON.stringify({ event_id: `${car}-${battery}`, event_type: 'telemetry', car_id: car, lat: 40.75, lon: -73.98, battery, velocity: 10, timestamp: 1 });

describe('parseFleetEvent', () => {
  it('accepts the original flat telemetry and booking events, rejects junk', () => {
    expect(parseFleetEvent('{"car_id":"CAR-001","lat":40.7234,"lon":-73.9876,"battery":85.3,"velocity":45.2,"timestamp":1701532800000,"event_type":"telemetry"}')).toMatchObject({ car_id: 'CAR-001', battery: 85.3 });
    expect(parseFleetEvent('{"event_type":"booking_queued","car_id":"C","station_id":"S","queue_position":2,"timestamp":5}')).toMatchObject({ station_id: 'S', queue_position: 2 });
    for (const bad of ['nope', '{}', '{"car_id":"C","event_type":"telemetry","lat":"x","lon":1,"battery":1}', '{"car_id":"C","event_type":"teleport"}']) expect(parseFleetEvent(bad)).toBeNull();
  });
});

describe('reconnect loop', () => {
  it('backs off exponentially up to the cap', () => {
    const b = { initialMs: 500, maxMs: 4000, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, b))).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(backoffDelay(1, { ...b, jitter: 0.5 }, () => 0)).toBe(250);
  });

  it('reports connecting, connected, reconnecting with attempt and delay, and recovers', async () => {
    const statuses: SourceStatus[] = [];
    let attempts = 0;
    let drop!: (e: Error) => void;
    const loop = createReconnectLoop({
      backoff: fastBackoff,
      onStatus: (s) => statuses.push(s),
      connect: async (): Promise<Connection> => {
        attempts++;
        if (attempts === 2 || attempts === 3) throw new Error(`refused ${attempts}`);
        return { closed: new Promise<Error | undefined>((r) => (drop = r)), close: async () => drop?.(undefined as unknown as Error) };
      },
    });
    loop.start();
    await until(() => statuses.at(-1)?.state === 'connected');
    drop(new Error('broker gone'));
    await until(() => attempts === 4 && statuses.at(-1)?.state === 'connected');
    await loop.stop();
    expect(statuses.map((s) => [s.state, s.attempt, s.retryInMs, s.error])).toEqual([
      ['connecting', undefined, undefined, undefined],
      ['connected', undefined, undefined, undefined],
      ['reconnecting', 1, 20, 'broker gone'],
      ['reconnecting', 2, 40, 'refused 2'],
      ['reconnecting', 3, 80, 'refused 3'],
      ['connected', undefined, undefined, undefined],
      ['stopped', undefined, undefined, undefined],
    ]);
  });
});

describe('kafka source over the EventBus port (memory bus)', () => {
  let bus: EventBus | undefined;
  afterEach(async () => bus?.close());

  it('tails the namespaced topic from the latest offset with a per-session group, and reports lag', async () => {
    bus = createMemoryEventBus();
    const topic = 'ns1.fleet-events';
    await bus.publish(topic, [{ key: 'OLD', value: telemetry('OLD') }]);
    const events: FleetEvent[] = [];
    const lags: (number | undefined)[] = [];
    let invalid = 0;
    const shared = bus;
    const source = createKafkaSource({ namespace: 'ns1', connectBus: async () => ({ ...shared, close: async () => {} }), lagIntervalMs: 50 });
    expect(source.groupId).toMatch(/^live-ops-cli-[0-9a-f]{8}$/);
    expect(sessionGroupId()).not.toBe(source.groupId);
    await source.start({ onEvents: (e) => void events.push(...e), onStatus: () => {}, onInvalid: (n) => (invalid += n), onLag: (l) => lags.push(l) });
    await new Promise((r) => setTimeout(r, 100));
    await bus.publish(topic, [{ key: 'CAR-1', value: telemetry('CAR-1') }, { key: 'CAR-1', value: 'garbage' }, { key: 'CAR-2', value: telemetry('CAR-2') }]);
    await until(() => events.length === 2 && invalid === 1);
    await until(() => lags.length > 0);
    await source.stop();
    expect(events.map((e) => e.car_id).sort()).toEqual(['CAR-1', 'CAR-2']);
    expect(lags.at(-1)).toBe(0);
  });

  it('replays with fromBeginning', async () => {
    bus = createMemoryEventBus();
    await bus.publish('fleet-events', [{ key: 'OLD', value: telemetry('OLD') }]);
    const events: FleetEvent[] = [];
    const shared = bus;
    const source = createKafkaSource({ namespace: '', fromBeginning: true, connectBus: async () => ({ ...shared, close: async () => {} }) });
    await source.start({ onEvents: (e) => void events.push(...e), onStatus: () => {} });
    await until(() => events.length === 1);
    await source.stop();
    expect(events[0].car_id).toBe('OLD');
  });

  it('reconnects with backoff when lag polls fail and when the bus cannot connect', async () => {
    bus = createMemoryEventBus();
    const shared = bus;
    let connects = 0;
    let lagFails = false;
    const statuses: SourceStatus[] = [];
    const source = createKafkaSource({
      namespace: '',
      lagIntervalMs: 20,
      backoff: fastBackoff,
      connectBus: async () => {
        connects++;
        if (connects === 2) throw new Error('ECONNREFUSED 127.0.0.1:19092');
        return {
          ...shared,
          close: async () => {},
          subscribe: async (o) => {
            const sub = await shared.subscribe(o);
            return { stop: sub.stop, lag: async () => (lagFails ? Promise.reject(new Error('broker unreachable')) : sub.lag()) };
          },
        };
      },
    });
    await source.start({ onEvents: () => {}, onStatus: (s) => statuses.push(s) });
    await until(() => statuses.at(-1)?.state === 'connected');
    lagFails = true;
    await until(() => connects >= 2);
    lagFails = false;
    await until(() => connects === 3 && statuses.at(-1)?.state === 'connected');
    await source.stop();
    const seen = statuses.map((s) => `${s.state}${s.error ? `: ${s.error}` : ''}`);
    expect(seen).toEqual(['connecting', 'connected', 'reconnecting: broker unreachable', 'reconnecting: ECONNREFUSED 127.0.0.1:19092', 'connected', 'stopped']);
  });
});

describe('server source over a real gRPC WatchEvents stream', () => {
  const servers: grpc.Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  async function startServer(port: number, token: string, onWatch: (call: grpc.ServerWritableStream<unknown, FleetEventMsg>) => void): Promise<number> {
    const server = new grpc.Server();
    const { FleetService } = loadFleetProto();
    server.addService(FleetService.service, {
      WatchEvents: (call: grpc.ServerWritableStream<unknown, FleetEventMsg>) => {
        if (call.metadata.get('x-api-token')[0] !== token) return void call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'invalid x-api-token' });
        onWatch(call);
      },
    });
    servers.push(server);
    return new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  }

  it('streams events, notices the server going away, and reconnects when it is back', async () => {
    const calls: grpc.ServerWritableStream<unknown, FleetEventMsg>[] = [];
    const port = await startServer(0, 'tok', (c) => calls.push(c));
    const address = `127.0.0.1:${port}`;
    const events: FleetEvent[] = [];
    const statuses: SourceStatus[] = [];
    const source = createServerSource({ address, openClient: () => createFleetClient(address, 'tok'), backoff: fastBackoff, readyTimeoutMs: 500 });
    await source.start({ onEvents: (e) => void events.push(...e), onStatus: (s) => statuses.push(s) });
    await until(() => calls.length === 1);
    for (const car of ['CAR-1', 'CAR-2']) calls[0].write({ json: telemetry(car), event_type: 'telemetry', car_id: car, timestamp: 1 });
    await until(() => events.length === 2);

    servers[0].forceShutdown();
    await until(() => statuses.some((s) => s.state === 'reconnecting'));
    await startServer(port, 'tok', (c) => calls.push(c));
    await until(() => calls.length === 2, 10_000);
    calls[1].write({ json: telemetry('CAR-3'), event_type: 'telemetry', car_id: 'CAR-3', timestamp: 1 });
    await until(() => events.length === 3);
    await source.stop();
    expect(events.map((e) => e.car_id)).toEqual(['CAR-1', 'CAR-2', 'CAR-3']);
    expect(statuses.filter((s) => s.state === 'connected').length).toBeGreaterThanOrEqual(2);
    expect(statuses.at(-1)?.state).toBe('stopped');
  });

  it('says why when the token is refused', async () => {
    const port = await startServer(0, 'right', () => {});
    const address = `127.0.0.1:${port}`;
    const statuses: SourceStatus[] = [];
    const source = createServerSource({ address, openClient: () => createFleetClient(address, 'wrong'), backoff: fastBackoff });
    await source.start({ onEvents: () => {}, onStatus: (s) => statuses.push(s) });
    // A wrong token cannot heal by reconnecting: the source stops, fatally, saying why (tail exits 3).
    await until(() => statuses.some((s) => s.state === 'stopped'));
    await source.stop();
    expect(statuses.find((s) => s.state === 'stopped')?.error).toContain('invalid x-api-token');
    expect(statuses.find((s) => s.state === 'stopped')?.fatal).toBe(true);
    expect(statuses.some((s) => s.state === 'reconnecting')).toBe(false);
  });
});
