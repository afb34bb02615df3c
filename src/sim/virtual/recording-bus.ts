import type { LoggedEvent } from '../../domain/audit.js';
import type { BusRecord, EventBus } from '../../ports/event-bus.js';

/**
 * A tiny in-process EventBus that only keeps what is published, in order: the event log the
 * audit (src/domain/audit.ts) replays. Nothing subscribes in a virtual run (decisions reach the
 * cars through the coordinator's deliver callback), so subscribe is a no-op.
 */
export interface RecordingBus extends EventBus {
  events(): LoggedEvent[];
}

export function createRecordingBus(): RecordingBus {
  const log: LoggedEvent[] = [];
  return {
    kind: 'memory',
    async publish(_topic: string, records: BusRecord[]) {
      for (const r of records) log.push(JSON.parse(r.value) as LoggedEvent);
    },
    async subscribe() {
      return { stop: async () => undefined, lag: async () => 0 };
    },
    async ensureTopics() {},
    async close() {},
    events: () => log,
  };
}
