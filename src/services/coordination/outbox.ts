import type { Decision } from '../../domain/booking-request.js';
import type { BookingEvent } from '../../domain/events.js';
import type { Logger } from '../../observability/logger.js';
import type { OutboxEntry, Reservations, Transition } from '../../ports/reservations.js';
import { completedEvent, decisionFromEvent, sessionStartMs, transitionEvent, transitionEventId } from './event-codec.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { PriceCache } from './price-cache.js';

export interface OutboxDeps {
  /** Where events that change no reservation are appended (transitions are there already). */
  reservations: Pick<Reservations, 'appendOutbox'>;
  instanceId: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  metrics: Pick<CoordinatorMetrics, 'bookings'>;
  prices: Pick<PriceCache, 'current' | 'over'>;
  capacityKwh: number;
  /** The car's last reported battery (ends a session's energy). */
  lastBattery: (carId: string) => number | undefined;
  /** Pushes a decision to the car's stream here. */
  deliver?: (carId: string, decision: Decision) => boolean | void;
  /** How long a caller waits for the relay to publish what it just wrote (it answers anyway after). */
  publishWaitMs?: number;
}

/** Events built here, by id, so the relay publishes what the car was told (bounded). */
const BUILT_MAX = 10_000;
/** Decisions already pushed here, by event id, so one coming back on the bus is not pushed twice. */
const PUSHED_MAX = 10_000;

/**
 * Everything the coordinator tells the world. The reservation change already wrote its transition
 * to the reservations' outbox; here each becomes a booking event (priced now), its decision goes to
 * the car at once (the answer never waits on the bus), and the relay publishes the outbox to the bus
 * at least once. Callers wait for that publish at most `publishWaitMs`.
 */
export class Outbox {
  private readonly subscribers = new Set<(d: Decision) => void>();
  private readonly built = new Map<string, BookingEvent>();
  private readonly pushed = new Set<string>();
  private flush: () => Promise<unknown> = async () => {};

  constructor(private readonly o: OutboxDeps) {}

  /** The relay that publishes the outbox (kicked after each write). */
  attachRelay(kick: () => Promise<unknown>): void {
    this.flush = kick;
  }

  subscribe(fn: (d: Decision) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** A decision to the car's stream and the subscribers (a failing deliver is logged, never thrown). */
  push(d: Decision): void {
    try {
      this.o.deliver?.(d.carId, d);
    } catch (err) {
      this.o.logger.warn({ err, carId: d.carId }, 'deliver failed');
    }
    for (const fn of this.subscribers) fn(d);
  }

  /** A decision another instance took, from the bus: pushed unless it was pushed here already. */
  pushFromBus(d: Decision): void {
    if (!this.pushed.has(`${d.bookingId}:${d.eventType}`)) this.push(d);
  }

  /** Events that change no reservation (booking_failed, battery_critical): into the outbox, then told. */
  async emit(events: BookingEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.o.reservations.appendOutbox(events);
    } catch (err) {
      this.o.logger.error({ err, events: events.map((e) => e.event_id) }, 'could not write coordination events to the outbox');
    }
    this.announce(events);
    await this.waitForPublish();
  }

  /** One event per reservation transition (already in the outbox), priced now; decisions go out at once. */
  async emitTransitions(transitions: Transition[]): Promise<void> {
    if (transitions.length === 0) return;
    const events: BookingEvent[] = [];
    for (const t of transitions) {
      const e = await this.eventOf(t);
      remember(this.built, e.event_id, e, BUILT_MAX);
      events.push(e);
      logTransition(this.o.logger, t);
    }
    this.announce(events);
    await this.waitForPublish();
  }

  /** The event an outbox entry is published as: the one built when it happened here, else built now. */
  async eventFor(entry: OutboxEntry): Promise<BookingEvent> {
    if (entry.event) return entry.event;
    const t = entry.transition!;
    return this.built.get(transitionEventId(t)) ?? (await this.eventOf(t));
  }

  /** The relay published these: their cached copies are no longer needed. */
  published(events: BookingEvent[]): void {
    for (const e of events) this.built.delete(e.event_id);
  }

  private announce(events: BookingEvent[]): void {
    for (const e of events) {
      this.o.metrics.bookings.inc({ status: e.event_type.replace(/^booking_/, '') });
      const d = decisionFromEvent(e);
      if (!d) continue;
      remember(this.pushed, e.event_id, undefined, PUSHED_MAX);
      this.push(d);
    }
  }

  private async waitForPublish(): Promise<void> {
    const waitMs = this.o.publishWaitMs ?? 250;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private async eventOf(t: Transition): Promise<BookingEvent> {
    if (t.type === 'charging_completed') return this.completed(t);
    return transitionEvent(t, this.o.instanceId, { price_rate: await this.o.prices.current() });
  }

  private async completed(t: Transition): Promise<BookingEvent> {
    const endBattery = this.o.lastBattery(t.booking.carId);
    const price = await this.o.prices.over(sessionStartMs(t), t.at);
    return completedEvent(t, this.o.instanceId, { endBattery, capacityKwh: this.o.capacityKwh, price });
  }
}

/** Adds to a bounded Map or Set (the oldest goes first). */
function remember<V>(into: Map<string, V> | Set<string>, key: string, value: V, max: number): void {
  if (into instanceof Map) into.set(key, value);
  else into.add(key);
  if (into.size > max) {
    const oldest = into.keys().next().value;
    if (oldest !== undefined) into.delete(oldest);
  }
}

/** One info line per transition: the coordination story operators follow in the logs. */
export function logTransition(logger: Pick<Logger, 'info'>, t: Transition): void {
  const b = t.booking;
  const fields = { carId: b.carId, stationId: b.stationId ?? undefined, bookingId: b.bookingId, battery: b.battery };
  if (t.type === 'queued') logger.info({ ...fields, position: t.position }, `booking queued at position ${t.position}`);
  else if (t.type === 'confirmed') logger.info(fields, t.promoted ? 'booking confirmed (promoted from the queue)' : 'booking confirmed');
  else if (t.type === 'charging_completed') logger.info({ ...fields, reason: b.endReason ?? undefined }, 'charging completed');
  else logger.info(fields, t.type === 'charging_started' ? 'charging started' : `booking ${t.type}`);
}
