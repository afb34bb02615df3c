import { describe, expect, it } from 'vitest';
import type { Booking, Transition } from '../../../../src/ports/reservations.js';
import { Outbox, type OutboxDeps } from '../../../../src/services/coordination/outbox.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const booking = (over: Partial<Booking> = {}): Booking => ({
  bookingId: 'bk-1', carId: 'CAR-1', status: 'held', stationId: 'A', candidates: [{ stationId: 'A', score: 1 }], holdMs: 60_000, battery: 20, critical: false,
  createdAt: T0, updatedAt: T0, queuedAt: null, confirmedAt: T0, expiresAt: T0 + 60_000, chargingStartedAt: null, startBattery: null, endedAt: null, endReason: null, ...over,
});

/** The outbox of relay instance `instanceId` (no bus, no relay attached: eventFor only). */
function outboxOf(instanceId: string): Outbox {
  const deps: OutboxDeps = {
    reservations: { appendOutbox: async () => {} },
    instanceId,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: { bookings: { inc: () => {} } } as unknown as OutboxDeps['metrics'],
    prices: { current: async () => 0.3, over: async () => () => 0.2 },
    capacityKwh: 75,
    lastBattery: () => 60,
    publishWaitMs: 0,
  };
  return new Outbox(deps);
}

describe('Outbox.eventFor', () => {
  const confirmed: Transition = { type: 'confirmed', at: T0, booking: booking(), promoted: true };

  it('names the instance that decided (the entry’s origin), not the relay publishing it', async () => {
    const e = await outboxOf('coord-relay').eventFor({ id: '1-1', transition: confirmed, origin: 'coord-decider' });
    expect(e).toMatchObject({ event_id: 'bk-1:booking_confirmed', origin_instance: 'coord-decider', price_rate: 0.3 });
    const done: Transition = { type: 'charging_completed', at: T0 + 3_600_000, booking: booking({ status: 'completed', chargingStartedAt: T0, startBattery: 20 }) };
    expect(await outboxOf('coord-relay').eventFor({ id: '1-2', transition: done, origin: 'coord-decider' })).toMatchObject({ event_type: 'charging_completed', origin_instance: 'coord-decider', kwh: 30 });
  });

  it('falls back to the relay’s own id for an entry without an origin', async () => {
    expect(await outboxOf('coord-relay').eventFor({ id: '1-1', transition: confirmed })).toMatchObject({ origin_instance: 'coord-relay' });
  });

  it('publishes an event built here as built, and an appended event as appended', async () => {
    const here = outboxOf('coord-a');
    await here.emitTransitions([confirmed]);
    expect(await here.eventFor({ id: '1-1', transition: confirmed, origin: 'coord-a' })).toMatchObject({ origin_instance: 'coord-a', price_rate: 0.3 });
    const failed = { event_id: 'x:booking_failed', event_type: 'booking_failed' as const, car_id: 'x', timestamp: T0, origin_instance: 'coord-b' };
    expect(await here.eventFor({ id: '1-2', event: failed, origin: 'coord-b' })).toEqual(failed);
  });
});
