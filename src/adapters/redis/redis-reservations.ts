import type { Logger } from 'pino';
import { silentLogger } from '../../observability/logger.js';
import type { Station } from '../../ports/fleet-state.js';
import type { BookingEvent } from '../../domain/events.js';
import { restoredBooking } from '../../ports/reservations.js';
import type {
  Booking,
  BookingStatus,
  Candidate,
  ExpireResult,
  MutationResult,
  OutboxEntry,
  QueueEntry,
  Reservations,
  ReserveResult,
  StationStatus,
  Transition,
} from '../../ports/reservations.js';
import { connectRedis, type RedisClient } from './client.js';
import { readAsset } from '../../util/assets.js';

/**
 * Redis keys of the reservations (all under the namespace prefix `N:`):
 * res:stations, res:holds, res:charging (HASH station → ports / holds / sessions), res:bookings
 * (HASH booking → JSON), res:cars (HASH car → active booking), res:expiry (ZSET booking → expiresAt),
 * res:queue (ZSET booking → urgency), res:sq (ZSET: every station's queue of the queued cars that can reach it, one
 * key: lua/reservations-lib.lua), res:layout (STRING: 'sq' once res:sq is built, lua/reindex-queues.lua),
 * res:seq, res:clock (STRING), res:ended (ZSET booking → endedAt), res:seen (ZSET booking → car last seen),
 * res:qfirst (HASH station → queued cars counted there: each at its best candidate), res:outbox (STREAM:
 * each transition appended by the script that made it, and events appended on their own; the relay
 * publishes and deletes them), res:outbox:lease (STRING: the relay holding the lease, with an expiry), res:marker (STRING: the
 * state marker, Reservations.stateMarker).
 * See lua/reservations-lib.lua.
 */
export const reservationKeys = [
  'res:stations', 'res:holds', 'res:charging', 'res:bookings', 'res:cars',
  'res:expiry', 'res:queue', 'res:seq', 'res:clock', 'res:ended', 'res:seen', 'res:qfirst', 'res:outbox', 'res:sq',
] as const;

/** Scripts that change nothing worth a replica's acknowledgement (a read, a last-seen time). */
const NO_WAIT = new Set(['glStationStatus', 'glTouch']);

const scripts = {
  glReserve: 'reserve.lua',
  glCancel: 'cancel.lua',
  glStartCharging: 'start-charging.lua',
  glCompleteCharging: 'complete-charging.lua',
  glExpireDue: 'expire-due.lua',
  glPromote: 'promote.lua',
  glLoadStations: 'load-stations.lua',
  glStationStatus: 'station-status.lua',
  glExtendHold: 'extend-hold.lua',
  glTouch: 'touch.lua',
  glExpireStale: 'expire-stale.lua',
  glRestore: 'restore.lua',
} as const;
type ScriptName = keyof typeof scripts;

/** Lua sources live in src/adapters/redis/lua (shipped in the package, embedded in the single executable). */
function luaSource(file: string): string {
  return readAsset(`src/adapters/redis/lua/${file}`);
}

function defineScripts(redis: RedisClient): void {
  const lib = luaSource('reservations-lib.lua');
  for (const [name, file] of Object.entries(scripts)) {
    redis.defineCommand(name, { numberOfKeys: reservationKeys.length, lua: `${lib}\n${luaSource(file)}` });
  }
  redis.defineCommand('glReindexQueues', { numberOfKeys: reservationKeys.length + 1, lua: `${lib}\n${luaSource('reindex-queues.lua')}` });
}

/**
 * res:sq replaced the keys res:q:<station> (a Redis Cluster script may only touch declared keys): built once from
 * res:queue, then the old keys go (one server only: a cluster never had them).
 */
async function reindexQueues(redis: RedisClient, prefix: string): Promise<void> {
  const added = await (redis as unknown as { glReindexQueues(...a: string[]): Promise<number> }).glReindexQueues(...reservationKeys, 'res:layout', '|');
  if (added < 0 || redis.isCluster) return;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}res:q:*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys.map((k) => k.slice(prefix.length)));
    cursor = next;
  } while (cursor !== '0');
}

/** After a change on a cluster, how long to wait for a replica to hold it (WAIT 1) before answering. */
const REPLICA_WAIT_MS = 1_000;

export interface RedisReservationsOptions {
  url: string;
  namespace?: string;
  logger?: Logger;
  /** Finished bookings are forgotten after this long (default 1 h). */
  retentionMs?: number;
  /** On a Redis Cluster: ms each change waits for a replica (WAIT 1) before it is answered (default 1,000; 0: no wait). */
  replicaWaitMs?: number;
  /**
   * The instance deciding through this handle (the coordinator's instance id): stored with every
   * outbox entry it writes, so the event names the decider whichever relay publishes it.
   */
  origin?: string;
}

export interface RedisReservations extends Reservations {
  readonly kind: 'redis';
  readonly redis: RedisClient;
}

/** Connects (EngineUnreachableError when Redis is down) and returns reservations whose every change is one Lua script. */
export async function createRedisReservations(opts: RedisReservationsOptions): Promise<RedisReservations> {
  const logger = (opts.logger ?? silentLogger).child({ adapter: 'redis-reservations' });
  const redis = await connectRedis(opts.url, opts.namespace, logger);
  defineScripts(redis);
  const prefix = opts.namespace ? `${opts.namespace}:` : '';
  await reindexQueues(redis, prefix);
  const origin = opts.origin ?? '';
  // ARGV[1] of every script: "<prefix>|<origin>" (split in lua/reservations-lib.lua; a namespace has no '|').
  const context = `${prefix}|${origin}`;
  const waitMs = redis.isCluster ? (opts.replicaWaitMs ?? REPLICA_WAIT_MS) : 0;
  const run: ScriptRunner = async (name, ...args) => {
    if (waitMs > 0 && !NO_WAIT.has(name)) return JSON.parse(await runThenWait(redis, name, [...reservationKeys, context, ...args], waitMs, logger));
    const call = (redis as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<string>>)[name];
    const raw = await call.call(redis, ...reservationKeys, context, ...args);
    return JSON.parse(raw);
  };

  return {
    kind: 'redis',
    redis,
    ...scriptedChanges(run, opts.retentionMs ?? 3_600_000),
    ...redisReads(redis),
    ...redisOutbox(redis, origin),
    async restore(stations, list, nowMs) {
      const now = Math.round(nowMs);
      const raw = (await run('glRestore', now, JSON.stringify(stations.map((s) => ({ id: s.id, ports: s.ports }))), JSON.stringify(list.map((r) => restoredBooking(r, now)), dropNulls))) as { restored: number };
      return raw.restored;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

type ScriptRunner = (name: ScriptName, ...args: (string | number)[]) => Promise<unknown>;

/**
 * The script, then WAIT 1 in the same pipeline (the script's keys route both to the namespace's master, on one
 * connection): the answer comes once a replica holds the change, so a master killed right after cannot take an
 * acknowledged booking with it — the replica promoted in its place has it. No replica within waitMs: answered
 * anyway (the change is made), with a warning.
 */
async function runThenWait(redis: RedisClient, name: ScriptName, args: (string | number)[], waitMs: number, logger: Logger): Promise<string> {
  const pipeline = redis.pipeline() as unknown as Record<ScriptName, (...a: (string | number)[]) => unknown> & { wait(n: number, ms: number): unknown; exec(): Promise<[Error | null, unknown][] | null> };
  pipeline[name](...args);
  pipeline.wait(1, waitMs);
  const results = await pipeline.exec();
  if (!results) throw new Error('redis pipeline was discarded');
  const [[scriptErr, raw], [waitErr, replicas]] = results;
  if (scriptErr) throw scriptErr;
  if (waitErr || Number(replicas) < 1) logger.warn({ script: name, err: waitErr ?? undefined }, 'no replica acknowledged the change within the wait');
  return raw as string;
}
type Changes = Omit<Reservations, 'kind' | 'close' | 'stationStatus' | 'booking' | 'activeBookingForCar' | 'activeBookings' | 'queue' | 'listActive' | keyof OutboxOps | 'restore'>;

/** Every change, and the station status, is one Lua script: atomic in Redis. */
function scriptedChanges(run: ScriptRunner, retentionMs: number): Changes & Pick<Reservations, 'stationStatus'> {
  return {
    async loadStations(list: Station[], nowMs = Date.now()) {
      if (list.length === 0) return [];
      const out = (await run('glLoadStations', nowMs, JSON.stringify(list.map((s) => ({ id: s.id, ports: s.ports }))))) as RawTransitions;
      return transitions(out.transitions);
    },
    async reserve(req) {
      // Only the fields the scripts read (the drive orders each station's promotions); absent ones stay absent.
      const candidates = req.candidates.map(({ stationId, score, holdMs, driveMs }) => ({ stationId, score, ...(holdMs === undefined ? {} : { holdMs }), ...(driveMs === undefined ? {} : { driveMs }) }));
      const raw = (await run('glReserve', req.bookingId, req.carId, req.nowMs, req.holdMs, req.battery, req.critical ? 1 : 0, JSON.stringify(candidates), req.queue === false ? 0 : 1)) as RawReserve;
      return reserveResult(raw);
    },
    async cancel(target, nowMs, reason = 'requested') {
      const [by, id] = 'bookingId' in target ? ['booking', target.bookingId] : ['car', target.carId];
      return mutation((await run('glCancel', by, id, nowMs, reason)) as RawMutation);
    },
    async startCharging(carId, stationId, nowMs, battery) {
      return mutation((await run('glStartCharging', carId, stationId, nowMs, battery ?? '')) as RawMutation);
    },
    async completeCharging(carId, nowMs, reason = 'target_reached') {
      return mutation((await run('glCompleteCharging', carId, nowMs, reason)) as RawMutation);
    },
    async expireDue(nowMs, limit = 500): Promise<ExpireResult> {
      const raw = (await run('glExpireDue', nowMs, limit, retentionMs)) as { expired: unknown; transitions: unknown };
      return { expired: list(raw.expired).map(booking), transitions: transitions(raw.transitions) };
    },
    async extendHold(bookingId, expiresAt, nowMs) {
      return mutation((await run('glExtendHold', bookingId, Math.round(expiresAt), nowMs)) as RawMutation);
    },
    async touch(carIds, nowMs) {
      if (carIds.length > 0) await run('glTouch', nowMs, JSON.stringify(carIds));
    },
    async expireStale(seenBeforeMs, nowMs, limit = 500): Promise<ExpireResult> {
      const raw = (await run('glExpireStale', Math.round(seenBeforeMs), nowMs, limit)) as { expired: unknown; transitions: unknown };
      return { expired: list(raw.expired).map(booking), transitions: transitions(raw.transitions) };
    },
    async promote(stationId, nowMs) {
      return transitions(((await run('glPromote', nowMs, JSON.stringify([stationId]))) as RawTransitions).transitions);
    },
    async stationStatus() {
      return list((await run('glStationStatus')) as unknown).map((s) => s as StationStatus).sort((a, b) => a.id.localeCompare(b.id));
    },
  };
}

type OutboxOps = Pick<Reservations, 'readOutbox' | 'appendOutbox' | 'ackOutbox' | 'leaseOutbox' | 'outboxDepth' | 'stateMarker' | 'markState'>;

/** res:outbox (a stream; field o = the deciding instance) and the relay's lease. ioredis' keyPrefix namespaces both. */
function redisOutbox(redis: RedisClient, origin: string): OutboxOps {
  return {
    async readOutbox(after, limit) {
      const rows = (await redis.xrange('res:outbox', after === null ? '-' : `(${after}`, '+', 'COUNT', limit)) as [string, string[]][];
      return rows.map(([id, fields]) => {
        const entry: OutboxEntry = { id };
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 't') entry.transition = transitions([JSON.parse(fields[i + 1])])[0];
          else if (fields[i] === 'e') entry.event = JSON.parse(fields[i + 1]) as BookingEvent;
          else if (fields[i] === 'o' && fields[i + 1]) entry.origin = fields[i + 1];
        }
        return entry;
      });
    },
    async appendOutbox(events) {
      if (events.length === 0) return;
      const multi = redis.multi();
      for (const e of events) {
        if (origin) multi.xadd('res:outbox', '*', 'e', JSON.stringify(e), 'o', origin);
        else multi.xadd('res:outbox', '*', 'e', JSON.stringify(e));
      }
      await multi.exec();
    },
    async ackOutbox(ids) {
      return ids.length ? redis.xdel('res:outbox', ...ids) : 0;
    },
    outboxDepth: () => redis.xlen('res:outbox'),
    // res:marker (a STRING): gone with the rest when Redis loses its data (recovery.ts checks it).
    stateMarker: () => redis.get('res:marker'),
    async markState(candidate) {
      await redis.set('res:marker', candidate, 'NX');
      return (await redis.get('res:marker')) ?? candidate;
    },
    async leaseOutbox(owner, ttlMs) {
      // Take it when free, renew it when ours: one script, so two relays never both hold it.
      const got = await redis.eval(
        "local v = redis.call('GET', KEYS[1]) if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0",
        1, 'res:outbox:lease', owner, Math.max(1, Math.round(ttlMs)),
      );
      return got === 1;
    },
  };
}

type Reads = Pick<Reservations, 'booking' | 'activeBookingForCar' | 'activeBookings' | 'queue' | 'listActive'>;

/** Plain reads of the booking hashes and the queue. */
function redisReads(redis: RedisClient): Reads {
  async function activeBookings(carIds: string[]): Promise<Map<string, Booking>> {
    const out = new Map<string, Booking>();
    if (carIds.length === 0) return out;
    const ids = await redis.hmget('res:cars', ...carIds);
    const present = ids.flatMap((id, i) => (id ? [[carIds[i], id] as const] : []));
    if (present.length === 0) return out;
    const raws = await redis.hmget('res:bookings', ...present.map(([, id]) => id));
    raws.forEach((raw, i) => {
      const b = raw ? booking(JSON.parse(raw)) : null;
      if (b && (b.status === 'held' || b.status === 'queued' || b.status === 'charging')) out.set(present[i][0], b);
    });
    return out;
  }

  return {
    async booking(bookingId) {
      const raw = await redis.hget('res:bookings', bookingId);
      return raw ? booking(JSON.parse(raw)) : null;
    },
    async activeBookingForCar(carId) {
      const found = await activeBookings([carId]);
      return found.get(carId) ?? null;
    },
    activeBookings,
    async queue(limit = -1): Promise<QueueEntry[]> {
      const ids = await redis.zrange('res:queue', 0, String(limit < 0 ? -1 : limit - 1));
      if (ids.length === 0) return [];
      const raws = await redis.hmget('res:bookings', ...ids);
      return raws.flatMap((raw, i) => (raw ? [{ position: i + 1, booking: booking(JSON.parse(raw)) }] : []));
    },
    async listActive() {
      // res:cars maps each car to its one active booking; two reads, not atomic, fine for a listing.
      const ids = await redis.hvals('res:cars');
      if (ids.length === 0) return [];
      const raws = await redis.hmget('res:bookings', ...ids);
      return raws.flatMap((raw) => (raw ? [booking(JSON.parse(raw))] : [])).filter((b) => b.status === 'held' || b.status === 'queued' || b.status === 'charging');
    },
  };
}

// ---- decoding the scripts' JSON (cjson encodes an empty array as {} and omits nil fields) ----

interface RawTransitions {
  transitions: unknown;
}
interface RawReserve extends RawTransitions {
  status: 'confirmed' | 'queued' | 'duplicate' | 'failed';
  stationId?: string;
  expiresAt?: number;
  position?: number;
  booking?: unknown;
  existing?: unknown;
  replayed?: boolean;
  reason?: string;
}
interface RawMutation extends RawTransitions {
  ok: boolean;
  reason?: string;
  booking?: unknown;
}

/** cjson decodes null as a truthy sentinel: absent fields are what the scripts expect. */
const dropNulls = (_k: string, v: unknown): unknown => (v === null ? undefined : v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function booking(raw: unknown): Booking {
  const r = raw as Record<string, unknown>;
  return {
    bookingId: String(r.bookingId),
    carId: String(r.carId),
    status: r.status as BookingStatus,
    stationId: typeof r.stationId === 'string' ? r.stationId : null,
    candidates: list(r.candidates) as Candidate[],
    holdMs: Number(r.holdMs),
    battery: Number(r.battery),
    critical: r.critical === true,
    createdAt: Number(r.createdAt),
    updatedAt: Number(r.updatedAt),
    queuedAt: num(r.queuedAt),
    confirmedAt: num(r.confirmedAt),
    expiresAt: num(r.expiresAt),
    chargingStartedAt: num(r.chargingStartedAt),
    startBattery: num(r.startBattery),
    endedAt: num(r.endedAt),
    endReason: typeof r.endReason === 'string' ? r.endReason : null,
    lastSeenAt: num(r.lastSeenAt),
  };
}

function transitions(raw: unknown): Transition[] {
  return list(raw).map((t) => {
    const r = t as Record<string, unknown>;
    const base = { at: Number(r.at), booking: booking(r.booking) };
    if (r.type === 'confirmed') return { type: 'confirmed', ...base, promoted: r.promoted === true };
    if (r.type === 'queued') return { type: 'queued', ...base, position: Number(r.position) };
    return { type: r.type as 'expired' | 'cancelled' | 'charging_started' | 'charging_completed', ...base };
  });
}

function reserveResult(raw: RawReserve): ReserveResult {
  const ts = transitions(raw.transitions);
  switch (raw.status) {
    case 'confirmed':
      return { status: 'confirmed', stationId: raw.stationId!, expiresAt: raw.expiresAt!, booking: booking(raw.booking), replayed: raw.replayed === true, transitions: ts };
    case 'queued':
      return { status: 'queued', position: raw.position!, booking: booking(raw.booking), replayed: raw.replayed === true, transitions: ts };
    case 'duplicate':
      return { status: 'duplicate', existing: booking(raw.existing), transitions: ts };
    default:
      return { status: 'failed', reason: raw.reason ?? 'unknown', transitions: ts };
  }
}

function mutation(raw: RawMutation): MutationResult {
  const out: MutationResult = { ok: raw.ok, transitions: transitions(raw.transitions) };
  if (raw.reason) out.reason = raw.reason;
  if (raw.booking) out.booking = booking(raw.booking);
  return out;
}
