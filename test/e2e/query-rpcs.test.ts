import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import type { Stack } from '../../src/app/stack.js';
import { eventually, startTestStack } from '../helpers/query-stack.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { remoteQueries } from '../../src/app/operator-queries.js';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js';
import { GreenlaneError } from '../../src/errors.js';
import { createIngestion } from '../../src/grpc/ingestion-server.js';
import { silentLogger } from '../../src/observability/logger.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ORIGINAL_PROTO = join(root, 'test/fixtures/original-fleet.proto');

const grpcError = (p: Promise<unknown>) => p.then(() => null, (err: grpc.ServiceError) => err);

describe('query and booking RPCs (embedded stack over memory adapters and PGlite)', () => {
  let stack: Stack;
  let address: string;
  let client: FleetClient;

  beforeAll(async () => {
    ({ stack, address } = await startTestStack());
    client = createFleetClient(address, stack.tokens[0]);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop({ drainMs: 2_000 });
  });

  it('RequestBooking confirms a port, and a second car queues when the station is full', async () => {
    const first = await client.requestBooking({ car_id: 'CAR-1', station_id: 'ST-A', battery_level: 25, latitude: 40.751, longitude: -73.981 });
    expect(first).toMatchObject({ car_id: 'CAR-1', station_id: 'ST-A', status: 'BOOKING_CONFIRMED' });
    expect(first.booking_id).toBeTruthy();
    expect(first.expires_at).toBeGreaterThan(Date.now());
    const second = await client.requestBooking({ car_id: 'CAR-2', station_id: 'ST-A', battery_level: 20, latitude: 40.752, longitude: -73.982 });
    expect(second).toMatchObject({ car_id: 'CAR-2', status: 'BOOKING_QUEUED', queue_position: 1 });
    // Idempotent: the same car asking again keeps its one booking.
    const again = await client.requestBooking({ car_id: 'CAR-1', station_id: 'ST-A', battery_level: 25, latitude: 40.751, longitude: -73.981 });
    expect(again).toMatchObject({ booking_id: first.booking_id, station_id: 'ST-A' });
  });

  it('ListStations shows the occupancy and the queue; NearestStations orders by distance and filters by free ports', async () => {
    const stations = await client.listStations();
    expect(stations.map((s) => [s.id, s.ports, s.holds, s.free, s.queueLength])).toEqual([
      ['ST-A', 1, 1, 0, 1],
      ['ST-B', 1, 0, 1, 0],
    ]);
    expect(stations[0].pricePerKwh).toBeGreaterThan(0);
    const near = await client.nearestStations({ latitude: 40.7505, longitude: -73.9805, limit: 5 });
    expect(near.stations.map((s) => s.id)).toEqual(['ST-A', 'ST-B']);
    expect(near.stations[0].distanceKm).toBeLessThan(near.stations[1].distanceKm);
    expect(near.stations[1].driveMin).toBeGreaterThan(0);
    const available = await client.nearestStations({ latitude: 40.7505, longitude: -73.9805, available_only: true });
    expect(available.stations.map((s) => [s.id, s.free])).toEqual([['ST-B', 1]]);
    const limited = await client.nearestStations({ latitude: 40.7505, longitude: -73.9805, limit: 1 });
    expect(limited.stations).toHaveLength(1);
  });

  it('ListBookings lists the hold with its expiry and the queue in order', async () => {
    const all = await client.listBookings('all');
    expect(all.at).toBeGreaterThan(0);
    expect(all.bookings.map((b) => [b.carId, b.status, b.stationId, b.queuePosition])).toEqual([
      ['CAR-1', 'held', 'ST-A', 0],
      ['CAR-2', 'queued', null, 1],
    ]);
    expect(all.bookings[0].expiresAt).toBeGreaterThan(all.at);
    expect(all.bookings[1]).toMatchObject({ battery: 20, critical: false, candidates: ['ST-A'] });
    expect(all.bookings[1].waitingSince).toBeGreaterThan(0);
    expect((await client.listBookings('queued')).bookings.map((b) => b.carId)).toEqual(['CAR-2']);
    expect((await client.listBookings('active')).bookings.map((b) => b.carId)).toEqual(['CAR-1']);
  });

  it('CancelBooking frees the port at once and promotes the queued car', async () => {
    const cancelled = await client.cancelBooking({ car_id: 'CAR-1' });
    expect(cancelled).toMatchObject({ car_id: 'CAR-1', station_id: 'ST-A', status: 'BOOKING_CANCELLED' });
    const list = await client.listBookings('all');
    expect(list.bookings.map((b) => [b.carId, b.status, b.stationId])).toEqual([['CAR-2', 'held', 'ST-A']]);
    const nothing = await client.cancelBooking({ car_id: 'CAR-1' });
    expect(nothing).toMatchObject({ status: 'BOOKING_FAILED', reason: 'not_found' });
  });

  it('ListSessions returns the session after arrival and charging_completed flow through the worker', async () => {
    const stream = client.streamTelemetry();
    const responses: BookingResponseMsg[] = [];
    stream.on('data', (r: BookingResponseMsg) => responses.push(r));
    stream.on('error', () => {});
    const at = (battery: number): CarStatusMsg => ({ car_id: 'CAR-2', latitude: 40.75, longitude: -73.98, battery_level: battery, velocity: 0, timestamp: Date.now() });
    stream.write(at(20));
    await eventually(async () => (await client.listBookings('active')).bookings.find((b) => b.carId === 'CAR-2' && b.status === 'charging'));
    await new Promise((r) => setTimeout(r, 20));
    stream.write(at(85));
    const sessions = await eventually(async () => {
      const rows = await client.listSessions({ carId: 'CAR-2' });
      return rows.some((s) => s.endTime !== null) && rows;
    });
    stream.end();
    const done = sessions.find((s) => s.endTime !== null)!;
    expect(done).toMatchObject({ carId: 'CAR-2', stationId: 'ST-A', startBattery: 20, endBattery: 85 });
    expect(done.kwhUsage).toBeCloseTo(0.65 * 75, 5);
    expect(done.priceRate).toBeGreaterThan(0);
    expect(done.cost).toBeGreaterThanOrEqual(0);
    expect(await client.listSessions({ stationId: 'ST-B' })).toEqual([]);
    expect(await client.listSessions({ carId: 'CAR-2', sinceMs: Date.now() + 60_000 })).toEqual([]);
    expect(responses.map((r) => r.status)).toEqual(expect.arrayContaining(['BOOKING_CHARGING', 'BOOKING_COMPLETED']));
  });

  it('RequestBooking without station or position uses the car’s last telemetry, and fails cleanly for an unknown car', async () => {
    const res = await client.requestBooking({ car_id: 'CAR-2', battery_level: 30 });
    expect(['BOOKING_CONFIRMED', 'BOOKING_QUEUED']).toContain(res.status);
    const unknown = await grpcError(client.requestBooking({ car_id: 'CAR-NOWHERE' }));
    expect(unknown?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(unknown?.details).toMatch(/no position known for CAR-NOWHERE/);
    await client.cancelBooking({ car_id: 'CAR-2' });
  });

  it('invalid requests get INVALID_ARGUMENT naming the field', async () => {
    const cases: [Promise<unknown>, RegExp][] = [
      [client.requestBooking({ car_id: '', battery_level: 20 }), /^car_id/],
      [client.requestBooking({ car_id: 'bad id!', battery_level: 20 }), /^car_id/],
      [client.requestBooking({ car_id: 'CAR-9', battery_level: 150 }), /^battery_level/],
      [client.requestBooking({ car_id: 'CAR-9', battery_level: -1 }), /^battery_level/],
      [client.requestBooking({ car_id: 'CAR-9', station_id: 'no spaces please' }), /^station_id/],
      [client.requestBooking({ car_id: 'CAR-9', latitude: 95, longitude: 10 }), /^latitude/],
      [client.requestBooking({ car_id: 'CAR-9', expected_arrival: -5 }), /^expected_arrival/],
      [client.cancelBooking({}), /car_id or booking_id/],
      [client.nearestStations({}), /^latitude/],
      [client.nearestStations({ latitude: 40.7, longitude: -73.9, limit: 5000 }), /^limit/],
      [client.listBookings('everything' as 'all'), /^status/],
      [client.listSessions({ carId: 'bad id!' }), /^car_id/],
    ];
    for (const [call, field] of cases) {
      const err = await grpcError(call);
      expect(err?.code, String(field)).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(field);
    }
    const noCar = await grpcError(client.nearestStations({ car_id: 'CAR-NEVER-SEEN' }));
    expect(noCar?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('every query RPC needs the token: UNAUTHENTICATED without it or with a wrong one', async () => {
    const wrong = createFleetClient(address, 'not-the-token');
    try {
      for (const call of [wrong.listStations(), wrong.listBookings(), wrong.listSessions(), wrong.requestBooking({ car_id: 'CAR-1' }), wrong.cancelBooking({ car_id: 'CAR-1' }), wrong.nearestStations({ latitude: 40.7, longitude: -73.9 })]) {
        const err = await grpcError(call);
        expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
        expect(err?.details).toBe('invalid x-api-token');
      }
      const missing = await new Promise<grpc.ServiceError | null>((resolve) =>
        (wrong.raw as unknown as Record<string, (...a: unknown[]) => void>).ListStations({}, new grpc.Metadata(), (err: grpc.ServiceError | null) => resolve(err)),
      );
      expect(missing?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(missing?.details).toBe('missing x-api-token');
    } finally {
      wrong.close();
    }
  });

  it('a client speaking only the original proto still streams, and its BookingRequest bytes book a port', async () => {
    const original = createFleetClient(address, stack.tokens[0], { protoPath: ORIGINAL_PROTO });
    try {
      const stream = original.streamTelemetry();
      const rejected = new Promise<BookingResponseMsg>((resolve) => stream.once('data', resolve));
      stream.write({ car_id: 'OLD-1', latitude: 40.79, longitude: -73.96, battery_level: 90, velocity: 10, timestamp: Date.now() });
      stream.write({ car_id: 'OLD-1', latitude: 40.79, longitude: -73.96, battery_level: 900, velocity: 10, timestamp: Date.now() });
      expect(await rejected).toMatchObject({ car_id: 'OLD-1', status: 'BOOKING_FAILED' });
      stream.end();
      await eventually(async () => (await client.getCar('OLD-1')) ?? undefined);
    } finally {
      original.close();
    }
    // The original BookingRequest message, encoded by the original schema, sent to the added RPC.
    const schema = new protobuf.Root().loadSync(ORIGINAL_PROTO, { keepCase: true });
    const Req = schema.lookupType('fleet.BookingRequest');
    const Res = schema.lookupType('fleet.BookingResponse');
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const md = new grpc.Metadata();
      md.set('x-api-token', stack.tokens[0]);
      const res = await new Promise<Record<string, unknown>>((resolve, reject) =>
        raw.makeUnaryRequest(
          '/fleet.FleetService/RequestBooking',
          (m: object) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
          (b: Buffer) => Res.toObject(Res.decode(b), { enums: String, longs: Number, defaults: true }),
          { car_id: 'OLD-1', station_id: 'ST-B', expected_arrival: Date.now() + 60_000, battery_level: 40 },
          md,
          (err, value) => (err ? reject(err) : resolve(value as Record<string, unknown>)),
        ),
      );
      expect(res).toMatchObject({ car_id: 'OLD-1', station_id: 'ST-B', status: 'BOOKING_CONFIRMED' });
      expect(res.price_rate).toBeGreaterThan(0);
    } finally {
      raw.close();
    }
  });
});

describe('a server without a coordinator', () => {
  it('answers the query and booking RPCs with FAILED_PRECONDITION, which the CLI reports as exit 1, not as an unreachable engine (4)', async () => {
    const ingestion = createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: 0 }, bus: createMemoryEventBus(), fleet: createMemoryFleetState(), tokens: ['solo-token'], logger: silentLogger });
    await ingestion.start();
    const address = `127.0.0.1:${ingestion.port}`;
    const solo = createFleetClient(address, 'solo-token');
    try {
      const err = await grpcError(solo.requestBooking({ car_id: 'CAR-1', station_id: 'ST-A', battery_level: 20 }));
      expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err?.details).toMatch(/without a coordinator/);
      const cli = await remoteQueries(solo, address).listStations().then(() => null, (e: GreenlaneError) => e);
      expect(cli).toBeInstanceOf(GreenlaneError);
      expect(cli).toMatchObject({ code: 'UNAVAILABLE' });
      expect(exitCodeFor(cli)).toBe(ExitCode.bug);
      expect(cli?.message).toMatch(/without a coordinator/);
    } finally {
      solo.close();
      await ingestion.stop();
    }
  });
});
