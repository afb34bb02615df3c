import { Partitioners, type Admin, type Producer, type ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createPartitionedSend } from '../../src/adapters/kafka/partitioned-send.js';

const partitions = [0, 1, 2].map((partitionId) => ({ partitionErrorCode: 0, partitionId, leader: partitionId + 1, replicas: [1, 2, 3], isr: [1, 2, 3] }));

function fakes(metadataFails = false) {
  const sends: ProducerRecord[] = [];
  const producer = { send: async (r: ProducerRecord) => void sends.push(r) } as unknown as Producer;
  const admin = async () =>
    ({
      fetchTopicMetadata: async () => {
        if (metadataFails) throw new Error('no leader yet');
        return { topics: [{ name: 't', partitions }] };
      },
    }) as unknown as Admin;
  return { sends, send: createPartitionedSend(producer, admin) };
}

describe('createPartitionedSend', () => {
  it('sends one request per partition, each message on the partition the default partitioner gives its key, in order', async () => {
    const { sends, send } = fakes();
    const records = Array.from({ length: 60 }, (_, i) => ({ key: `CAR-${i % 20}`, value: String(i) }));
    await send('t', records);
    const expected = Partitioners.DefaultPartitioner();
    expect(sends.length).toBeGreaterThan(1);
    expect(sends.every((s) => s.acks === -1 && new Set(s.messages.map((m) => m.partition)).size === 1)).toBe(true);
    for (const s of sends) for (const m of s.messages) expect(m.partition).toBe(expected({ topic: 't', partitionMetadata: partitions, message: { key: m.key, value: m.value } }));
    expect(sends.flatMap((s) => s.messages).length).toBe(60);
    // Per key, the order of the batch is kept.
    const ofCar0 = sends.flatMap((s) => s.messages).filter((m) => m.key === 'CAR-0').map((m) => Number(m.value));
    expect(ofCar0).toEqual([0, 20, 40]);
  });

  it('falls back to one plain send while the topic has no metadata', async () => {
    const { sends, send } = fakes(true);
    await send('t', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
    expect(sends).toHaveLength(1);
    expect(sends[0].messages.every((m) => m.partition === undefined)).toBe(true);
  });
});
