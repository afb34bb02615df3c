import type { Logger } from 'pino';
import { silentLogger } from '../../observability/logger.js';
import type { BusRecord, ConsumedRecord, EventBus, SubscribeOptions, Subscription } from '../../ports/event-bus.js';

/**
 * An in-process partitioned log for embedded mode: one process, no broker. It keeps the semantics
 * services rely on — per-key order (partition = hash(key) % n), consumer groups with committed
 * offsets, at-least-once delivery — and trims what every group has committed so long runs stay small.
 */
export interface MemoryEventBusOptions {
  partitions?: number;
  logger?: Logger;
  /** First retry delay after a throwing handleBatch; doubles up to 2 s. */
  retryBackoffMs?: number;
  /**
   * Records kept per partition (like Kafka retention). A group with a running durable member (not
   * `ephemeral`) never loses a record to it: publish waits while such a group is this far behind,
   * which backs the pressure up to ingestion. Ephemeral and abandoned groups skip ahead.
   */
  maxRetainedPerPartition?: number;
  /** How long publish waits for a stalled durable group before the cap drops records anyway (default 30 s). */
  maxPublishWaitMs?: number;
}

interface Partition {
  /** Offset of entries[0]; entries below it were trimmed. */
  base: number;
  entries: ConsumedRecord[];
}

interface Topic {
  name: string;
  maxRetained: number;
  logger: Logger;
  partitions: Partition[];
  groups: Map<string, Group>;
  changed: Notifier;
}

interface Group {
  /** Next offset to deliver per partition (the committed position). */
  committed: number[];
  members: Member[];
  /** Running members that are not ephemeral: while there is one, retention keeps what the group has not committed. */
  durable: number;
  /** Partitions with a batch in flight; nobody else may take them. */
  busy: Set<number>;
}

interface Member {
  /** Partitions this member owns: p where p % members.length === its index. */
  owns(p: number): boolean;
}

const DEFAULT_PARTITIONS = 3;
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_MAX_RETAINED = 100_000;
const IDLE_WAIT_MS = 250;
const MAX_BACKOFF_MS = 2_000;
const DEFAULT_MAX_PUBLISH_WAIT_MS = 30_000;

export function createMemoryEventBus(opts: MemoryEventBusOptions = {}): EventBus {
  const partitionCount = Math.max(1, opts.partitions ?? DEFAULT_PARTITIONS);
  const logger = opts.logger ?? silentLogger;
  const retryBackoffMs = opts.retryBackoffMs ?? 100;
  const topics = new Map<string, Topic>();
  const subscriptions = new Set<Subscription>();

  const topicNamed = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      const partitions = Array.from({ length: partitionCount }, () => ({ base: 0, entries: [] }));
      const maxRetained = Math.max(1, opts.maxRetainedPerPartition ?? DEFAULT_MAX_RETAINED);
      topic = { name, maxRetained, logger, partitions, groups: new Map(), changed: createNotifier() };
      topics.set(name, topic);
    }
    return topic;
  };

  return {
    kind: 'memory',

    async publish(topicName, records) {
      const topic = topicNamed(topicName);
      const now = Date.now();
      const touched = new Set<number>();
      for (const record of records) touched.add(append(topic, record, now));
      if (records.length) topic.changed.notify();
      // Acknowledged records are never dropped under a running consumer: wait for it (bounded, so a
      // stalled one cannot stop ingestion for good; past the wait the cap applies and says so).
      const until = Date.now() + (opts.maxPublishWaitMs ?? DEFAULT_MAX_PUBLISH_WAIT_MS);
      for (const p of touched) {
        while (durableLag(topic, p) > topic.maxRetained && Date.now() < until) await topic.changed.wait(IDLE_WAIT_MS);
        enforceRetention(topic, p, Date.now() >= until);
      }
    },

    async subscribe(sub) {
      const topic = topicNamed(sub.topic);
      const subscription = startConsumer(topic, sub, { logger, retryBackoffMs });
      subscriptions.add(subscription);
      return {
        lag: subscription.lag,
        lagByPartition: subscription.lagByPartition,
        stop: async () => {
          subscriptions.delete(subscription);
          await subscription.stop();
        },
      };
    },

    async ensureTopics(names) {
      for (const name of names) topicNamed(name);
    },

    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
    },
  };
}

/** Appends and returns the partition. */
function append(topic: Topic, record: BusRecord, timestamp: number): number {
  const partition = hashKey(record.key) % topic.partitions.length;
  const log = topic.partitions[partition];
  const offset = log.base + log.entries.length;
  log.entries.push({ topic: topic.name, partition, offset: String(offset), timestamp, key: record.key, value: record.value });
  return partition;
}

/** FNV-1a: stable across runs, so a key always lands on the same partition. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function joinGroup(topic: Topic, groupId: string, fromBeginning: boolean): Group {
  let group = topic.groups.get(groupId);
  if (!group) {
    const committed = topic.partitions.map((p) => (fromBeginning ? p.base : p.base + p.entries.length));
    group = { committed, members: [], durable: 0, busy: new Set() };
    topic.groups.set(groupId, group);
  }
  return group;
}

/** Drops entries every group has committed, keeping memory bounded in long embedded runs. */
function trim(topic: Topic, partition: number): void {
  const log = topic.partitions[partition];
  let min = Number.POSITIVE_INFINITY;
  for (const group of topic.groups.values()) min = Math.min(min, group.committed[partition]);
  const drop = min - log.base;
  if (drop > 0 && Number.isFinite(drop)) {
    log.entries.splice(0, drop);
    log.base += drop;
  }
}

/** Records of the partition the slowest group with a running durable member has not committed. */
function durableLag(topic: Topic, partition: number): number {
  const log = topic.partitions[partition];
  let lag = 0;
  for (const group of topic.groups.values()) if (group.durable > 0) lag = Math.max(lag, log.base + log.entries.length - group.committed[partition]);
  return lag;
}

/**
 * Past the retention cap, drops the oldest tenth, but nothing a group with a running durable member
 * has not committed (unless `force`: that group stalled past the publish wait); groups still behind
 * the new start skip ahead (and say so).
 */
function enforceRetention(topic: Topic, partition: number, force = false): void {
  const log = topic.partitions[partition];
  if (log.entries.length <= topic.maxRetained) return;
  let drop = log.entries.length - Math.floor(topic.maxRetained * 0.9);
  if (!force) for (const group of topic.groups.values()) if (group.durable > 0) drop = Math.min(drop, group.committed[partition] - log.base);
  if (drop <= 0) return;
  log.entries.splice(0, drop);
  log.base += drop;
  for (const [groupId, group] of topic.groups) {
    if (group.committed[partition] >= log.base) continue;
    topic.logger.warn({ topic: topic.name, partition, groupId, skipped: log.base - group.committed[partition] }, 'consumer group fell behind retention; skipping records');
    group.committed[partition] = log.base;
  }
}

function startConsumer(topic: Topic, sub: SubscribeOptions, ctx: { logger: Logger; retryBackoffMs: number }): Subscription {
  const group = joinGroup(topic, sub.groupId, sub.fromBeginning ?? true);
  const maxBatch = Math.max(1, sub.maxBatch ?? DEFAULT_MAX_BATCH);
  const member: Member = { owns: (p) => p % group.members.length === group.members.indexOf(member) };
  group.members.push(member);
  if (!sub.ephemeral) group.durable++;
  topic.changed.notify(); // rebalance: others re-check what they own

  let stopped = false;
  const wake = createNotifier();
  let cursor = 0;

  /** The next owned, idle partition with unconsumed records, round-robin for fairness. */
  const nextPartition = (): number | undefined => {
    const n = topic.partitions.length;
    for (let i = 0; i < n; i++) {
      const p = (cursor + i) % n;
      const log = topic.partitions[p];
      if (member.owns(p) && !group.busy.has(p) && group.committed[p] < log.base + log.entries.length) {
        cursor = p + 1;
        return p;
      }
    }
    return undefined;
  };

  const deliver = async (p: number): Promise<void> => {
    group.busy.add(p);
    let backoff = ctx.retryBackoffMs;
    try {
      while (!stopped) {
        const log = topic.partitions[p];
        const from = group.committed[p] - log.base;
        const batch = log.entries.slice(from, from + maxBatch);
        if (batch.length === 0) return;
        try {
          await sub.handleBatch(batch);
          // By offset, not count: retention may have moved the position meanwhile.
          const next = Number(batch[batch.length - 1].offset) + 1;
          group.committed[p] = Math.max(group.committed[p], next);
          trim(topic, p);
          return;
        } catch (err) {
          ctx.logger.warn({ err, topic: topic.name, partition: p, groupId: sub.groupId, backoffMs: backoff }, 'handleBatch failed; redelivering');
          await wake.wait(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      }
    } finally {
      group.busy.delete(p);
      topic.changed.notify();
    }
  };

  const loop = (async () => {
    while (!stopped) {
      const p = nextPartition();
      if (p === undefined) {
        await Promise.race([topic.changed.wait(IDLE_WAIT_MS), wake.wait(IDLE_WAIT_MS)]);
        continue;
      }
      await deliver(p);
    }
  })();

  return {
    async stop() {
      if (stopped) return loop;
      stopped = true;
      wake.notify();
      await loop;
      group.members.splice(group.members.indexOf(member), 1);
      if (!sub.ephemeral) group.durable--;
      if (sub.ephemeral && group.members.length === 0) topic.groups.delete(sub.groupId);
      topic.changed.notify();
    },
    async lagByPartition() {
      return new Map(topic.partitions.map((log, p) => [p, log.base + log.entries.length - group.committed[p]]));
    },
    async lag() {
      return topic.partitions.reduce((sum, log, p) => sum + log.base + log.entries.length - group.committed[p], 0);
    },
  };
}

interface Notifier {
  /** Resolves on the next notify() or after ms, whichever comes first. */
  wait(ms: number): Promise<void>;
  notify(): void;
}

function createNotifier(): Notifier {
  const waiters = new Set<() => void>();
  return {
    wait(ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    },
    notify() {
      for (const done of [...waiters]) done();
    },
  };
}
