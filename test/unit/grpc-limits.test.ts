import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import { createIngestion, type Ingestion } from '../../src/grpc/ingestion-server.js';
import type { BookingResponseMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';

const TOKEN = 'limits-token-0123456789';
const car = (i: number): CarStatusMsg => ({ car_id: `CAR-${String(i).padStart(5, '0')}`, latitude: 40.75, longitude: -73.98, battery_level: 80, velocity: 30, timestamp: Date.now() });

function ended(stream: NodeJS.EventEmitter): Promise<grpc.ServiceError> {
  return new Promise((resolve) => stream.on('error', resolve));
}

describe('gRPC limits (memory adapters)', () => {
  let ingestion: Ingestion;
  let fleet: ReturnType<typeof createMemoryFleetState>;
  let address: string;
  let client: FleetClient;

  beforeAll(async () => {
    fleet = createMemoryFleetState();
    ingestion = createIngestion({
      config: { grpcHost: '127.0.0.1', grpcPort: 0 },
      namespace: 'lim',
      bus: createMemoryEventBus(),
      fleet,
      tokens: [TOKEN],
      logger: silentLogger,
      registry: new Registry(),
      limits: { maxBatchCars: 100, idleTimeoutMs: 1_000, maxStreams: 8 },
    });
    await ingestion.start();
    address = `127.0.0.1:${ingestion.port}`;
    client = createFleetClient(address, TOKEN);
  });
  afterAll(async () => {
    client?.close();
    await ingestion?.stop();
  });

  it('refuses a 5 MiB message with RESOURCE_EXHAUSTED (the default limit is 1 MiB) and keeps serving', async () => {
    const stream = client.streamTelemetry();
    const err = ended(stream);
    stream.write({ ...car(1), car_id: 'X'.repeat(5 * 1024 * 1024) });
    const e = await err;
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).toMatch(/larger than max/i);
    expect((await client.stats()).accepted).toBeGreaterThanOrEqual(0); // still answering
  });

  it('ends a batch stream over the car limit with INVALID_ARGUMENT naming the limit; smaller batches go through', async () => {
    const stream = client.streamTelemetryBatch();
    const err = ended(stream);
    stream.on('data', (_: BookingResponseMsg) => {});
    stream.write({ cars: Array.from({ length: 50 }, (_, i) => car(i)) });
    stream.write({ cars: Array.from({ length: 101 }, (_, i) => car(1000 + i)) });
    const e = await err;
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/101 cars exceeds the limit of 100/);
    // The first batch was ingested; nothing of the oversized one was.
    await expect.poll(async () => (await fleet.getCar('CAR-00049')) !== null, { timeout: 3_000 }).toBe(true);
    expect(await fleet.getCar('CAR-01000')).toBeNull();
    // A fresh stream from the same client is served.
    const again = client.streamTelemetryBatch();
    again.on('data', () => {});
    again.on('error', () => {});
    again.write({ cars: [car(7777)] });
    await expect.poll(async () => (await fleet.getCar('CAR-07777')) !== null, { timeout: 3_000 }).toBe(true);
    again.end();
  });

  it('caps concurrent calls per connection (HTTP/2 max concurrent streams)', async () => {
    const streams = Array.from({ length: 12 }, () => {
      const s = client.streamTelemetry();
      s.on('error', () => {});
      s.on('data', () => {});
      return s;
    });
    // Calls beyond the cap wait for a free stream instead of opening: the server never sees more than 8.
    await new Promise((r) => setTimeout(r, 300));
    expect(ingestion.stats().activeStreams).toBe(8);
    for (const s of streams) s.cancel();
  });

  it('closes connections that never authenticate after the idle timeout, while an authenticated client is served', async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      const s = connect(ingestion.port, '127.0.0.1');
      s.on('error', () => {});
      s.resume(); // read what the server sends, so its close is seen
      // The HTTP/2 preface and an empty SETTINGS frame: a real client that then does nothing.
      s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      sockets.push(s);
      closed.push(new Promise((resolve) => s.on('close', () => { resolve(); })));
    }
    // A client whose calls are all refused is idle too.
    const intruder = createFleetClient(address, 'wrong-token-0123456789', { separateConnection: true });
    await expect(intruder.stats()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const started = Date.now();
    expect((await client.stats()).accepted).toBeGreaterThanOrEqual(0);
    await Promise.all(closed);
    expect(Date.now() - started).toBeLessThan(5_000);
    intruder.close();
  }, 15_000);
});
