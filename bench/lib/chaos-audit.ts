/**
 * The chaos audit: what the batch clients had acknowledged, checked independently against the
 * topic (Kafka, read from the beginning) and the tables (PostgreSQL): lost, duplicated, booking
 * transitions present exactly once, no station over its ports (a replay of the booking log), poison
 * records in the DLQ and not in the tables.
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
  /** Up to 10 of the acknowledged ids missing from the topic (car@timestamp), to place a loss in time. */
  lostKafkaSample: string[];
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
  /** Booking transition records in the topic beyond one per event id (the relay is at least once; the worker dedups). */
  bookingKafkaDuplicates: number;
  /** Booking rows whose event is not in the topic (written from nowhere). */
  bookingOrphans: number;
  /** Port-capacity replay of the booking and charging events in the topic: moments a station had more bookings on ports than ports, and the worst excess. */
  overCapacity: number;
  worstExcess: number;
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
  /** Ports per station, for the capacity replay. */
  ports: ReadonlyMap<string, number>;
}

interface TopicScan {
  telemetry: string[];
  bookings: Set<string>;
  bookingRecords: number;
  /** Booking and charging events, first copy of each id: the capacity replay's input. */
  transitions: TransitionRecord[];
  dlq: string[];
}

interface TransitionRecord {
  event_id: string;
  event_type: string;
  booking_id?: string;
  station_id?: string;
  timestamp: number;
}

/** Event types that put a booking on a port, and those that take it off. */
const ON_PORT: Record<string, 'held' | 'charging'> = { booking_confirmed: 'held', charging_started: 'charging' };
const OFF_PORT = new Set(['booking_cancelled', 'booking_expired', 'charging_completed', 'booking_queued']);

/**
 * Replays the booking log in time order (a port freed and taken in the same millisecond: freed first)
 * and counts each moment a station had more bookings on its ports than it has ports.
 */
export function replayCapacity(events: readonly TransitionRecord[], ports: ReadonlyMap<string, number>): { overCapacity: number; worstExcess: number } {
  const rank = (e: TransitionRecord) => (OFF_PORT.has(e.event_type) ? 0 : 1);
  const ordered = [...events].sort((a, b) => a.timestamp - b.timestamp || rank(a) - rank(b));
  const onPort = new Map<string, string>(); // booking -> station
  const used = new Map<string, number>();
  let overCapacity = 0;
  let worstExcess = 0;
  for (const e of ordered) {
    const booking = e.booking_id ?? e.event_id;
    const was = onPort.get(booking);
    if (was !== undefined && (OFF_PORT.has(e.event_type) || (ON_PORT[e.event_type] && e.station_id && e.station_id !== was))) {
      onPort.delete(booking);
      used.set(was, (used.get(was) ?? 1) - 1);
    }
    if (ON_PORT[e.event_type] && e.station_id && !onPort.has(booking)) {
      onPort.set(booking, e.station_id);
      const n = (used.get(e.station_id) ?? 0) + 1;
      used.set(e.station_id, n);
      const excess = n - (ports.get(e.station_id) ?? Infinity);
      if (excess > 0) {
        overCapacity++;
        worstExcess = Math.max(worstExcess, excess);
      }
    }
  }
  return { overCapacity, worstExcess };
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
  const scan: TopicScan = { telemetry: [], bookings: new Set(), bookingRecords: 0, transitions: [], dlq: [] };
  const seen = new Set<string>();
  for (const v of await readTopic(input.brokers, topicName(input.namespace, TOPIC_EVENTS))) {
    let e: Partial<TransitionRecord>;
    try {
      e = JSON.parse(v) as typeof e;
    } catch {
      continue;
    }
    if (e.event_type === 'telemetry' && e.event_id) scan.telemetry.push(e.event_id);
    else if (e.event_type?.startsWith('booking_') && e.event_id) {
      scan.bookings.add(e.event_id);
      scan.bookingRecords++;
    }
    if (e.event_id && e.event_type && (e.event_type.startsWith('booking_') || e.event_type.startsWith('charging_')) && !seen.has(e.event_id)) {
      seen.add(e.event_id);
      scan.transitions.push({ event_id: e.event_id, event_type: e.event_type, booking_id: e.booking_id, station_id: e.station_id, timestamp: Number(e.timestamp) });
    }
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
      lostKafkaSample: acked.filter((id) => !inKafka.has(id)).slice(0, 10),
      kafkaTelemetryRecords: scan.telemetry.length,
      kafkaTelemetryIds: inKafka.size,
      telemetryRows: telemetryIds.length,
      duplicateRows: telemetryIds.length - persisted.size,
      bookingTransitions: scan.bookings.size,
      bookingRows: bookingIds.length,
      bookingMissing: [...scan.bookings].filter((id) => !bookingCounts.has(id)).length,
      bookingDuplicates: [...bookingCounts.values()].reduce((n, c) => n + c - 1, 0),
      bookingKafkaDuplicates: scan.bookingRecords - scan.bookings.size,
      bookingOrphans: [...bookingCounts.keys()].filter((id) => !scan.bookings.has(id)).length,
      ...replayCapacity(scan.transitions, input.ports),
      poisonInjected: input.poisonIds.length,
      poisonInDlq: poisonFound.length,
      poisonRows: input.poisonIds.filter((id) => persisted.has(id)).length,
    };
  } finally {
    await db.end();
  }
}
