/**
 * Where a virtual run loses port-time (issue 10): promotions and how long each freed port stayed held
 * (idle) before its car plugged in, holds that expired, utilisation while cars queue. One JSON document.
 *
 *   node --import tsx bench/sim-probe.ts [herd|day] [seed] [greenlane|greedy]
 */
import { DEFAULT_STATIONS_FILE } from '../src/app/stack.js';
import { greenlaneStrategy, virtualPrice } from '../src/app/virtual-sim.js';
import { readStationsFile } from '../src/config/stations-file.js';
import { runVirtual } from '../src/sim/virtual/engine.js';
import { createGreedyStrategy } from '../src/sim/virtual/greedy.js';
import { scenarioSpec } from '../src/sim/virtual/scenarios.js';

const scenario = (process.argv[2] ?? 'herd') as 'herd' | 'day';
const seed = Number(process.argv[3] ?? 1);
const policy = process.argv[4] ?? 'greenlane';
const stations = await readStationsFile(DEFAULT_STATIONS_FILE());
const spec = scenarioSpec(scenario, {});
const run = await runVirtual({ spec, stations, seed, strategy: policy === 'greedy' ? async (ctx) => createGreedyStrategy(ctx) : (ctx) => greenlaneStrategy(ctx), price: virtualPrice });
const ev = run.events.filter((e) => e.event_type !== 'telemetry');
const counts: Record<string, number> = {};
for (const e of ev) counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;
// held time: confirmed -> charging_started / expired / cancelled
const conf = new Map<string, { t: number; promoted: boolean; crit: boolean }>();
const heldMs = { promoted: [] as number[], direct: [] as number[] };
let expiredPromoted = 0;
for (const e of ev) {
  if (e.event_type === 'booking_confirmed') conf.set(e.booking_id!, { t: e.timestamp, promoted: Boolean(e.promoted), crit: false });
  if (e.event_type === 'charging_started' || e.event_type === 'booking_expired' || e.event_type === 'booking_cancelled') {
    const c = conf.get(e.booking_id!);
    if (!c) continue;
    (c.promoted ? heldMs.promoted : heldMs.direct).push(e.timestamp - c.t);
    if (e.event_type === 'booking_expired' && c.promoted) expiredPromoted++;
    conf.delete(e.booking_id!);
  }
}
const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s.length ? Math.round(s[Math.floor(p * (s.length - 1))] / 600) / 100 : 0; };
const sum = (a: number[]) => Math.round(a.reduce((n, x) => n + x, 0) / 3_600_000);
const k = run.kpis;
console.log(JSON.stringify({ scenario, seed, policy, p50: k.waitP50Min, p95: k.waitP95Min, hours: k.simulatedHours, util: k.utilisation, utilQ: k.utilisationWhileQueued, energy: k.energyKwh, deferred: k.deferred, counts,
  promotedHeldMin: { n: heldMs.promoted.length, p50: q(heldMs.promoted, 0.5), p95: q(heldMs.promoted, 0.95), portHours: sum(heldMs.promoted) },
  directHeldMin: { n: heldMs.direct.length, p50: q(heldMs.direct, 0.5), p95: q(heldMs.direct, 0.95), portHours: sum(heldMs.direct) }, expiredPromoted, stationUtil: k.stationUtilisation }, null, 1));
