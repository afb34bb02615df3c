import type { Decision } from '../../domain/booking-request.js';
import type { BookingEvent } from '../../domain/events.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { Transition } from '../../ports/reservations.js';
import { completedEvent, decisionFromEvent, sessionStartMs, transitionEvent } from './event-codec.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { PriceCache } from './price-cache.js';

export interface OutboxDeps {
  bus: Pick<EventBus, 'publish'>;
  topic: string;
  instanceId: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  metrics: Pick<CoordinatorMetrics, 'bookings'>;
  prices: Pick<PriceCache, 'current' | 'over'>;
  capacityKwh: number;
  /** The car's last reported battery (ends a session's energy). */
  lastBattery: (carId: string) => number | undefined;
  /** Pushes a decision to the car's stream here. */
  deliver?: (carId: string, decision: Decision) => boolean | void;
}

/**
 * Everything the coordinator tells the world: booking events to the bus, and each event's decision
 * to the car (if connected here) and to the decisions$ subscribers.
 */
export class Outbox {
  private readonly subscribers = new Set<(d: Decision) => void>();

  constructor(private readonly o: OutboxDeps) {}

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

  async emit(events: BookingEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const e of events) {
      this.o.metrics.bookings.inc({ status: e.event_type.replace(/^booking_/, '') });
    }
    try {
      await this.o.bus.publish(this.o.topic, events.map((e) => ({ key: e.car_id, value: JSON.stringify(e) })));
    } catch (err) {
      // The reservation already changed; the event is lost for consumers. Loud, so operators see it.
      this.o.logger.error({ err, events: events.map((e) => e.event_id) }, 'could not publish coordination events');
    }
    for (const e of events) {
      const d = decisionFromEvent(e);
      if (d) this.push(d);
    }
  }

  /** One event per reservation transition, priced now (a completed session: over its own span). */
  async emitTransitions(transitions: Transition[]): Promise<void> {
    const events: BookingEvent[] = [];
    const price = await this.o.prices.current();
    for (const t of transitions) {
      events.push(t.type === 'charging_completed' ? await this.completed(t) : transitionEvent(t, this.o.instanceId, { price_rate: price }));
      logTransition(this.o.logger, t);
    }
    await this.emit(events);
  }

  private async completed(t: Transition): Promise<BookingEvent> {
    const endBattery = this.o.lastBattery(t.booking.carId);
    const price = await this.o.prices.over(sessionStartMs(t), t.at);
    return completedEvent(t, this.o.instanceId, { endBattery, capacityKwh: this.o.capacityKwh, price });
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
