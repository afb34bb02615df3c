import { afterAll, beforeEach, expect, it } from 'vitest';
import { gridStations } from '../../src/domain/stations.js';
import type { Station } from '../../src/ports/fleet-state.js';
import { urgencyRank, type Candidate, type Reservations, type ReserveRequest, type Transition } from '../../src/ports/reservations.js';

/** A fresh, empty Reservations plus a second handle on the same state (another connection for Redis). */
export interface ReservationsFixture {
  primary: Reservations;
  secondary: Reservations;
  /** The `origin` each handle was created with (the instance deciding through it). */
  origins: { primary: string; secondary: string };
  close(): Promise<void>;
}

const T0 = 1_764_000_000_000;
const st = (id: string, ports: number): Station => ({ id, name: id, lat: 40.75, lon: -73.98, ports, powerKw: 150 });
const cands = (...ids: string[]): Candidate[] => ids.map((stationId, i) => ({ stationId, score: i }));

function req(bookingId: string, carId: string, candidates: Candidate[], over: Partial<ReserveRequest> = {}): ReserveRequest {
  return { bookingId, carId, candidates, holdMs: 60_000, nowMs: T0, battery: 25, critical: false, ...over };
}

/** The shared contract: every Reservations adapter must pass it. */
export function reservationsContract(make: () => Promise<ReservationsFixture>): void {
  let fx: ReservationsFixture;
  let r: Reservations;
  const opened: ReservationsFixture[] = [];

  beforeEach(async () => {
    fx = await make();
    opened.push(fx);
    r = fx.primary;
  });
  afterAll(async () => {
    await Promise.all(opened.map((f) => f.close()));
  });

  it('queue: false fails with no_free_port and keeps nothing when every candidate is full', async () => {
    await r.loadStations([st('A', 1), st('B', 1)], T0);
    expect((await r.reserve(req('b1', 'c1', cands('A')))).status).toBe('confirmed');
    const full = await r.reserve(req('b2', 'c2', cands('A'), { queue: false }));
    expect(full).toMatchObject({ status: 'failed', reason: 'no_free_port', transitions: [] });
    expect(await r.activeBookingForCar('c2')).toBeNull();
    expect((await r.stationStatus()).find((s) => s.id === 'A')).toMatchObject({ holds: 1, queueLength: 0 });
    // The same car may ask again; with a free candidate it is held as usual.
    expect(await r.reserve(req('b3', 'c2', cands('A', 'B'), { queue: false }))).toMatchObject({ status: 'confirmed', stationId: 'B' });
  });

  it('never gives more ports than a station has, and queues the rest', async () => {
    await r.loadStations([st('A', 2)], T0);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await r.reserve(req(`b${i}`, `car${i}`, cands('A'))));
    expect(results.map((x) => x.status)).toEqual(['confirmed', 'confirmed', 'queued', 'queued', 'queued']);
    expect(await r.stationStatus()).toEqual([{ id: 'A', ports: 2, holds: 2, charging: 0, queueLength: 3 }]);
    const first = results[0];
    expect(first.status === 'confirmed' && first.expiresAt).toBe(T0 + 60_000);
    expect(results[0].transitions.map((t) => t.type)).toEqual(['confirmed']);
    expect(results[2].transitions.map((t) => t.type)).toEqual(['queued']);
  });

  it('takes the best candidate that has a free port, with that candidate’s hold', async () => {
    await r.loadStations([st('A', 1), st('B', 1)], T0);
    await r.reserve(req('b0', 'car0', cands('A')));
    const res = await r.reserve(req('b1', 'car1', [{ stationId: 'A', score: 1 }, { stationId: 'B', score: 2, holdMs: 5_000 }]));
    expect(res).toMatchObject({ status: 'confirmed', stationId: 'B', expiresAt: T0 + 5_000 });
  });

  it('is idempotent on bookingId: a retry, even concurrent, takes one port', async () => {
    await r.loadStations([st('A', 3)], T0);
    const retries = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? fx.secondary : r).reserve(req('b1', 'car1', cands('A')))));
    expect(retries.every((x) => x.status === 'confirmed' && x.stationId === 'A')).toBe(true);
    expect(retries.filter((x) => x.status === 'confirmed' && !x.replayed)).toHaveLength(1);
    expect(retries.flatMap((x) => x.transitions)).toHaveLength(1);
    expect((await r.stationStatus())[0].holds).toBe(1);
  });

  it('allows one active booking per car', async () => {
    await r.loadStations([st('A', 3)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    const second = await r.reserve(req('b2', 'car1', cands('A')));
    expect(second.status).toBe('duplicate');
    expect(second.status === 'duplicate' && second.existing.bookingId).toBe('b1');
    expect((await r.stationStatus())[0].holds).toBe(1);
    expect((await r.activeBookingForCar('car1'))?.bookingId).toBe('b1');
  });

  it('fails a request naming no known station', async () => {
    await r.loadStations([st('A', 1)], T0);
    expect(await r.reserve(req('b1', 'car1', cands('NOPE')))).toMatchObject({ status: 'failed', reason: 'no_known_station' });
    expect(await r.activeBookingForCar('car1')).toBeNull();
  });

  it('orders the queue: critical first, then lowest battery, then longest waiting', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('hold', 'holder', cands('A')));
    const waiting: [string, number, boolean][] = [['c1', 25, false], ['c2', 10, true], ['c3', 20, false], ['c4', 20, false], ['c5', 14, true], ['c6', 16, false]];
    for (const [i, [car, battery, critical]] of waiting.entries()) {
      await r.reserve(req(`b-${car}`, car, cands('A'), { battery, critical, nowMs: T0 + i }));
    }
    const q = await r.queue();
    expect(q.map((e) => e.booking.carId)).toEqual(['c2', 'c5', 'c6', 'c3', 'c4', 'c1']);
    expect(q.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(urgencyRank(true, 14)).toBeLessThan(urgencyRank(false, 0));
  });

  it('a retry while queued refreshes urgency but keeps the place in time', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('hold', 'holder', cands('A')));
    await r.reserve(req('b1', 'car1', cands('A'), { battery: 20 }));
    await r.reserve(req('b2', 'car2', cands('A'), { battery: 20 }));
    const again = await r.reserve(req('b2', 'car2', cands('A'), { battery: 12, critical: true }));
    expect(again).toMatchObject({ status: 'queued', position: 1, replayed: true });
    expect(again.transitions).toEqual([]);
    expect((await r.queue()).map((e) => e.booking.carId)).toEqual(['car2', 'car1']);
  });

  it('cancel frees the port at once and promotes the most urgent car that can reach it', async () => {
    await r.loadStations([st('A', 1), st('B', 1)], T0);
    await r.reserve(req('ha', 'holderA', cands('A')));
    await r.reserve(req('hb', 'holderB', cands('B')));
    await r.reserve(req('q1', 'onlyB', cands('B'), { battery: 5, critical: true, nowMs: T0 + 1 }));
    await r.reserve(req('q2', 'both', cands('A', 'B'), { battery: 20, nowMs: T0 + 2 }));
    const res = await r.cancel({ bookingId: 'ha' }, T0 + 10);
    expect(res.ok).toBe(true);
    expect(res.transitions.map((t) => [t.type, t.booking.carId, t.booking.stationId])).toEqual([
      ['cancelled', 'holderA', 'A'],
      ['confirmed', 'both', 'A'],
    ]);
    const promoted = res.transitions[1];
    expect(promoted.type === 'confirmed' && promoted.promoted).toBe(true);
    expect(promoted.booking.expiresAt).toBe(T0 + 10 + 60_000);
    expect((await r.queue()).map((e) => e.booking.carId)).toEqual(['onlyB']);
    expect((await r.stationStatus()).find((s) => s.id === 'A')).toMatchObject({ holds: 1, queueLength: 0 });
    expect((await r.booking('ha'))?.status).toBe('cancelled');
    expect((await r.cancel({ bookingId: 'ha' }, T0 + 11)).ok).toBe(false);
  });

  it('promotes into a freed port the queued car that arrives soonest within its class (critical cars first), not the most urgent car across town', async () => {
    // Issue 10: promoting the most urgent car anywhere held freed ports idle for a median 22 min of driving in a herd.
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('h', 'holder', cands('A')));
    const at = (driveMin: number): Candidate[] => [{ stationId: 'A', score: 0, driveMs: driveMin * 60_000 }];
    await r.reserve(req('q-far', 'far', at(40), { battery: 12, nowMs: T0 + 1 }));
    await r.reserve(req('q-near', 'near', at(2), { battery: 20, nowMs: T0 + 2 }));
    await r.reserve(req('q-crit', 'crit', at(25), { battery: 9, critical: true, nowMs: T0 + 3 }));
    await r.reserve(req('q-crit-near', 'critNear', at(3), { battery: 12, critical: true, nowMs: T0 + 4 }));
    // The global queue stays in urgency order (positions); each station promotes by ready time.
    expect((await r.queue()).map((e) => e.booking.carId)).toEqual(['crit', 'critNear', 'far', 'near']);
    const promoted = async (now: number) => {
      const t = (await r.cancel({ carId: (await r.listActive!()).find((b) => b.status === 'held')!.carId }, now)).transitions;
      return t.filter((x) => x.type === 'confirmed').map((x) => x.booking.carId);
    };
    // Ready time in min (4 × drive + 2 × battery; critical cars 10 days ahead): critNear 12 + 24 = 36 and
    // crit 100 + 18 = 118 (both critical), then near 8 + 40 = 48 and far 160 + 24 = 184.
    expect(await promoted(T0 + 10)).toEqual(['critNear']);
    expect(await promoted(T0 + 20)).toEqual(['crit']);
    expect(await promoted(T0 + 30)).toEqual(['near']);
    expect(await promoted(T0 + 40)).toEqual(['far']);
  });

  it('a critical car close enough is promoted ahead of a nearer non-critical one', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('h', 'holder', cands('A')));
    const at = (driveMin: number): Candidate[] => [{ stationId: 'A', score: 0, driveMs: driveMin * 60_000 }];
    await r.reserve(req('q-near', 'near', at(1), { battery: 16, nowMs: T0 + 1 }));
    await r.reserve(req('q-crit', 'crit', at(6), { battery: 14, critical: true, nowMs: T0 + 2 }));
    const res = await r.cancel({ bookingId: 'h' }, T0 + 10);
    expect(res.transitions.filter((x) => x.type === 'confirmed').map((x) => x.booking.carId)).toEqual(['crit']);
  });

  it('counts each queued car once, at the station it is queued for (its best candidate)', async () => {
    await r.loadStations([st('A', 1), st('B', 1), st('C', 1)], T0);
    await r.reserve(req('ha', 'holderA', cands('A')));
    await r.reserve(req('hb', 'holderB', cands('B')));
    await r.reserve(req('hc', 'holderC', cands('C')));
    await r.reserve(req('q1', 'car1', cands('A', 'B', 'C'), { nowMs: T0 + 1 }));
    await r.reserve(req('q2', 'car2', cands('B', 'A', 'C'), { nowMs: T0 + 2 }));
    await r.reserve(req('q3', 'car3', cands('A', 'C'), { nowMs: T0 + 3 }));
    // A retry while queued does not count the car again.
    await r.reserve(req('q3', 'car3', cands('A', 'C'), { nowMs: T0 + 4, battery: 20 }));
    const queueOf = async () => Object.fromEntries((await r.stationStatus()).map((s) => [s.id, s.queueLength]));
    expect(await queueOf()).toEqual({ A: 2, B: 1, C: 0 });
    // car3 (now the most urgent) is promoted when C frees; it was counted at A.
    const res = await r.cancel({ bookingId: 'hc' }, T0 + 5);
    expect(res.transitions.map((t) => [t.type, t.booking.carId])).toEqual([['cancelled', 'holderC'], ['confirmed', 'car3']]);
    expect(await queueOf()).toEqual({ A: 1, B: 1, C: 0 });
    await r.cancel({ carId: 'car2' }, T0 + 6);
    expect(await queueOf()).toEqual({ A: 1, B: 0, C: 0 });
    expect((await r.queue()).length).toBe(1);
  });

  it('cancel by car id removes a queued car from the queue', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('h', 'holder', cands('A')));
    await r.reserve(req('q', 'waiting', cands('A')));
    const res = await r.cancel({ carId: 'waiting' }, T0 + 1, 'drove_off');
    expect(res.transitions.map((t) => t.type)).toEqual(['cancelled']);
    expect(res.booking?.endReason).toBe('cancelled:drove_off');
    expect(await r.queue()).toEqual([]);
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 1, queueLength: 0 });
    expect((await r.reserve(req('q-again', 'waiting', cands('A')))).status).toBe('queued');
  });

  it('charging keeps the port until completion, then the next car is promoted', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await r.reserve(req('b2', 'car2', cands('A')));
    expect(await r.startCharging('car1', 'B', T0 + 1)).toMatchObject({ ok: false, reason: 'wrong_station' });
    expect(await r.startCharging('nobody', 'A', T0 + 1)).toMatchObject({ ok: false, reason: 'no_booking' });
    const started = await r.startCharging('car1', 'A', T0 + 5, 12.5);
    expect(started.transitions.map((t) => t.type)).toEqual(['charging_started']);
    expect(started.booking).toMatchObject({ status: 'charging', chargingStartedAt: T0 + 5, startBattery: 12.5, expiresAt: null });
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 0, charging: 1, queueLength: 1 });
    expect((await r.expireDue(T0 + 3_600_000)).expired).toEqual([]); // a charging car never expires
    const done = await r.completeCharging('car1', T0 + 3_600_001);
    expect(done.transitions.map((t) => [t.type, t.booking.carId])).toEqual([['charging_completed', 'car1'], ['confirmed', 'car2']]);
    expect(done.booking).toMatchObject({ status: 'completed', chargingStartedAt: T0 + 5, endedAt: T0 + 3_600_001 });
    expect((await r.completeCharging('car1', T0 + 3_600_002)).ok).toBe(false);
  });

  it('expires due holds in the sweep, frees the port and promotes', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A'), { holdMs: 1_000 }));
    await r.reserve(req('b2', 'car2', cands('A'), { holdMs: 1_000 }));
    expect((await r.expireDue(T0 + 999)).expired).toEqual([]);
    const swept = await r.expireDue(T0 + 1_000);
    expect(swept.expired.map((b) => b.bookingId)).toEqual(['b1']);
    expect(swept.transitions.map((t) => [t.type, t.booking.carId])).toEqual([['expired', 'car1'], ['confirmed', 'car2']]);
    expect(swept.transitions[1].booking.expiresAt).toBe(T0 + 2_000);
    expect(await r.activeBookingForCar('car1')).toBeNull();
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 1, queueLength: 0 });
  });

  it('extendHold moves a held booking’s expiry later, never earlier, and only while held', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A'), { holdMs: 1_000 }));
    expect(await r.extendHold('b1', T0 + 5_000, T0 + 500)).toMatchObject({ ok: true, booking: { expiresAt: T0 + 5_000 }, transitions: [] });
    expect((await fx.secondary.extendHold('b1', T0 + 2_000, T0 + 600)).booking?.expiresAt).toBe(T0 + 5_000); // never earlier
    expect((await r.expireDue(T0 + 4_999)).expired).toEqual([]);
    expect((await r.expireDue(T0 + 5_000)).expired.map((b) => b.bookingId)).toEqual(['b1']);
    expect(await r.extendHold('b1', T0 + 9_000, T0 + 5_001)).toMatchObject({ ok: false, reason: 'not_held' });
    expect(await r.extendHold('nope', T0 + 9_000, T0 + 5_001)).toMatchObject({ ok: false, reason: 'not_found' });
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 0 });
  });

  it('expireStale ends the bookings of cars that stopped streaming; touch keeps a car’s booking alive', async () => {
    await r.loadStations([st('A', 2)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await r.reserve(req('b2', 'car2', cands('A')));
    await r.reserve(req('b3', 'car3', cands('A'))); // queued
    await r.reserve(req('b4', 'car4', cands('A'))); // queued
    await r.startCharging('car2', 'A', T0 + 1_000, 20);
    await fx.secondary.touch(['car1', 'car4', 'car-without-booking'], T0 + 60_000);
    expect((await r.expireStale(T0, T0 + 61_000)).expired).toEqual([]); // last seen at T0 is not before T0
    const swept = await r.expireStale(T0 + 30_000, T0 + 61_000);
    expect(swept.expired.map((b) => `${b.carId}:${b.status}:${b.endReason}`).sort()).toEqual(['car2:completed:completed:lost_contact', 'car3:cancelled:cancelled:lost_contact']);
    // The session's port went to the queued car still streaming.
    expect(swept.transitions.filter((t) => t.type === 'confirmed').map((t) => t.booking.carId)).toEqual(['car4']);
    expect((await r.activeBookingForCar('car1'))?.lastSeenAt).toBe(T0 + 60_000);
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 2, charging: 0, queueLength: 0 });
    expect(await r.queue()).toEqual([]);
    expect((await r.expireStale(T0 + 30_000, T0 + 62_000)).expired).toEqual([]); // idempotent
    const rest = await r.expireStale(T0 + 120_000, T0 + 120_000, 1);
    expect(rest.expired).toHaveLength(1); // the limit bounds one sweep
    expect((await r.expireStale(T0 + 120_000, T0 + 120_000)).expired).toHaveLength(1);
    expect(await r.listActive!()).toEqual([]);
    expect((await r.stationStatus())[0]).toMatchObject({ holds: 0, charging: 0, queueLength: 0 });
  });

  it('keeps a monotonic clock so transitions are ordered even when callers’ clocks disagree', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A'), { nowMs: T0 + 500 }));
    const late = await r.cancel({ bookingId: 'b1' }, T0 + 100); // a caller whose clock is behind
    expect(late.transitions[0].at).toBe(T0 + 500);
  });

  it('loading more ports promotes queued cars into them', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await r.reserve(req('b2', 'car2', cands('A')));
    const t = await r.loadStations([st('A', 2)], T0 + 1);
    expect(t.map((x) => [x.type, x.booking.carId])).toEqual([['confirmed', 'car2']]);
    expect((await r.stationStatus())[0]).toMatchObject({ ports: 2, holds: 2 });
  });

  it('activeBookings returns only cars with an active booking', async () => {
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await r.reserve(req('b2', 'car2', cands('A')));
    await r.reserve(req('b3', 'car3', cands('A')));
    await r.cancel({ carId: 'car3' }, T0 + 1);
    const m = await r.activeBookings(['car1', 'car2', 'car3', 'car4']);
    expect([...m.keys()].sort()).toEqual(['car1', 'car2']);
    expect(m.get('car2')?.status).toBe('queued');
  });

  it('listActive lists every held, charging and queued booking, and nothing that ended', async () => {
    await r.loadStations([st('A', 2)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await r.reserve(req('b2', 'car2', cands('A')));
    await r.reserve(req('b3', 'car3', cands('A')));
    await r.reserve(req('b4', 'car4', cands('A')));
    await r.startCharging('car2', 'A', T0 + 1, 20);
    await r.cancel({ carId: 'car4' }, T0 + 2);
    const active = (await r.listActive!()).map((b) => `${b.carId}:${b.status}`).sort();
    expect(active).toEqual(['car1:held', 'car2:charging', 'car3:queued']);
  });

  it('is work-conserving: after every operation, no station a queued car can reach has a free port', async () => {
    await r.loadStations([st('A', 1), st('B', 2), st('C', 1), st('D', 3), st('E', 1)], T0);
    const ids = ['A', 'B', 'C', 'D', 'E'];
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
    const violations = async (): Promise<string[]> => {
      const full = new Map((await r.stationStatus()).map((s) => [s.id, s.holds + s.charging >= s.ports]));
      return (await r.queue()).flatMap((e) => e.booking.candidates.filter((c) => !full.get(c.stationId)).map((c) => `${e.booking.carId}@${c.stationId}`));
    };
    let now = T0;
    for (let step = 0; step < 300; step++) {
      now += 1_000 + rand(20_000);
      const car = `car${rand(25)}`;
      const active = await r.activeBookingForCar(car);
      const op = rand(10);
      const h = step % 2 ? fx.secondary : r;
      if (!active) {
        const cs = ids.filter(() => rand(3) > 0);
        await h.reserve(req(`b${step}`, car, cands(...(cs.length ? cs : ['C'])), { nowMs: now, battery: 5 + rand(25), critical: rand(4) === 0 }));
      } else if (op < 3) await h.cancel({ carId: car }, now);
      else if (op < 6 && active.status === 'held') await h.startCharging(car, active.stationId!, now, 20);
      else if (op < 8 && active.status === 'charging') await h.completeCharging(car, now);
      else if (op === 8) await h.loadStations([st(ids[rand(5)], 1 + rand(3))], now);
      else await h.expireDue(now);
      expect(await violations(), `step ${step}`).toEqual([]);
    }
  });

  it('the herd: 1,000 concurrent requests from two clients on 10 stations × 2 ports confirm exactly 20', async () => {
    const stations = gridStations(10, 2);
    await r.loadStations(stations, T0);
    const all = stations.map((s, i) => ({ stationId: s.id, score: i }));
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const rotated = [...all.slice(i % 10), ...all.slice(0, i % 10)];
        const battery = 5 + (i % 25);
        return (i % 2 ? fx.secondary : r).reserve(req(`herd-${i}`, `CAR-${i}`, rotated, { battery, critical: battery < 15, nowMs: T0 + i }));
      }),
    );
    expect(results.filter((x) => x.status === 'confirmed')).toHaveLength(20);
    expect(results.filter((x) => x.status === 'queued')).toHaveLength(980);
    const status = await r.stationStatus();
    // Each queued car counts once, at its best candidate (the first of its rotated list).
    const queuedAt = new Map<string, number>();
    results.forEach((x, i) => x.status === 'queued' && queuedAt.set(all[i % 10].stationId, (queuedAt.get(all[i % 10].stationId) ?? 0) + 1));
    expect(status.map((s) => [s.holds, s.charging, s.queueLength])).toEqual(status.map((s) => [2, 0, queuedAt.get(s.id)]));
    expect(status.reduce((n, s) => n + s.queueLength, 0)).toBe(980);
    const q = await r.queue();
    expect(q).toHaveLength(980);
    const ranks = q.map((e) => urgencyRank(e.booking.critical, e.booking.battery));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));

    // Both instances sweep at once: every hold expires exactly once and every port is refilled exactly once.
    const [e1, e2] = await Promise.all([r.expireDue(T0 + 120_000, 1000), fx.secondary.expireDue(T0 + 120_000, 1000)]);
    expect(e1.expired.length + e2.expired.length).toBe(20);
    const promoted = [...e1.transitions, ...e2.transitions].filter((t) => t.type === 'confirmed');
    expect(promoted).toHaveLength(20);
    expect(new Set(promoted.map((t) => t.booking.carId)).size).toBe(20);
    // The promoted are the 20 most urgent queued cars.
    expect(new Set(promoted.map((t) => t.booking.carId))).toEqual(new Set(q.slice(0, 20).map((e) => e.booking.carId)));
    expect((await r.stationStatus()).every((s) => s.holds === 2)).toBe(true);
    expect(await r.queue()).toHaveLength(960);
  });

  it('writes every transition it returns to the outbox in the same step, in order, until acknowledged', async () => {
    const returned: Transition[] = [];
    const keep = <T extends { transitions: Transition[] }>(x: T): T => (returned.push(...x.transitions), x);
    returned.push(...(await r.loadStations([st('A', 1), st('B', 1)], T0)));
    keep(await r.reserve(req('b1', 'car1', cands('A'))));
    keep(await fx.secondary.reserve(req('b2', 'car2', cands('A', 'B'))));
    keep(await r.reserve(req('b3', 'car3', cands('A', 'B'))));
    keep(await r.reserve(req('b3', 'car3', cands('A', 'B')))); // a replay: nothing new
    keep(await r.startCharging('car1', 'A', T0 + 1_000, 30));
    keep(await r.cancel({ carId: 'car2' }, T0 + 2_000));
    keep(await r.completeCharging('car1', T0 + 3_000));
    keep(await r.expireDue(T0 + 500_000));
    keep(await r.expireStale(T0 + 10_000_000, T0 + 10_000_000));
    expect(returned.map((t) => t.type)).toEqual(['confirmed', 'confirmed', 'queued', 'charging_started', 'cancelled', 'confirmed', 'charging_completed', 'expired']);

    const entries = await r.readOutbox(null, 1000);
    expect(entries.map((e) => e.transition)).toEqual(returned);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    // Paging from a cursor, then acknowledging part: only the rest stays.
    const page = await fx.secondary.readOutbox(entries[2].id, 3);
    expect(page.map((e) => e.id)).toEqual(entries.slice(3, 6).map((e) => e.id));
    expect(await r.ackOutbox(entries.slice(0, 5).map((e) => e.id))).toBe(5);
    expect((await r.readOutbox(null, 1000)).map((e) => e.id)).toEqual(entries.slice(5).map((e) => e.id));
    expect(await r.ackOutbox(entries.slice(0, 5).map((e) => e.id))).toBe(0);
  });

  it('appends events that change no reservation to the outbox, and lets one relay hold the lease', async () => {
    await r.appendOutbox([{ event_id: 'x:booking_failed', event_type: 'booking_failed', car_id: 'x', timestamp: T0, reason: 'no_reachable_station' }]);
    const [entry] = await r.readOutbox(null, 10);
    expect(entry.event).toMatchObject({ event_id: 'x:booking_failed', reason: 'no_reachable_station' });
    expect(entry.transition).toBeUndefined();
    expect(await r.leaseOutbox('relay-1', 200)).toBe(true);
    expect(await fx.secondary.leaseOutbox('relay-2', 200)).toBe(false);
    expect(await r.leaseOutbox('relay-1', 50)).toBe(true);
    await new Promise((res) => setTimeout(res, 80));
    expect(await fx.secondary.leaseOutbox('relay-2', 200)).toBe(true);
  });

  it('names in each outbox entry the instance whose handle made the change', async () => {
    const { primary: P, secondary: S } = fx.origins;
    await r.loadStations([st('A', 1)], T0);
    await r.reserve(req('b1', 'car1', cands('A')));
    await fx.secondary.reserve(req('b2', 'car2', cands('A')));
    // The secondary cancels b1 and, in the same step, promotes b2: both its decisions.
    await fx.secondary.cancel({ bookingId: 'b1' }, T0 + 1_000);
    await r.appendOutbox([{ event_id: 'x:booking_failed', event_type: 'booking_failed', car_id: 'x', timestamp: T0, reason: 'no_reachable_station' }]);
    const entries = await fx.secondary.readOutbox(null, 10);
    expect(entries.map((e) => [e.transition?.type ?? e.event?.event_type, e.origin])).toEqual([
      ['confirmed', P],
      ['queued', S],
      ['cancelled', S],
      ['confirmed', S],
      ['booking_failed', P],
    ]);
  });

  it('restores bookings from the log once, with their ports taken, and no transitions', async () => {
    const lost = [
      { bookingId: 'h1', carId: 'c1', status: 'held' as const, stationId: 'A', since: T0, expiresAt: T0 + 60_000 },
      { bookingId: 's1', carId: 'c2', status: 'charging' as const, stationId: 'A', since: T0 },
      { bookingId: 'q1', carId: 'c3', status: 'queued' as const, stationId: 'A', since: T0, expiresAt: null, battery: 12 },
      { bookingId: 'x1', carId: 'c4', status: 'held' as const, stationId: 'GONE', since: T0, expiresAt: T0 + 60_000 },
    ].map((b) => ({ expiresAt: null, ...b }));
    expect(await r.restore([st('A', 2)], lost, T0 + 1_000)).toBe(3);
    expect(await fx.secondary.restore([st('A', 2)], lost, T0 + 1_000)).toBe(0);
    expect(await r.stationStatus()).toEqual([{ id: 'A', ports: 2, holds: 1, charging: 1, queueLength: 1 }]);
    expect(await r.activeBookingForCar('c1')).toMatchObject({ status: 'held', stationId: 'A', expiresAt: T0 + 60_000 });
    expect(await r.activeBookingForCar('c2')).toMatchObject({ status: 'charging', stationId: 'A' });
    expect((await r.queue()).map((e) => e.booking.bookingId)).toEqual(['q1']);
    expect(await r.activeBookingForCar('c4')).toBeNull();
    expect(await r.readOutbox(null, 10)).toEqual([]);
    // The restored state behaves like any other: the session ends and the queued car takes the port.
    const done = await r.completeCharging('c2', T0 + 2_000);
    expect(done.transitions.map((t) => [t.type, t.booking.bookingId])).toEqual([['charging_completed', 's1'], ['confirmed', 'q1']]);
  });
}
