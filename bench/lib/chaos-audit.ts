/**
 * The chaos audit: what the batch clients had acknowledged, checked independently against the
 * topic (Kafka, read from the beginning) and the tables (PostgreSQL): lost, duplicated, booking
 * transitions present exactly once, poison records in the DLQ and not in the tables.
 */
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../../src/domain/events.js';

export interface ChaosAudit {
  /** Readings the simulator had acknowledged by the server (distinct event ids). */
  acked: number;
  /** Acknowledged readings found in the topic / persisted in the telemetry table. */
  ackedInKafka: number;
  ackedPersisted: number;
  /** Acknowledged readings missing from the topic / the table. */
  lostKafka: number;
  lostPostgres: number;
  /** Telemetry records in the topic and distinct ids among them (resends and retries repeat ids: at least once). */
  kafkaTelemetryRecords: number;
  kafkaTelemetryIds: number;
  /** Telemetry rows and rows beyond one per event_id. */
  telemetryRows: number;
  duplicateRows: number;
  /** Booking transitions (booking_* events, distinct ids) in the topic, rows for them, missing, duplicated. */
  bookingTransitions: number;
  bookingRows: number;
  bookingMissing: number;
  bookingDuplicates: number;
  /** Poison records injected, found in the DLQ, and rows that came from one. */
  poisonInjected: number;
  poisonInDlq: number;
  poisonRows: number;
}

export interface AuditInput {
  namespace: string;
  brokers: string[];
  databaseUrl: string;
  acked: ReadonlySet<string>;
  poisonIds: readonly string[];
}

interface TopicScan {
  telemetry: string[];
  bookings: Set<string>;
  dlq: string[];
}

/** Reads a topic from the beginning up to its end offsets now: every record's value. */
export async function readTopic(brokers: string[], topic: string): Promise<string[]> {
  const kafka = new Kafka({ brokers, clientId: 'chaos-audit', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const values: string[] = [];
  const remaining = new Map([...ends].filter(([, high]) => high > 0));
  if (!remaining.size) return values;
  const consumer = kafka.consumer({ groupId: `chaos-audit-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic}: ${[...remaining].map(([p, h]) => `p${p}<${h}`).join(' ')} not reached in 120 s`)), 120_000);
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (m.value) values.push(m.value.toString());
        const high = ends.get(batch.partition) ?? 0;
        const last = batch.messages.at(-1);
        if (last && Number(last.offset) + 1 >= high) remaining.delete(batch.partition);
        if (!remaining.size) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return values;
}

async function scanTopics(input: AuditInput): Promise<TopicScan> {
  const scan: TopicScan = { telemetry: [], bookings: new Set(), dlq: [] };
  for (const v of await readTopic(input.brokers, topicName(input.namespace, TOPIC_EVENTS))) {
    let e: { event_id?: string; event_type?: string };
    try {
      e = JSON.parse(v) as typeof e;
    } catch {
      continue;
    }
    if (e.event_type === 'telemetry' && e.event_id) scan.telemetry.push(e.event_id);
    else if (e.event_type?.startsWith('booking_') && e.event_id) scan.bookings.add(e.event_id);
  }
  scan.dlq = await readTopic(input.brokers, topicName(input.namespace, TOPIC_DLQ));
  return scan;
}

export async function auditChaos(input: AuditInput): Promise<ChaosAudit> {
  const scan = await scanTopics(input);
  const db = new pg.Client({ connectionString: input.databaseUrl });
  await db.connect();
  try {
    const schema = quoteIdent(input.namespace);
    const telemetryIds = (await db.query<{ event_id: string }>(`SELECT event_id FROM ${schema}.telemetry`)).rows.map((r) => r.event_id);
    const bookingIds = (await db.query<{ event_id: string }>(`SELECT event_id FROM ${schema}.bookings`)).rows.map((r) => r.event_id);
    const persisted = new Set(telemetryIds);
    const inKafka = new Set(scan.telemetry);
    const acked = [...input.acked];
    const bookingCounts = new Map<string, number>();
    for (const id of bookingIds) bookingCounts.set(id, (bookingCounts.get(id) ?? 0) + 1);
    const poisonFound = input.poisonIds.filter((id) => scan.dlq.some((v) => v.includes(id)));
    return {
      acked: acked.length,
      ackedInKafka: acked.filter((id) => inKafka.has(id)).length,
      ackedPersisted: acked.filter((id) => persisted.has(id)).length,
      lostKafka: acked.filter((id) => !inKafka.has(id)).length,
      lostPostgres: acked.filter((id) => !persisted.has(id)).length,
      kafkaTelemetryRecords: scan.telemetry.length,
      kafkaTelemetryIds: inKafka.size,
      telemetryRows: telemetryIds.length,
      duplicateRows: telemetryIds.length - persisted.size,
      bookingTransitions: scan.bookings.size,
      bookingRows: bookingIds.length,
      bookingMissing: [...scan.bookings].filter((id) => !bookingCounts.has(id)).length,
      bookingDuplicates: [...bookingCounts.values()].reduce((n, c) => n + c - 1, 0),
      poisonInjected: input.poisonIds.length,
      poisonInDlq: poisonFound.length,
      poisonRows: input.poisonIds.filter((id) => persisted.has(id)).length,
    };
  } finally {
    await db.end();
  }
}
