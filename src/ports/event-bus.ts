/** A record on the bus: key orders per car, value is the JSON payload. */
export interface BusRecord {
  key: string;
  value: string;
}

export interface ConsumedRecord extends BusRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker/append time, Unix ms. */
  timestamp: number;
}

export interface SubscribeOptions {
  topic: string;
  groupId: string;
  /** Start at the earliest offset when the group has no commit (default true). */
  fromBeginning?: boolean;
  /**
   * Handles a batch of records from one partition, in order. Offsets are committed only after it
   * resolves; if it throws, the batch is delivered again (at-least-once).
   */
  handleBatch: (records: ConsumedRecord[]) => Promise<void>;
  /** Max records per batch (a hint). */
  maxBatch?: number;
  /**
   * Lets handleBatch run for up to this many partitions at once (a hint; default 1). Order within
   * a partition is kept; only a handler that is safe to call concurrently should ask.
   */
  concurrentPartitions?: number;
  /**
   * A throw-away group (a watcher, a tail session): forgotten when its last member stops, so it
   * neither holds back the in-memory log nor accumulates on the broker.
   */
  ephemeral?: boolean;
}

/** Whether a subscription is consuming now (a bus whose consumer can crash says so). */
export interface ConsumerHealth {
  consuming: boolean;
  /** Why not (a crash, a replacement in progress). */
  reason?: string;
  /** Consumers replaced so far after a crash or going silent. */
  restarts: number;
}

export interface Subscription {
  /** Stops fetching, lets the in-flight batch finish and commits it. */
  stop(): Promise<void>;
  /** Records behind the head across partitions (undefined when unknown). */
  lag(): Promise<number | undefined>;
  /** Records behind the head, by partition (undefined when unknown; optional for a bus). */
  lagByPartition?(): Promise<Map<number, number> | undefined>;
  /** Consuming now, or why not (optional for a bus). */
  health?(): ConsumerHealth;
}

export interface EventBus {
  readonly kind: 'memory' | 'kafka';
  /** Resolves once the records are durable on the bus (acked). Order per key is kept. */
  publish(topic: string, records: BusRecord[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  /** Creates topics if missing (no-op where topics are implicit). */
  ensureTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}
