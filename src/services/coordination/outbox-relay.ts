import type { BookingEvent } from '../../domain/events.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { OutboxEntry, Reservations } from '../../ports/reservations.js';

export interface OutboxRelayDeps {
  reservations: Pick<Reservations, 'readOutbox' | 'ackOutbox' | 'leaseOutbox' | 'outboxDepth'>;
  bus: Pick<EventBus, 'publish'>;
  topic: string;
  /** This relay's name for the lease (the coordinator's instance id). */
  owner: string;
  /** The event of an entry (a transition is priced and shaped here; an event is taken as it is). */
  eventFor: (entry: OutboxEntry) => Promise<BookingEvent>;
  /** Called with what was published (after the broker acknowledged it). */
  onPublished?: (events: BookingEvent[]) => void;
  /** Told the outbox depth after each pass (the gauge). */
  onDepth?: (depth: number) => void;
  logger: Pick<Logger, 'info' | 'warn'>;
  batch?: number;
  leaseMs?: number;
}

/**
 * Publishes the reservations' outbox to the bus at least once: read the oldest entries, publish,
 * and delete them only once the broker acknowledged. A crash or a broker outage in between leaves
 * them in the outbox for the next pass (here or in another instance); a re-publish carries the same
 * event ids, which the worker dedups on. A lease keeps one relay active across instances; if two
 * overlap (a lease lapsing mid-publish), the duplicates carry the same ids.
 */
export class OutboxRelay {
  private running: Promise<number> | null = null;
  private next: Promise<number> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly o: OutboxRelayDeps) {}

  /** Polls the outbox every `intervalMs` (entries written by other instances, retries after an outage). */
  start(intervalMs = 200): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.kick(), intervalMs);
    this.timer.unref?.();
  }

  /** Stops polling, after one last pass (waited for at most `drainMs`). */
  async stop(drainMs = 2_000): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.kick(), new Promise((r) => (t = setTimeout(r, drainMs)))]);
    clearTimeout(t);
  }

  /**
   * Runs a pass that starts after this call (so what was appended before it is included), one pass
   * at a time. Resolves with the entries published; never rejects (a failure is logged, retried later).
   */
  kick(): Promise<number> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.next ??= this.running.then(() => {
      this.next = null;
      return this.kick();
    });
    return this.next;
  }

  /** Publishes until the outbox is empty (or a batch fails). */
  private async pass(): Promise<number> {
    const { reservations, bus, topic, owner } = this.o;
    const batch = this.o.batch ?? 500;
    let published = 0;
    try {
      for (;;) {
        if (!(await reservations.leaseOutbox(owner, this.o.leaseMs ?? 10_000))) return published;
        const entries = await reservations.readOutbox(null, batch);
        if (entries.length === 0) break;
        const events = await Promise.all(entries.map((e) => this.o.eventFor(e)));
        await bus.publish(topic, events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
        await reservations.ackOutbox(entries.map((e) => e.id));
        published += entries.length;
        this.o.onPublished?.(events);
        if (entries.length < batch) break;
      }
      if (this.failing) this.o.logger.info({ published }, 'outbox relay publishing again');
      this.failing = false;
    } catch (err) {
      // Nothing is lost: the entries stay in the outbox until a pass publishes them.
      if (!this.failing) this.o.logger.warn({ err }, 'outbox relay cannot publish; booking events wait in the outbox');
      this.failing = true;
    }
    if (this.o.onDepth) await reservations.outboxDepth().then(this.o.onDepth, () => undefined);
    return published;
  }
}
