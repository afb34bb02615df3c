/**
 * Virtual-time simulation benchmark (not a test; never part of `npm test`). One JSON document on
 * stdout, progress on stderr. See bench/README.md.
 *
 *   node --import tsx bench/sim.ts [--cars 10000] [--hours 16] [--port-scale 10] [--policy greenlane|greedy]
 *   node --import tsx bench/sim.ts --compare [--seeds 1,2,3,4,5] [--herd-cars 1000] [--day-cars 1000]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_STATIONS_FILE } from '../src/app/stack.js';
import { runVirtualSim } from '../src/app/virtual-sim.js';
import type { Station } from '../src/domain/charging.js';
import { readStationsFile } from '../src/config/stations-file.js';
import type { VirtualKpis } from '../src/sim/virtual/kpis.js';
import type { ScenarioName } from '../src/sim/virtual/scenarios.js';
import type { PolicyName } from '../src/sim/virtual/types.js';
import { dayTargets, herdTargets } from '../src/sim/virtual/targets.js';

const { values } = parseArgs({
  options: {
    compare: { type: 'boolean', default: false },
    cars: { type: 'string', default: '10000' },
    hours: { type: 'string', default: '16' },
    'port-scale': { type: 'string' },
    policy: { type: 'string', default: 'greenlane' },
    seeds: { type: 'string', default: '1,2,3,4,5' },
    'herd-cars': { type: 'string', default: '1000' },
    'day-cars': { type: 'string', default: '1000' },
    'redis-url': { type: 'string' },
  },
});

const say = (msg: string) => process.stderr.write(`${msg}\n`);
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const shipped = await readStationsFile(DEFAULT_STATIONS_FILE());

async function timed(scenario: ScenarioName, policy: PolicyName, seed: number, cars: number, stations: Station[], hours?: number) {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const r = await runVirtualSim({ scenario, policy, seed, cars, hours, stations, redisUrl: values['redis-url'] });
  const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  if (r.compare) throw new Error('unexpected compare result');
  // CPU time of the process (main thread and GC helpers): on a loaded machine it stays near the unloaded wall time.
  return { wallSec: round(wallSec), cpuSec: round((used.user + used.system) / 1e6), kpis: r.kpis };
}

/** Scale: one day-scenario run of many cars on the shipped stations (58 ports), or with each station's ports multiplied. */
async function scale() {
  const cars = Number(values.cars);
  const hours = Number(values.hours);
  const portScale = Number(values['port-scale'] ?? 1);
  const stations = shipped.map((s) => ({ ...s, ports: s.ports * portScale }));
  say(`scale: day scenario, ${cars} cars × ${hours} simulated h, ${stations.reduce((n, s) => n + s.ports, 0)} ports (shipped stations × ${portScale}), policy ${values.policy}`);
  const load = round(loadavg()[0]);
  const { wallSec, cpuSec, kpis } = await timed('day', values.policy as PolicyName, 1, cars, stations, hours);
  say(`  ${wallSec} s wall, ${cpuSec} s CPU`);
  return {
    bench: 'sim-scale',
    scenario: 'day',
    policy: values.policy,
    cars,
    simulatedHours: kpis.simulatedHours,
    ports: kpis.ports,
    portScale,
    wallSec,
    cpuSec,
    carSimHoursPerSec: round((cars * kpis.simulatedHours) / wallSec, 0),
    decisions: kpis.decisions,
    decisionsPerSec: round(kpis.decisions / wallSec, 0),
    targetWallSec: 60,
    met: wallSec <= 60,
    machineLoadAvg1mAtStart: load,
    machineLoadAvg1m: round(loadavg()[0]),
    kpis,
  };
}

interface Pair {
  seed: number;
  greenlane: VirtualKpis;
  greedy: VirtualKpis;
  wallSec: number;
}

async function pairs(scenario: ScenarioName, cars: number, seeds: number[]): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const seed of seeds) {
    const g = await timed(scenario, 'greenlane', seed, cars, shipped);
    const n = await timed(scenario, 'greedy', seed, cars, shipped);
    say(`  ${scenario} seed ${seed}: greenlane p95 ${g.kpis.waitP95Min} min (below 30 %: ${g.kpis.needWaitP95Min}), $${g.kpis.avgPricePaid}, evening peak ${g.kpis.eveningPeakKw} kW, ${g.kpis.energyKwh} kWh · greedy p95 ${n.kpis.waitP95Min} min (below 30 %: ${n.kpis.needWaitP95Min}), $${n.kpis.avgPricePaid}, evening peak ${n.kpis.eveningPeakKw} kW, ${n.kpis.energyKwh} kWh`);
    out.push({ seed, greenlane: g.kpis, greedy: n.kpis, wallSec: round(g.wallSec + n.wallSec) });
  }
  return out;
}

const allMet = (rows: Record<string, unknown>[]) => rows.every((r) => Object.values(r).every((v) => typeof v !== 'object' || v === null || (v as { met: boolean }).met));

async function compare() {
  const seeds = values.seeds!.split(',').map(Number);
  say(`compare: seeds ${seeds.join(',')}, herd of ${values['herd-cars']} and day of ${values['day-cars']} on the shipped stations`);
  const herd = await pairs('herd', Number(values['herd-cars']), seeds);
  const day = await pairs('day', Number(values['day-cars']), seeds);
  const herdT = herd.map((p) => ({ seed: p.seed, ...herdTargets(p.greenlane, p.greedy) }));
  const dayT = day.map((p) => ({ seed: p.seed, ...dayTargets(p.greenlane, p.greedy) }));
  return {
    bench: 'sim-compare',
    seeds,
    herd: { cars: Number(values['herd-cars']), runs: herd, targets: herdT, allMet: allMet(herdT) },
    day: { cars: Number(values['day-cars']), runs: day, targets: dayT, allMet: allMet(dayT) },
    machineLoadAvg1m: round(loadavg()[0]),
  };
}

const result = values.compare ? await compare() : await scale();
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
