import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { LoadedConfig } from '../config/load.js';
import { TOPIC_EVENTS, topicName, type TelemetryEvent } from '../domain/events.js';
import type { Logger } from '../observability/logger.js';
import type { Subscription } from '../ports/event-bus.js';
import { dropNamespace } from './namespace-cleanup.js';
import { startSimulatedFleet } from '../sim/fleet.js';
import { startStack, type Stack } from './stack.js';

export interface SmokeOptions {
  loaded: LoadedConfig;
  logger: Logger;
  registry: Registry;
  cars: number;
  durationSec: number;
  /** How long to wait for the worker to persist everything after the simulator stops. */
  settleMs?: number;
  /** Keep the smoke namespace's topics, keys and schema (external mode). */
  keep?: boolean;
  progress?: (msg: string) => void;
}

export interface SmokeReport {
  ok: boolean;
  mode: 'embedded' | 'external';
  namespace: string;
  cars: number;
  durationSec: number;
  sent: number;
  accepted: number;
  rejected: number;
  onBus: number;
  persisted: number;
  duplicatesOnBus: number;
  inRedis: number;
  redisMismatches: string[];
  failures: string[];
}

/**
 * Brings up a stack in a fresh namespace, drives a fleet through it and checks end to end:
 * every accepted telemetry event is on the bus, persisted exactly once, and Redis holds each
 * car's latest position.
 */
export async function runSmoke(opts: SmokeOptions): Promise<SmokeReport> {
  const namespace = `smoke_${randomBytes(4).toString('hex')}`;
  const loaded: LoadedConfig = { ...opts.loaded, config: { ...opts.loaded.config, namespace, grpcPort: 0, gridPort: 0 } };
  const say = opts.progress ?? (() => {});
  say(`Starting a ${loaded.mode} stack in namespace ${namespace}…`);
  const stack = await startStack({ loaded, logger: opts.logger, registry: opts.registry, services: ['grid', 'worker', 'ingestion'], ephemeralStore: true });
  try {
    const seen = await watchTelemetry(stack, namespace);
    say(`Driving ${opts.cars} cars for ${opts.durationSec} s…`);
    const fleet = await startSimulatedFleet({ cars: opts.cars, speed: 1, seed: 42, server: `127.0.0.1:${stack.ingestion!.port}`, dataDir: loaded.config.dataDir, token: stack.tokens[0], logger: opts.logger, coordinator: stack.coordinator });
    await new Promise((r) => setTimeout(r, opts.durationSec * 1000));
    const sim = await fleet.stop();
    const stats = stack.ingestion!.stats();
    say(`Sent ${sim.sent}, accepted ${stats.accepted}; waiting for the bus and the worker…`);
    const carIds = fleet.simulator.cars().map((c) => c.carId);
    const settleMs = opts.settleMs ?? 30_000;
    await until(() => seen.events.size >= stats.accepted, settleMs);
    const persisted = await until(async () => {
      const n = await stack.engines.store!.countTelemetry(carIds);
      return n >= stats.accepted ? n : undefined;
    }, settleMs).then((n) => n ?? stack.engines.store!.countTelemetry(carIds));
    await seen.sub.stop();
    const redis = await checkLatestPositions(stack, seen.latest);
    return report({ loaded, namespace, opts, sent: sim.sent, accepted: stats.accepted, rejected: stats.rejected, seen, persisted, redis });
  } finally {
    await stack.stop({ drainMs: 5_000 });
    if (!opts.keep && loaded.mode === 'external') await dropNamespace(loaded, namespace, opts.logger);
  }
}

interface Seen {
  sub: Subscription;
  events: Set<string>;
  duplicates: number;
  latest: Map<string, TelemetryEvent>;
}

/** An independent consumer that records every telemetry event on the bus (joined before any is sent). */
async function watchTelemetry(stack: Stack, namespace: string): Promise<Seen> {
  const seen: Omit<Seen, 'sub'> = { events: new Set(), duplicates: 0, latest: new Map() };
  const sub = await stack.engines.bus!.subscribe({
    topic: topicName(namespace, TOPIC_EVENTS),
    groupId: `${namespace}-audit`,
    fromBeginning: true,
    ephemeral: true,
    handleBatch: async (records) => {
      for (const r of records) {
        const e = JSON.parse(r.value) as TelemetryEvent;
        if (e.event_type !== 'telemetry') continue;
        if (seen.events.has(e.event_id)) seen.duplicates++;
        seen.events.add(e.event_id);
        const prev = seen.latest.get(e.car_id);
        if (!prev || prev.timestamp <= e.timestamp) seen.latest.set(e.car_id, e);
      }
    },
  });
  return { ...seen, sub };
}

async function checkLatestPositions(stack: Stack, latest: Map<string, TelemetryEvent>): Promise<{ matching: number; mismatches: string[] }> {
  const mismatches: string[] = [];
  let matching = 0;
  for (const [carId, e] of latest) {
    const car = await stack.engines.fleet!.getCar(carId);
    const close = car && Math.abs(car.lat - e.lat) < 1e-6 && Math.abs(car.lon - e.lon) < 1e-6 && car.timestamp === e.timestamp;
    if (close) matching++;
    else mismatches.push(`${carId}: bus ${e.lat},${e.lon}@${e.timestamp} vs state ${car ? `${car.lat},${car.lon}@${car.timestamp}` : 'missing'}`);
  }
  return { matching, mismatches };
}

function report(r: {
  loaded: LoadedConfig;
  namespace: string;
  opts: SmokeOptions;
  sent: number;
  accepted: number;
  rejected: number;
  seen: Seen;
  persisted: number;
  redis: { matching: number; mismatches: string[] };
}): SmokeReport {
  const failures: string[] = [];
  const onBus = r.seen.events.size;
  if (r.accepted === 0) failures.push('no telemetry was accepted');
  if (r.rejected > 0) failures.push(`${r.rejected} simulated messages were rejected`);
  if (onBus !== r.accepted) failures.push(`accepted ${r.accepted} but ${onBus} distinct telemetry events on the bus`);
  if (r.persisted !== r.accepted) failures.push(`accepted ${r.accepted} but ${r.persisted} rows persisted`);
  if (r.redis.matching !== r.seen.latest.size || r.seen.latest.size !== r.opts.cars) failures.push(`Redis holds the latest position of ${r.redis.matching}/${r.opts.cars} cars`);
  return {
    ok: failures.length === 0,
    mode: r.loaded.mode,
    namespace: r.namespace,
    cars: r.opts.cars,
    durationSec: r.opts.durationSec,
    sent: r.sent,
    accepted: r.accepted,
    rejected: r.rejected,
    onBus,
    persisted: r.persisted,
    duplicatesOnBus: r.seen.duplicates,
    inRedis: r.redis.matching,
    redisMismatches: r.redis.mismatches.slice(0, 10),
    failures,
  };
}

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
