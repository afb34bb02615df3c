import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { auditEvents } from '../../src/domain/audit.js';
import { TOPIC_EVENTS, topicName, type BookingEvent, type TelemetryEvent } from '../../src/domain/events.js';
import { gridStations } from '../../src/domain/stations.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import type { BookingResponseMsg, CarStatusMsg } from '../../src/grpc/proto.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * The herd on real engines with TWO ingestion processes (the CLI, as deployed): 1,000 cars ask for
 * charge at once, half through each instance, against 10 stations × 2 ports. Exactly 20 get a port;
 * the rest queue. Holds are short (GREENLANE_MAX_HOLD_SEC), so they lapse, both instances sweep, and
 * the most urgent queued cars are promoted — their decisions reach them on whichever instance holds
 * their stream, through the bus. The audit replays the Kafka log: never more holds than ports.
 */
const kafka = () => new Kafka({ brokers: infra.kafkaBrokers, clientId: 'herd-int', logLevel: logLevel.NOTHING });

const probe = engineProbe('redis', 'kafka');

interface Instance {
  proc: ResultPromise;
  port: number;
  client: FleetClient;
  responses: Map<string, BookingResponseMsg[]>;
}

const CARS = 1000;
const HOLD_SEC = 8;

await describeWithEngine('kafka+redis', probe, 'The herd on two ingestion processes', () => {
  const namespace = testNamespace('herd');
  const token = randomBytes(16).toString('hex');
  const stations = gridStations(10, 2);
  const dir = mkdtempSync(join(tmpdir(), 'greenlane-herd-'));
  const topic = topicName(namespace, TOPIC_EVENTS);
  const events: BookingEvent[] = [];
  const instances: Instance[] = [];
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    const stationsFile = join(dir, 'stations.json');
    writeFileSync(stationsFile, JSON.stringify(stations));
    const env = {
      GREENLANE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      GREENLANE_REDIS_URL: infra.redisUrl,
      GREENLANE_NAMESPACE: namespace,
      GREENLANE_API_TOKENS: token,
      GREENLANE_STATIONS_FILE: stationsFile,
      GREENLANE_MAX_HOLD_SEC: String(HOLD_SEC),
      GREENLANE_HOLD_GRACE_SEC: '1',
      GREENLANE_LOG_LEVEL: 'warn',
      GREENLANE_DATA_DIR: dir,
    };
    instances.push(...(await Promise.all([spawnIngestion(env), spawnIngestion(env)])));
    consumer = kafka().consumer({ groupId: `${namespace}-audit`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const e = JSON.parse(message.value!.toString()) as BookingEvent | TelemetryEvent;
        if (e.event_type !== 'telemetry') events.push(e);
      },
    });
  }, 60_000);

  afterAll(async () => {
    for (const i of instances) i.client.close();
    for (const i of instances) i.proc.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.proc.catch(() => undefined)));
    await consumer?.disconnect();
    const redis = new Redis(infra.redisUrl);
    const keys = await redis.keys(`${namespace}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, topicName(namespace, 'fleet-events.dlq')] }).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('1,000 concurrent requests: exactly 20 confirmed, 980 queued; expiry promotes the most urgent across instances; 0 double bookings', async () => {
    const [a, b] = instances;
    const instanceOfCar = (i: number) => (i < CARS / 2 ? a : b);
    const carIds = Array.from({ length: CARS }, (_, i) => `HERD-${String(i).padStart(4, '0')}`);
    const streams = [a, b].map((inst) => {
      const s = inst.client.streamTelemetryBatch();
      s.on('data', (r: BookingResponseMsg) => inst.responses.set(r.car_id!, [...(inst.responses.get(r.car_id!) ?? []), r]));
      s.on('error', () => undefined);
      return s;
    });
    // Batteries 5–19 %: never deferred to a cheaper window; below 15 % a car is critical.
    const status = (i: number): CarStatusMsg => ({ car_id: carIds[i], latitude: 40.705 + (i % 29) * 0.005, longitude: -74.015 + (i % 17) * 0.005, battery_level: 5 + (i % 15), velocity: 0, timestamp: Date.now() });
    streams[0].write({ cars: carIds.slice(0, CARS / 2).map((_, i) => status(i)) });
    streams[1].write({ cars: carIds.slice(CARS / 2).map((_, i) => status(i + CARS / 2)) });

    const firstRound = () => events.filter((e) => (e.event_type === 'booking_confirmed' && !e.promoted) || e.event_type === 'booking_queued');
    await vi.waitFor(() => expect(firstRound().length).toBeGreaterThanOrEqual(CARS), { timeout: 30_000, interval: 200 });
    expect(events.filter((e) => e.event_type === 'booking_confirmed' && !e.promoted)).toHaveLength(20);
    expect(events.filter((e) => e.event_type === 'booking_queued')).toHaveLength(CARS - 20);
    // Every car heard its first decision on its own stream.
    await vi.waitFor(() => expect(carIds.filter((id, i) => (instanceOfCar(i).responses.get(id) ?? []).length > 0)).toHaveLength(CARS), { timeout: 10_000 });

    // The holds lapse (nobody drives there); both instances sweep; the freed ports go to queued cars.
    await vi.waitFor(() => expect(events.filter((e) => e.event_type === 'booking_confirmed' && e.promoted).length).toBeGreaterThanOrEqual(20), { timeout: (HOLD_SEC + 15) * 1000, interval: 200 });
    const promoted = events.filter((e) => e.event_type === 'booking_confirmed' && e.promoted).slice(0, 20);
    expect(events.filter((e) => e.event_type === 'booking_expired').length).toBeGreaterThanOrEqual(20);
    expect(promoted.every((e) => (e.battery as number) < 15 && e.critical === true)).toBe(true);

    // Each promoted car got BOOKING_CONFIRMED on its own stream, also when the other instance decided.
    const idOf = (inst: Instance) => events.find((e) => !e.promoted && e.origin_instance && inst.responses.has(e.car_id) && carIds.indexOf(e.car_id) >= 0 && instanceOfCar(carIds.indexOf(e.car_id)) === inst)?.origin_instance;
    const ids = new Map([a, b].map((inst) => [inst, idOf(inst)]));
    expect(ids.get(a)).toBeTruthy();
    expect(ids.get(a)).not.toBe(ids.get(b));
    await vi.waitFor(
      () => {
        for (const e of promoted) {
          const got = instanceOfCar(carIds.indexOf(e.car_id)).responses.get(e.car_id) ?? [];
          expect(got.some((r) => r.status === 'BOOKING_CONFIRMED' && r.booking_id === e.booking_id)).toBe(true);
        }
      },
      { timeout: 10_000 },
    );
    const crossed = promoted.filter((e) => ids.get(instanceOfCar(carIds.indexOf(e.car_id))) !== e.origin_instance);
    expect(crossed.length).toBeGreaterThan(0);

    const audit = auditEvents(events, stations);
    expect(audit.doubleBookings).toBe(0);
    expect(audit.violations).toEqual([]);
    expect(Object.values(audit.peak).every((p) => p === 2)).toBe(true);
    for (const s of streams) s.end();
  }, 90_000);
});

/** `greenlane ingestion` through bin/dev.js on a free port; resolves when it listens. */
async function spawnIngestion(env: Record<string, string>): Promise<Instance> {
  const proc = runCli(['ingestion', '--grpc-port', '0', '--grpc-host', '127.0.0.1', '--metrics-port', '0'], {
    env,
    reject: false,
    buffer: false,
    all: true,
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingestion did not start within 45 s:\n${output}`)), 45_000);
    proc.all!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void proc.then((r) => reject(new Error(`ingestion exited (${r.exitCode}):\n${output}`)));
  });
  const client = createFleetClient(`127.0.0.1:${port}`, env.GREENLANE_API_TOKENS, { separateConnection: true });
  await client.waitForReady(10_000);
  return { proc, port, client, responses: new Map() };
}
