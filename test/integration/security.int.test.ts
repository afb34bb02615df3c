import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { startStack, type Stack } from '../../src/app/stack.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { issueCarToken } from '../../src/domain/principals.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createRegistry } from '../../src/observability/metrics.js';
import { describeWithEngine, engineEnv, engineProbe, infra, testNamespace } from '../helpers/infra.js';

/**
 * The attacks of issue 11 (principals half) against a stack on Kafka, Redis and PostgreSQL: each one
 * worked with the single shared token; each must now fail while legitimate clients are still served.
 */
const ORIGINAL_PROTO = fileURLToPath(new URL('../fixtures/original-fleet.proto', import.meta.url));
const rnd = () => Math.random().toString(36).slice(2);
const FLEET = 'fleet-' + rnd();
const OTHER_FLEET = 'other-fleet-' + rnd();
const OPERATOR = 'operator-' + rnd();
const SECRET = 'secret-' + rnd().repeat(6);
const STATION = { id: 'ST-SEC', name: 'Security test', lat: 40.75, lon: -73.98, ports: 3, powerKw: 150 };

const probe = engineProbe('kafka', 'redis', 'postgres');

await describeWithEngine('kafka+redis+postgres', probe, 'security: principals, ownership and an honest clock on real engines', () => {
  const ns = testNamespace('sec');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-security-'));
  let loaded: LoadedConfig;
  let stack: Stack;
  let address: string;
  const clients: FleetClient[] = [];
  const streams: grpc.ClientDuplexStream<CarStatusMsg, BookingResponseMsg>[] = [];

  const client = (token: string, protoPath?: string) => {
    const c = createFleetClient(address, token, protoPath ? { protoPath } : {});
    clients.push(c);
    return c;
  };
  /** An open telemetry stream and every response it received. */
  const stream = (c: FleetClient) => {
    const call = c.streamTelemetry();
    const got: BookingResponseMsg[] = [];
    call.on('data', (m: BookingResponseMsg) => got.push(m));
    call.on('error', () => {});
    streams.push(call);
    return { call, got };
  };
  const status = (car_id: string, over: Partial<CarStatusMsg> = {}): CarStatusMsg => ({ car_id, latitude: 40.758, longitude: -73.9801, battery_level: 60, velocity: 0, timestamp: Date.now(), ...over });
  const operator = () => client(OPERATOR);
  const bookingOf = async (carId: string) => (await operator().listBookings('all')).bookings.find((b) => b.carId === carId);
  const until = async <T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const grpcError = (p: Promise<unknown>) => p.then(() => null, (e: grpc.ServiceError) => e);

  beforeAll(async () => {
    const stationsFile = join(dataDir, 'stations.json');
    writeFileSync(stationsFile, JSON.stringify([STATION]));
    loaded = loadConfig({
      env: {
        ...engineEnv(ns),
        GREENLANE_DATA_DIR: dataDir,
        GREENLANE_API_TOKENS: `${FLEET},${OTHER_FLEET}`,
        GREENLANE_OPERATOR_TOKENS: OPERATOR,
        GREENLANE_TOKEN_SECRET: SECRET,
        GREENLANE_STATIONS_FILE: stationsFile,
        GREENLANE_GRPC_PORT: '0',
        GREENLANE_GRPC_HOST: '127.0.0.1',
        GREENLANE_GRID_PORT: '0',
      },
      cwd: dataDir,
    });
    stack = await startStack({ loaded, logger: silentLogger, registry: createRegistry(false), services: ['grid', 'ingestion'] });
    address = `127.0.0.1:${stack.ingestion!.port}`;
    expect(stack.clockMode).toBe('wall');
  }, 90_000);

  afterAll(async () => {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
    await stack?.stop({ drainMs: 2_000 });
    if (loaded) await dropNamespace(loaded, ns, silentLogger);
  }, 60_000);

  it('refuses every attack of the shared-token era while legitimate cars are served', async () => {
    // Two victims, each with its own car token, stream at a critical battery: the coordinator books them.
    const victims = ['VIC-1', 'VIC-2'].map((id) => ({ id, ...stream(client(issueCarToken(SECRET, id))) }));
    for (const v of victims) v.call.write(status(v.id, { battery_level: 5 }));
    const held = await Promise.all(victims.map((v) => until(async () => ((b) => (b?.status === 'held' ? b : undefined))(await bookingOf(v.id)), `${v.id} held`)));
    await until(() => victims.every((v) => v.got.some((m) => m.status === 'BOOKING_CONFIRMED')) || undefined, 'confirmations on the victims’ own streams');

    // The attacker: a car token of its own (ATK-1, streaming) and the other fleet's token.
    const attackerToken = issueCarToken(SECRET, 'ATK-1');
    const attacker = client(attackerToken);
    const atk = stream(attacker);
    atk.call.write(status('ATK-1'));
    await until(async () => (await operator().getCar('ATK-1')) ?? undefined, 'ATK-1 known');

    // 1. Cross-car cancel: by booking id alone, by car id, by both mismatched.
    for (const req of [{ booking_id: held[0].bookingId }, { car_id: 'VIC-1' }, { car_id: 'ATK-1', booking_id: held[1].bookingId }]) {
      const err = await grpcError(attacker.cancelBooking(req));
      expect(err?.code, JSON.stringify(req)).toBe(grpc.status.PERMISSION_DENIED);
    }
    const otherFleet = client(OTHER_FLEET);
    expect((await grpcError(otherFleet.cancelBooking({ booking_id: held[0].bookingId })))?.code).toBe(grpc.status.PERMISSION_DENIED);
    for (const v of victims) expect((await bookingOf(v.id))?.status).toBe('held');

    // 2. Booking for cars that never streamed: refused for a car token and a fleet token; an operator may.
    const ghost = { station_id: STATION.id, latitude: STATION.lat, longitude: STATION.lon, battery_level: 5 };
    expect((await grpcError(attacker.requestBooking({ ...ghost, car_id: 'GHOST-1' })))?.code).toBe(grpc.status.PERMISSION_DENIED);
    const fleetErr = await grpcError(client(FLEET).requestBooking({ ...ghost, car_id: 'GHOST-2' }));
    expect(fleetErr?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(fleetErr?.details).toMatch(/GHOST-2 has not streamed/);
    expect(await bookingOf('GHOST-1')).toBeUndefined();
    const byOperator = await operator().requestBooking({ ...ghost, car_id: 'GHOST-OP' });
    expect(byOperator.status).toBe('BOOKING_CONFIRMED');
    expect((await operator().cancelBooking({ booking_id: byOperator.booking_id })).status).toBe('BOOKING_CANCELLED');

    // 3. Forged telemetry: a car token's stream for another id is answered BOOKING_FAILED and goes on;
    //    another fleet's stream cannot take a car bound to its own car stream.
    atk.call.write(status('VIC-2', { battery_level: 4 }));
    const refused = await until(() => atk.got.find((m) => m.car_id === 'VIC-2'), 'refusal on the attacker stream');
    expect(refused).toMatchObject({ status: 'BOOKING_FAILED', reason: 'invalid_car_id' });
    expect(refused.message).toMatch(/authenticated for ATK-1/);
    const forger = stream(otherFleet);
    forger.call.write(status('VIC-2', { battery_level: 4 }));
    await until(() => forger.got.find((m) => m.car_id === 'VIC-2' && m.status === 'BOOKING_FAILED'), 'refusal on the other fleet stream');
    atk.call.write(status('ATK-1')); // the attacker's own stream still works
    expect((await operator().cancelBooking({ car_id: 'VIC-2' })).status).toBe('BOOKING_CANCELLED');
    await until(() => victims[1].got.find((m) => m.status === 'BOOKING_CANCELLED'), 'VIC-2 told on its own stream');
    await new Promise((r) => setTimeout(r, 300));
    expect([...atk.got, ...forger.got].filter((m) => m.status !== 'BOOKING_FAILED')).toEqual([]);

    // 4. Clock poisoning: a message dated +23 h is rejected with the reason; no hold expires, res:clock stays at server time.
    atk.call.write(status('ATK-1', { timestamp: Date.now() + 23 * 3_600_000 }));
    const skew = await until(() => atk.got.find((m) => m.reason === 'invalid_timestamp'), 'timestamp refusal');
    expect(skew.message).toMatch(/5 min in the future/);
    expect(await stack.coordinator!.sweep()).toBe(0);
    expect((await bookingOf('VIC-1'))?.status).toBe('held');
    const redis = new Redis(infra.redisUrl);
    try {
      expect(Number(await redis.get(`${ns}:res:clock`))).toBeLessThanOrEqual(Date.now() + 1000);
    } finally {
      redis.disconnect();
    }

    // The victim may still cancel its own booking.
    const own = await clients[0]!.cancelBooking({ car_id: 'VIC-1' });
    expect(own.status).toBe('BOOKING_CANCELLED');
  }, 90_000);

  it('the original seed client (original proto, one fleet token) still streams and gets its decisions', async () => {
    const original = stream(client(FLEET, ORIGINAL_PROTO));
    original.call.write(status('ORIG-1', { battery_level: 5 }));
    const decided = await until(() => original.got.find((m) => m.car_id === 'ORIG-1' && m.status === 'BOOKING_CONFIRMED'), 'ORIG-1 confirmed on its stream');
    expect(decided.station_id).toBe(STATION.id);
    // A shared fleet token keeps the original behaviour: the same token's later stream takes over its cars.
    const again = stream(client(FLEET));
    again.call.write(status('ORIG-1', { battery_level: 5 }));
    await new Promise((r) => setTimeout(r, 300));
    expect(again.got.filter((m) => m.status === 'BOOKING_FAILED')).toEqual([]);
    // Fleet principals may book for cars they streamed.
    const fleetDup = await client(FLEET).requestBooking({ car_id: 'ORIG-1', station_id: STATION.id, battery_level: 5 });
    expect(fleetDup.status).not.toBe('BOOKING_FAILED'); // already has its booking (or a new one): not refused
  }, 60_000);

  it('car tokens may not read the fleet; operators and fleets may', async () => {
    const car = client(issueCarToken(SECRET, 'READER-1'));
    expect((await grpcError(car.listBookings('all')))?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await car.listStations()).length).toBeGreaterThan(0);
    expect((await operator().listBookings('all')).bookings).toBeDefined();
  });
});
