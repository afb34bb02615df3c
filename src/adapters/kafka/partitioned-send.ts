import { Partitioners, type Admin, type Message, type PartitionMetadata, type Producer } from 'kafkajs';

/** How long a topic's partition list is reused before it is read again (a topic may gain partitions). */
const METADATA_TTL_MS = 60_000;

/**
 * Publishes a batch as one `producer.send` per partition, each message given the partition kafkajs' default
 * partitioner would give it (same key → same partition, so per-key order is unchanged).
 *
 * Why: kafkajs 2.2.4 drops messages on a retry (node_modules/kafkajs/src/producer/sendMessages.js). A send that spans
 * several partition leaders keeps the answers per broker; when one leader dies, the retry sends only to brokers that
 * have not answered yet, so the dead leader's partitions, now led by a broker that already answered, are never sent
 * again — and send() resolves. With acks -1 that is an acknowledged write that is not in Kafka: 27 readings lost when
 * a broker was killed under load (docs/SCALING.md, test/integration/clusters.int.test.ts). A send with one partition
 * has one leader, so its retry always goes to the new one.
 */
export function createPartitionedSend(producer: Producer, admin: () => Promise<Admin>): (topic: string, records: { key: string; value: string }[]) => Promise<void> {
  const partitioner = Partitioners.DefaultPartitioner();
  const cache = new Map<string, { at: number; partitions: PartitionMetadata[] }>();

  async function partitionsOf(topic: string): Promise<PartitionMetadata[] | undefined> {
    const hit = cache.get(topic);
    if (hit && Date.now() - hit.at < METADATA_TTL_MS) return hit.partitions;
    try {
      const meta = await (await admin()).fetchTopicMetadata({ topics: [topic] });
      const partitions = meta.topics[0]?.partitions.map((p) => ({ ...p, partitionErrorCode: p.partitionErrorCode ?? 0 })) ?? [];
      if (partitions.length === 0) return hit?.partitions;
      cache.set(topic, { at: Date.now(), partitions });
      return partitions;
    } catch {
      return hit?.partitions; // no metadata yet (or admin unreachable): the caller sends as one request
    }
  }

  return async (topic, records) => {
    const partitions = await partitionsOf(topic);
    if (!partitions) {
      await producer.send({ topic, acks: -1, messages: records.map((r) => ({ key: r.key, value: r.value })) });
      return;
    }
    const groups = new Map<number, Message[]>();
    for (const r of records) {
      const message: Message = { key: r.key, value: r.value };
      const partition = partitioner({ topic, partitionMetadata: partitions, message });
      const group = groups.get(partition);
      if (group) group.push({ ...message, partition });
      else groups.set(partition, [{ ...message, partition }]);
    }
    await Promise.all([...groups.values()].map((messages) => producer.send({ topic, acks: -1, messages })));
  };
}
