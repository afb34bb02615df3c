import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { reservationsContract } from '../contract/reservations.contract.js';
import { describeWithEngine, dropRedisNamespace, engineProbe, infra, testNamespace } from '../helpers/infra.js';

const probe = engineProbe('redis');

await describeWithEngine('redis', probe, 'Reservations contract', () => {
  reservationsContract(async () => {
    const namespace = testNamespace('res');
    // Two connections on one namespace: two ingestion instances sharing Redis.
    const origins = { primary: 'coord-a', secondary: 'coord-b' };
    const primary = await createRedisReservations({ url: infra.redisUrl, namespace, origin: origins.primary });
    const secondary = await createRedisReservations({ url: infra.redisUrl, namespace, origin: origins.secondary });
    return {
      primary,
      secondary,
      origins,
      async close() {
        await dropRedisNamespace(namespace);
        await Promise.all([primary.close(), secondary.close()]);
      },
    };
  });
});

await describeWithEngine('redis', probe, 'Station queues from the layout before res:sq', () => {
  it('rebuilds res:sq from res:queue on connect, drops the old res:q:<station> keys, and promotes in the same order', async () => {
    const namespace = testNamespace('resq');
    const st = (id: string) => ({ id, name: id, lat: 40.75, lon: -73.98, ports: 1, powerKw: 150 });
    const T0 = 1_764_000_000_000;
    const first = await createRedisReservations({ url: infra.redisUrl, namespace });
    const raw = new Redis(infra.redisUrl);
    try {
      await first.loadStations([st('s1'), st('s2')], T0);
      const cands = [{ stationId: 's1', score: 0 }, { stationId: 's2', score: 1 }];
      const ask = (i: number, battery: number) => first.reserve({ bookingId: `b${i}`, carId: `c${i}`, candidates: cands, holdMs: 60_000, nowMs: T0 + i, battery, critical: false });
      expect((await ask(1, 20)).status).toBe('confirmed');
      expect((await ask(2, 20)).status).toBe('confirmed');
      expect((await ask(3, 40)).status).toBe('queued');
      expect((await ask(4, 10)).status).toBe('queued');
      await first.close();
      // The state as the previous layout left it: no res:sq, no layout marker, one key per station queue.
      await raw.del(`${namespace}:res:sq`, `${namespace}:res:layout`);
      await raw.zadd(`${namespace}:res:q:s1`, 1, 'b3', 2, 'b4');
      await raw.zadd(`${namespace}:res:q:s2`, 1, 'b3', 2, 'b4');

      const again = await createRedisReservations({ url: infra.redisUrl, namespace });
      expect(await raw.zcard(`${namespace}:res:sq`)).toBe(4); // two queued cars × two candidate stations
      expect(await raw.get(`${namespace}:res:layout`)).toBe('sq');
      expect(await raw.exists(`${namespace}:res:q:s1`, `${namespace}:res:q:s2`)).toBe(0);
      // The emptier battery (b4, 10 %) arrives sooner by the station score and gets the freed port.
      const out = await again.cancel({ bookingId: 'b1' }, T0 + 10);
      expect(out.transitions.map((t) => [t.type, t.booking.bookingId, t.booking.stationId])).toEqual([
        ['cancelled', 'b1', 's1'],
        ['confirmed', 'b4', 's1'],
      ]);
      expect(await raw.zcard(`${namespace}:res:sq`)).toBe(2); // b4 left both queues; b3 still in both
      await again.close();
    } finally {
      const keys = await raw.keys(`${namespace}:*`);
      if (keys.length) await raw.del(...keys);
      raw.disconnect();
    }
  });
});
