import { Redis } from 'ioredis';
import { afterAll, expect, it, vi } from 'vitest';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createRedisReservations, type RedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { auditEvents } from '../../src/domain/audit.js';
import { TOPIC_EVENTS, topicName, type BookingEvent } from '../../src/domain/events.js';
import { gridStations } from '../../src/domain/stations.js';
import { createCoordinator, type Coordinator } from '../../src/services/coordination/index.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const probe = engineProbe('redis');

await describeWithEngine('redis', probe, 'Two coordinators on one Redis', () => {
  const namespace = testNamespace('coord');
  const bus = createMemoryEventBus();
  const opened: { coordinators: Coordinator[]; reservations: RedisReservations[] } = { coordinators: [], reservations: [] };

  afterAll(async () => {
    await Promise.all(opened.coordinators.map((c) => c.stop()));
    const keys = await opened.reservations[0].redis.keys(`${namespace}:*`);
    const raw = new Redis(infra.redisUrl);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
    await Promise.all(opened.reservations.map((r) => r.close()));
    await bus.close();
  });

  it('1,000 concurrent requests through two instances confirm exactly 20; the sweep promotes; the audit finds 0 double bookings', async () => {
    const stations = gridStations(10, 2);
    const events: BookingEvent[] = [];
    await bus.subscribe({ topic: topicName(namespace, TOPIC_EVENTS), groupId: 'audit', fromBeginning: true, handleBatch: async (rs) => void events.push(...rs.map((r) => JSON.parse(r.value))) });
    let now = Date.now();
    for (let i = 0; i < 2; i++) {
      const reservations = await createRedisReservations({ url: infra.redisUrl, namespace });
      const c = createCoordinator({ reservations, bus, stations, namespace, clock: () => now, sweepIntervalMs: 0, routeViaBus: false, instanceId: `i${i}`, policy: { deferral: { enabled: false } } });
      await c.start();
      opened.reservations.push(reservations);
      opened.coordinators.push(c);
    }
    const [a, b] = opened.coordinators;
    const decisions = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (i % 2 ? b : a).requestBooking({ carId: `CAR-${i}`, lat: 40.7 + (i % 30) * 0.005, lon: -74.01 + (i % 17) * 0.005, battery: 5 + (i % 25), noDefer: true })),
    );
    expect(decisions.filter((d) => d.status === 'confirmed')).toHaveLength(20);
    expect(decisions.filter((d) => d.status === 'queued')).toHaveLength(980);

    now += 21 * 60_000; // every hold lapses; both instances sweep at once
    const [ea, eb] = await Promise.all([a.sweep(), b.sweep()]);
    expect(ea + eb).toBe(20);
    await vi.waitFor(() => expect(events.filter((e) => e.event_type === 'booking_confirmed')).toHaveLength(40), { timeout: 5000 });
    const audit = auditEvents(events, stations);
    expect(audit.doubleBookings).toBe(0);
    expect(Object.values(audit.peak).every((p) => p === 2)).toBe(true);
    expect(events.filter((e) => e.event_type === 'booking_expired')).toHaveLength(20);
  });
});
