import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFleetState } from '../../src/adapters/memory/memory-fleet-state.js';
import { TOPIC_EVENTS } from '../../src/domain/events.js';
import { readingEventId } from '../../src/domain/telemetry.js';
import { createIngestion, type Ingestion } from '../../src/grpc/ingestion-server.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConsumedRecord, EventBus } from '../../src/ports/event-bus.js';
import { createSimulator } from '../../src/sim/simulator.js';

const TOKEN = 'sim-acks-token';

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const makeIngestion = (port: number, bus: EventBus) =>
  createIngestion({ config: { grpcHost: '127.0.0.1', grpcPort: port }, namespace: '', bus, fleet: createMemoryFleetState(), tokens: [TOKEN], logger: silentLogger, registry: new Registry(), shutdownDeadlineMs: 200 });

/** The batch simulator against an ingestion server that dies with accepted, unpublished readings (Kafka down), then comes back. */
describe('simulator: acknowledged batches across a server that lost what it had accepted', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  });

  it('resends every unacknowledged batch after the reconnect: every reading sent reaches the bus, each id once acknowledged', async () => {
    // A: the bus refuses everything (Kafka down); what A accepts is never published, never acknowledged.
    const deadBus = createMemoryEventBus();
    deadBus.publish = async () => {
      throw new Error('broker down');
    };
    let a: Ingestion = makeIngestion(0, deadBus);
    await a.start();
    const port = a.port;
    const acked = new Set<string>();
    const sim = createSimulator({ cars: 40, hz: 10, batch: true, server: `127.0.0.1:${port}`, token: TOKEN, logger: silentLogger, carsPerConnection: 20, batchSize: 15, startTime: Date.now() - 600_000,
      onAcked: (cars) => cars.forEach((c) => acked.add(readingEventId(c))) });
    stops.push(async () => void (await sim.stop()));
    await sim.start();
    await waitFor(() => a.stats().accepted >= 200, 10_000, 'A accepting');
    expect(sim.summary().acked).toBe(0);
    await a.stop(); // gives up its batches: like a kill -9, nothing it accepted is on the bus

    // B: the same address, a working bus.
    const bus = createMemoryEventBus();
    const records: ConsumedRecord[] = [];
    await bus.subscribe({ topic: TOPIC_EVENTS, groupId: 'acks', fromBeginning: true, handleBatch: async (b) => void records.push(...b) });
    a = makeIngestion(port, bus);
    await a.start();
    stops.push(() => a.stop());
    await waitFor(() => sim.summary().reconnects >= 2 && sim.summary().acked > 400, 20_000, 'reconnect and acks from B');
    const summary = await sim.stop();
    await waitFor(() => sim.summary().unacked === 0 || records.length >= summary.sent, 5_000, 'last acks');
    expect(summary.resent).toBeGreaterThanOrEqual(200);
    const onBus = new Set(records.map((r) => (JSON.parse(r.value) as { event_id: string }).event_id));
    // Every reading the simulator sent — the ones A lost included — is on B's bus, under its stable id.
    expect(onBus.size).toBe(summary.sent);
    for (const id of acked) expect(onBus.has(id)).toBe(true);
    expect(acked.size + summary.unacked).toBe(summary.sent);
  }, 60_000);
});
