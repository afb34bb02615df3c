import { Kafka, Partitioners, logLevel, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry } from './kafkajs.js';
import type { Logger } from 'pino';
import { EngineUnreachableError } from '../../errors.js';
import { silentLogger } from '../../observability/logger.js';
import { createPartitionedSend } from './partitioned-send.js';
import { DEFAULT_DEAD_AFTER_MS, superviseConsumer } from './supervised-consumer.js';
import type { ConsumedRecord, EventBus, SubscribeOptions, Subscription } from '../../ports/event-bus.js';

export interface KafkaConsumerTuning {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long a fetch waits for data; bounds end-to-end latency on a quiet topic. */
  maxWaitTimeMs?: number;
  /** A consumer with no sign of life for this long (ms) while no batch is being handled is replaced (default 30 s). */
  deadAfterMs?: number;
  /** Called with every kafkajs consumer a subscription opens, replacements included (tests break one on purpose). */
  onConsumer?: (consumer: Consumer) => void;
}

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId?: string;
  logger?: Logger;
  /** Upper bound for connecting the producer; an unreachable broker fails within it. */
  connectTimeoutMs?: number;
  /** Partitions for topics created by ensureTopics (default 3). */
  topicPartitions?: number;
  /**
   * Replication factor for topics created by ensureTopics; 0 or unset: 3 when the cluster has 3 or more brokers,
   * else 1. With 3 or more, min.insync.replicas is 2: with acks -1 a write is acknowledged once two brokers hold it.
   */
  topicReplication?: number;
  /** Idempotent producer (acks -1, one request in flight per broker). Default true. */
  idempotent?: boolean;
  consumer?: KafkaConsumerTuning;
}

const DEFAULT_CONSUMER: Required<Omit<KafkaConsumerTuning, 'onConsumer'>> = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, maxWaitTimeMs: 500, deadAfterMs: DEFAULT_DEAD_AFTER_MS };
const DEFAULT_MAX_BATCH = 500;
const MAX_BACKOFF_MS = 2_000;

/** kafkajs warns about this on every idempotent producer with bounded retries; we bound them on purpose. */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];
/**
 * Logged by kafkajs when two processes create the same topic at once; ensureTopics tolerates
 * TOPIC_ALREADY_EXISTS and rethrows anything else, so the log line adds nothing.
 */
const EXPECTED_ERRORS = ['Topic creation errors'];

/**
 * Kafka through kafkajs. The producer is connected before this resolves (EngineUnreachableError
 * otherwise). Consumers commit only after handleBatch resolves; a throwing handler gets the same
 * records again, in place, after a short backoff.
 */
export async function createKafkaEventBus(opts: KafkaEventBusOptions): Promise<EventBus> {
  const logger = opts.logger ?? silentLogger;
  const address = opts.brokers.join(',');
  const idempotent = opts.idempotent ?? true;
  const { onConsumer, ...consumerTuning } = opts.consumer ?? {};
  const tuning = { ...DEFAULT_CONSUMER, ...consumerTuning };
  // While the factory connects, failures surface once as EngineUnreachableError, not as a retry log per attempt.
  const phase = { connecting: true };
  const kafka = new Kafka({
    clientId: opts.clientId ?? 'greenlane',
    brokers: opts.brokers,
    connectionTimeout: 3_000,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger, phase),
    // Short retries so an unreachable broker fails within seconds rather than minutes.
    retry: { initialRetryTime: 250, maxRetryTime: 2_000, retries: 5 },
  });
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : undefined,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Bounded, so a publish to a dead cluster rejects (~25 s) instead of hanging forever.
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  });
  await connectOrThrow(() => producer.connect(), () => producer.disconnect(), address, opts.connectTimeoutMs ?? 10_000);
  phase.connecting = false;

  const admin = lazyAdmin(kafka, address, opts.connectTimeoutMs ?? 10_000);
  const send = createPartitionedSend(producer, admin.get);
  const subscriptions = new Set<Subscription>();

  return {
    kind: 'kafka',

    async publish(topic, records) {
      if (records.length === 0) return;
      await send(topic, records);
    },

    async subscribe(sub) {
      const subscription = await startConsumer(kafka, sub, { logger, tuning, address, admin: admin.get, onConsumer });
      subscriptions.add(subscription);
      return {
        lag: subscription.lag,
        lagByPartition: subscription.lagByPartition,
        health: subscription.health,
        stop: async () => {
          subscriptions.delete(subscription);
          await subscription.stop();
        },
      };
    },

    async ensureTopics(topics) {
      await createMissingTopics(await admin.get(), topics, opts.topicPartitions ?? 3, opts.topicReplication ?? 0);
    },

    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
      await producer.disconnect();
      await admin.close();
    },
  };
}

/** One admin client, connected on first use; a failed connect is retried by the next caller. */
function lazyAdmin(kafka: Kafka, address: string, connectTimeoutMs: number): { get(): Promise<Admin>; close(): Promise<void> } {
  let admin: Promise<Admin> | undefined;
  return {
    get() {
      admin ??= (async () => {
        const client = kafka.admin();
        await connectOrThrow(() => client.connect(), () => client.disconnect(), address, connectTimeoutMs);
        return client;
      })().catch((err) => {
        admin = undefined;
        throw err;
      });
      return admin;
    },
    async close() {
      if (admin) await (await admin.catch(() => undefined))?.disconnect();
    },
  };
}

async function createMissingTopics(client: Admin, topics: string[], numPartitions: number, replication: number): Promise<void> {
  // Only ask for missing topics: kafkajs logs a warning for every "already exists" answer.
  const existing = new Set(await client.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  const replicationFactor = missing.length ? replication || ((await client.describeCluster()).brokers.length >= 3 ? 3 : 1) : 1;
  const configEntries = replicationFactor >= 3 ? [{ name: 'min.insync.replicas', value: '2' }] : [];
  for (const topic of missing) {
    try {
      // Not kafkajs' own wait for leaders: it gives up on the first "This server does not host this
      // topic-partition" (KRaft answers that while the new topic's metadata spreads), which made
      // the first start against a fresh namespace exit 1. waitForLeaders below polls through it.
      await client.createTopics({ topics: [{ topic, numPartitions, replicationFactor, configEntries }], waitForLeaders: false });
    } catch (err) {
      // Another process may have created it between our metadata read and the request.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }
  // Whoever created it, a fresh topic serves only once every partition has a leader: a consumer
  // subscribing before that fails with "This server does not host this topic-partition".
  if (missing.length) await waitForLeaders(client, missing, TOPIC_READY_TIMEOUT_MS);
}

const TOPIC_READY_TIMEOUT_MS = 30_000;

/** Polls until each topic's offsets can be read on every partition (each has a leader), or throws after timeoutMs. */
async function waitForLeaders(client: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const topic of topics) {
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        const offsets = await client.fetchTopicOffsets(topic);
        if (offsets.length > 0) break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms: ${(err as Error).message}`);
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no partitions after ${timeoutMs} ms`);
      await sleep(delay);
    }
  }
}

interface ConsumerContext {
  logger: Logger;
  tuning: Required<Omit<KafkaConsumerTuning, 'onConsumer'>>;
  onConsumer?: (consumer: Consumer) => void;
  address: string;
  admin: () => Promise<Admin>;
}

async function startConsumer(kafka: Kafka, sub: SubscribeOptions, ctx: ConsumerContext): Promise<Subscription> {
  const fromBeginning = sub.fromBeginning ?? true;
  const activity = { busy: 0 };
  const open = async (): Promise<Consumer> => {
    const consumer = kafka.consumer({
      groupId: sub.groupId,
      sessionTimeout: ctx.tuning.sessionTimeoutMs,
      heartbeatInterval: ctx.tuning.heartbeatIntervalMs,
      maxWaitTimeInMs: ctx.tuning.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    await connectOrThrow(() => consumer.connect(), () => consumer.disconnect(), ctx.address, 10_000);
    // The catch is attached at once: if subscribe/run throw below, a later join timeout must not be unhandled.
    const joined = waitForJoin(consumer, ctx.tuning.sessionTimeoutMs + 20_000).catch((err: Error) => err);
    try {
      await consumer.subscribe({ topics: [sub.topic], fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Partitions handled concurrently overlap their store round trips; each partition stays in order.
        partitionsConsumedConcurrently: Math.max(1, Math.floor(sub.concurrentPartitions ?? 1)),
        eachBatch: async (payload) => {
          activity.busy++;
          try {
            await consumeBatch(payload, sub, ctx.logger);
          } finally {
            activity.busy--;
          }
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    const joinError = await joined;
    if (joinError) ctx.logger.warn({ err: joinError, topic: sub.topic, groupId: sub.groupId }, 'consumer has not joined its group yet');
    return consumer;
  };
  const supervised = await superviseConsumer({
    open,
    logger: ctx.logger,
    topic: sub.topic,
    groupId: sub.groupId,
    deadAfterMs: ctx.tuning.deadAfterMs,
    busy: () => activity.busy,
    onConsumer: ctx.onConsumer,
  });

  let stopping: Promise<void> | undefined;
  return {
    // disconnect() stops fetching, waits for the in-flight eachBatch (which commits) and leaves the group.
    stop: () => (stopping ??= supervised.stop().then(() => (sub.ephemeral ? forgetGroup(ctx.admin, sub.groupId, ctx.logger) : undefined))),
    lag: async () => {
      const byPartition = await groupLag(ctx.admin, sub.groupId, sub.topic, fromBeginning);
      return byPartition && [...byPartition.values()].reduce((a, b) => a + b, 0);
    },
    lagByPartition: () => groupLag(ctx.admin, sub.groupId, sub.topic, fromBeginning),
    health: () => supervised.health(),
  };
}

/** Resolves on the consumer's first GROUP_JOIN so callers start in a stable group. */
function waitForJoin(consumer: Consumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no group join within ${timeoutMs} ms`)), timeoutMs);
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, () => done());
    const removeCrash = consumer.on(consumer.events.CRASH, (event) => done(event.payload.error));
    function done(err?: Error): void {
      clearTimeout(timer);
      removeJoin();
      removeCrash();
      if (err) reject(err);
      else resolve();
    }
  });
}

/**
 * Hands the fetched batch over in chunks of maxBatch and resolves each chunk once it is handled;
 * commits once per fetched batch (one round trip instead of one per chunk), and also when it stops
 * early, so what was handled is not redelivered to the next owner.
 */
async function consumeBatch(payload: EachBatchPayload, sub: SubscribeOptions, logger: Logger): Promise<void> {
  const { batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, heartbeat, isRunning, isStale } = payload;
  const maxBatch = Math.max(1, sub.maxBatch ?? DEFAULT_MAX_BATCH);
  let resolved = false;
  for (let start = 0; start < batch.messages.length; start += maxBatch) {
    if (!isRunning() || isStale()) break;
    const records = batch.messages.slice(start, start + maxBatch).map((m) => toConsumed(batch.topic, batch.partition, m));
    const handled = await handleUntilDone(records, sub, payload, logger);
    // Not handled means we are stopping or lost the partition: leave the rest for the next owner.
    if (!handled) break;
    resolveOffset(records[records.length - 1].offset);
    resolved = true;
    await heartbeat();
  }
  // A stale batch belongs to a partition we lost: its new owner commits.
  if (resolved && !isStale()) await commitOffsetsIfNecessary(uncommittedOffsets());
}

/**
 * Retries a throwing handler in place with backoff (heartbeating so the group keeps us), which
 * redelivers exactly the same records. Gives up only when the consumer stops or is rebalanced.
 */
async function handleUntilDone(records: ConsumedRecord[], sub: SubscribeOptions, payload: EachBatchPayload, logger: Logger): Promise<boolean> {
  let backoff = 100;
  for (;;) {
    try {
      await sub.handleBatch(records);
      return true;
    } catch (err) {
      const { topic, partition, offset } = records[0];
      logger.warn({ err, topic, partition, offset, groupId: sub.groupId, backoffMs: backoff }, 'handleBatch failed; redelivering');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      if (!payload.isRunning() || payload.isStale()) return false;
      await payload.heartbeat();
    }
  }
}

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return { topic, partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key?.toString() ?? '', value: m.value?.toString() ?? '' };
}

/** Records between the group's committed offsets and the partition heads, by partition. */
async function groupLag(admin: () => Promise<Admin>, groupId: string, topic: string, fromBeginning: boolean): Promise<Map<number, number> | undefined> {
  try {
    const client = await admin();
    const [heads, [committed]] = await Promise.all([client.fetchTopicOffsets(topic), client.fetchOffsets({ groupId, topics: [topic] })]);
    const committedBy = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
    return new Map(
      heads.map((head) => {
        const at = committedBy.get(head.partition) ?? -1;
        // No commit yet: the group starts at the low watermark (earliest) or at the head (latest).
        const from = at >= 0 ? at : fromBeginning ? Number(head.low) : Number(head.high);
        return [head.partition, Math.max(0, Number(head.high) - from)];
      }),
    );
  } catch {
    return undefined;
  }
}

/** Best effort: a throw-away group left behind only costs broker metadata. */
async function forgetGroup(admin: () => Promise<Admin>, groupId: string, logger: Logger): Promise<void> {
  try {
    await (await admin()).deleteGroups([groupId]);
  } catch (err) {
    logger.debug({ err, groupId }, 'could not delete ephemeral consumer group');
  }
}

async function connectOrThrow(connect: () => Promise<void>, disconnect: () => Promise<void>, address: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([connect(), timeout]);
  } catch (err) {
    await disconnect().catch(() => {});
    throw new EngineUnreachableError('Kafka', address, err);
  } finally {
    clearTimeout(timer);
  }
}

/** Routes kafkajs logs to pino; its chatty INFO becomes debug, and its ERRORs (mostly retried) warn. */
function pinoLogCreator(logger: Logger, phase: { connecting: boolean }) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      const expected = EXPECTED_WARNINGS.some((w) => message.startsWith(w)) || EXPECTED_ERRORS.includes(String((extra as { error?: unknown }).error));
      if (phase.connecting || expected) logger.debug(fields, message);
      else if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
