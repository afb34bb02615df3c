import { Kafka, logLevel } from './kafkajs.js';

/**
 * One-shot health check for `greenlane doctor`: connect an admin client and describe the
 * cluster, with no retries and kafkajs' own logging off (doctor renders the result itself).
 */
export async function probeKafka(brokers: string[], timeoutMs = 3000): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const admin = new Kafka({
    clientId: 'greenlane-doctor',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const n = cluster.brokers.length;
    return { ok: true, detail: `${n} broker${n === 1 ? '' : 's'} (controller ${cluster.controller}, cluster ${cluster.clusterId})`, latencyMs: elapsed() };
  } catch (err) {
    return { ok: false, detail: `${brokers.join(',')}: ${(err as Error).message}`, latencyMs: elapsed() };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
