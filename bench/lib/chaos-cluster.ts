/**
 * Chaos on the clusters of scripts/engines.sh (`start clusters`): kill -9 the Kafka broker leading the
 * namespace's events partition 0, or the Redis master holding the namespace's slot, measure the
 * failover (a new leader / the replica promoted and answering), and start the node again afterwards.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { redisKeyPrefix } from '../../src/adapters/redis/client.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { parseRedisClusterUrl } from '../../src/util/redis-url.js';
import { repoRoot } from '../../test/helpers/run-cli.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENGINES = `${repoRoot}/scripts/engines.sh`;

export type ClusterNode = 'kafka-broker' | 'redis-master';

export interface KilledNode {
  /** What was killed, e.g. "kill -9 kafka broker 2 (leader of …-events/0)". */
  name: string;
  /** From the kill to a new leader (Kafka) / the promoted replica serving the slot (Redis), ms. */
  failoverMs: number;
  /** Starts the killed node again (idempotent start of its cluster) and waits until the cluster is whole. */
  restart(): Promise<void>;
}

export async function killClusterNode(node: ClusterNode, o: { namespace: string; brokers: string[]; redisUrl: string }): Promise<KilledNode> {
  return node === 'kafka-broker' ? killKafkaLeader(o.namespace, o.brokers) : killRedisMaster(o.namespace, o.redisUrl);
}

async function pidOf(engine: 'kafka-cluster' | 'redis-cluster', which: number): Promise<number> {
  const { stdout } = await run('bash', [ENGINES, 'pid', engine, String(which)], { cwd: repoRoot });
  const pid = Number(stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for ${engine} ${which}: "${stdout.trim()}"`);
  return pid;
}

async function restartEngine(engine: 'kafka-cluster' | 'redis-cluster'): Promise<void> {
  await run('bash', [ENGINES, 'start', engine], { cwd: repoRoot, timeout: 180_000 });
}

async function killKafkaLeader(namespace: string, brokers: string[]): Promise<KilledNode> {
  const topic = topicName(namespace, TOPIC_EVENTS);
  const admin = new Kafka({ brokers, clientId: 'chaos-cluster', logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    const leaderOf0 = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.find((p) => p.partitionId === 0)!;
    const before = await leaderOf0();
    const pid = await pidOf('kafka-cluster', before.leader);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    let failoverMs = -1;
    while (Date.now() - t0 < 60_000) {
      const p = await leaderOf0().catch(() => undefined);
      if (p && p.leader !== before.leader && p.leader >= 0) {
        failoverMs = Date.now() - t0;
        break;
      }
      await sleep(100);
    }
    return { name: `kill -9 kafka broker ${before.leader} (leader of ${topic}/0)`, failoverMs, restart: () => restartEngine('kafka-cluster') };
  } finally {
    await admin.disconnect();
  }
}

async function killRedisMaster(namespace: string, url: string): Promise<KilledNode> {
  const target = parseRedisClusterUrl(url);
  const seeds = target.nodes;
  const probe = new Cluster(seeds, { redisOptions: { username: target.username, password: target.password } });
  probe.on('error', () => {}); // its connection to the master killed below drops: expected
  try {
    const slot = Number(await probe.cluster('KEYSLOT', `${redisKeyPrefix(namespace, true)}x`));
    const masterOf = async (): Promise<string> => {
      // CLUSTER SLOTS from a node that is alive: [[from, to, [host, port, id], replicas…], …]
      for (const s of seeds) {
        const r = new Redis(s.port, s.host, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null, username: target.username, password: target.password });
        try {
          await r.connect();
          const ranges = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
          const hit = ranges.find(([from, to]) => slot >= from && slot <= to);
          if (hit) return `${hit[2][0]}:${hit[2][1]}`;
        } catch {
          // that seed is the dead one: ask the next
        } finally {
          r.disconnect();
        }
      }
      return '';
    };
    const before = await masterOf();
    const port = Number(before.split(':')[1]);
    const pid = await pidOf('redis-cluster', port);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    let failoverMs = -1;
    while (Date.now() - t0 < 60_000) {
      const now = await masterOf();
      if (now && now !== before) {
        failoverMs = Date.now() - t0;
        break;
      }
      await sleep(100);
    }
    return { name: `kill -9 redis master ${before} (slot ${slot} of {${namespace}})`, failoverMs, restart: () => restartEngine('redis-cluster') };
  } finally {
    probe.disconnect();
  }
}
