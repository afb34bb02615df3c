import { describe, expect, it } from 'vitest';
import { DEFAULT_STATIONS_FILE } from '../../../src/app/stack.js';
import { greenlaneStrategy, runVirtualSim, virtualPrice } from '../../../src/app/virtual-sim.js';
import { auditEvents } from '../../../src/domain/audit.js';
import { readStationsFile } from '../../../src/config/stations-file.js';
import { EventQueue } from '../../../src/sim/virtual/clock.js';
import { runVirtual } from '../../../src/sim/virtual/engine.js';
import { createGreedyStrategy } from '../../../src/sim/virtual/greedy.js';
import { scenarioSpec } from '../../../src/sim/virtual/scenarios.js';

const stations = await readStationsFile(DEFAULT_STATIONS_FILE());

describe('virtual-time simulation', () => {
  it('the same seed, policy and stations give a byte-identical report', async () => {
    const run = async () => JSON.stringify(await runVirtualSim({ scenario: 'herd', compare: true, seed: 7, cars: 100, stations }));
    const first = await run();
    expect(await run()).toBe(first);
    expect(JSON.stringify(await runVirtualSim({ scenario: 'herd', compare: true, seed: 8, cars: 100, stations }))).not.toBe(first);
  });

  it('a herd of 100 on the production coordinator: every car charged or stranded, and the audit finds no port over capacity', async () => {
    const spec = scenarioSpec('herd', { cars: 100 });
    const { kpis, events } = await runVirtual({ spec, stations, seed: 1, strategy: (ctx) => greenlaneStrategy(ctx), price: virtualPrice });
    expect(kpis.endedBy).toBe('all_charged');
    expect(kpis.charged + kpis.stranded).toBe(100);
    expect(kpis.sessions).toBeGreaterThanOrEqual(kpis.charged);
    expect(kpis.doubleBookings).toBe(0);
    expect(auditEvents(events, stations).violations).toEqual([]);
    // Every session the cars saw is a charging_completed the coordinator wrote.
    expect(events.filter((e) => e.event_type === 'charging_completed')).toHaveLength(kpis.sessions);
    expect(kpis.decisions).toBeGreaterThanOrEqual(3 * kpis.sessions); // confirmed, charging, completed at least
    expect(kpis.energyKwh).toBeGreaterThan(0);
    expect(kpis.waitP95Min).toBeGreaterThanOrEqual(kpis.waitP50Min);
  });

  it('the greedy baseline runs the same herd through the same KPI code and event shapes', async () => {
    const spec = scenarioSpec('herd', { cars: 100 });
    const { kpis, events } = await runVirtual({ spec, stations, seed: 1, strategy: async (ctx) => createGreedyStrategy(ctx), price: virtualPrice });
    expect(kpis.policy).toBe('greedy');
    expect(kpis.charged + kpis.stranded).toBeLessThanOrEqual(100);
    expect(kpis.doubleBookings).toBe(0);
    const types = new Set(events.map((e) => e.event_type));
    expect([...types].every((t) => ['booking_confirmed', 'booking_queued', 'booking_cancelled', 'charging_started', 'charging_completed'].includes(t))).toBe(true);
    expect(events.filter((e) => e.event_type === 'charging_completed')).toHaveLength(kpis.sessions);
  });

  it('a short day prices sessions on the tariff and samples charging power', async () => {
    const r = await runVirtualSim({ scenario: 'day', policy: 'greenlane', seed: 2, cars: 150, hours: 6, stations });
    if (r.compare) throw new Error('expected one run');
    expect(r.kpis.simulatedHours).toBe(6);
    expect(r.kpis.stranded).toBe(0);
    expect(r.kpis.gridAvgPrice).toBeGreaterThan(0.09);
    if (r.kpis.sessions > 0) expect(r.kpis.peakKw).toBeGreaterThan(0);
  });
});

describe('EventQueue', () => {
  it('pops due events by time, then in the order they were scheduled', () => {
    const q = new EventQueue<string>();
    q.push(30, 'c');
    q.push(10, 'a');
    q.push(30, 'd');
    q.push(20, 'b');
    expect(q.popDue(5)).toBeUndefined();
    const out: string[] = [];
    for (let e = q.popDue(30); e; e = q.popDue(30)) out.push(e.value);
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(q.size).toBe(0);
  });
});
