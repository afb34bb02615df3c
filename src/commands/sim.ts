import { Flags } from '@oclif/core';
import { runHerd, simStations, startFleetSim } from '../app/sim-runs.js';
import { BaseCommand } from '../cli/base-command.js';
import { clientFlags } from '../cli/flags.js';
import { isTTY } from '../cli/output.js';
import { loadConfig } from '../config/load.js';
import { untilSignal } from '../cli/shutdown.js';
import { DEFAULT_TIMESTAMP_WINDOW } from '../domain/telemetry.js';
import { ConfigError, UsageError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import type { DriverCounts } from '../sim/driver.js';
import type { HerdResult } from '../sim/herd-scenario.js';
import type { SimSummary } from '../sim/simulator.js';
import { runVirtualSim, type VirtualSimResult } from '../app/virtual-sim.js';
import { compareTable, kpiTable } from '../sim/virtual/format.js';

const PROGRESS_EVERY_MS = 3_000;

export default class Sim extends BaseCommand<typeof Sim> {
  static override summary = 'Simulate a fleet of cars driving Manhattan and streaming telemetry over gRPC.';
  static override description = [
    'Cars drive an avenue/street grid inside the original bounding box (lat 40.700–40.850, lon −74.020 to −73.930), at speeds set by',
    'street type and traffic, and their batteries drain by distance from a per-car pack model. Same --seed, same trajectories.',
    'One stream per car over shared connections (the original RPC), or --batch for StreamTelemetryBatch (one stream per connection).',
    '--speed accelerates simulated time: event timestamps advance speed× faster than the clock (ingestion accepts up to 1 day ahead).',
    'Streams reconnect with backoff; a full stream is never overfilled (updates are skipped until it drains).',
    'The token defaults to the embedded dev token written by `greenlane up`. Ctrl-C stops and prints the summary.',
    '',
    '--scenario herd drives the configured server (`greenlane up`, or ingestion instances on real engines): every car starts low at once,',
    'the cars obey the decisions (drive to the booked station, charge, wait when queued), and the run ends when every car has charged or',
    'stranded, or at --limit-hours of simulated time. The report (confirmed, queued, expired, cancelled, stranded, doubleBookings, waits,',
    'price paid vs the grid, utilisation) is computed from the event log only (WatchEvents, subscribed before the first car moves); double',
    'bookings come from an independent replay of it. The coordinator follows event time, which only moves forward: run each herd',
    'against a freshly started `greenlane up` or a fresh GREENLANE_NAMESPACE.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> sim --cars 50',
    '<%= config.bin %> sim --cars 50 --duration 30 --json',
    '<%= config.bin %> sim --cars 2000 --hz 2 --batch --seed 7',
    '<%= config.bin %> sim --cars 20 --speed 60 --battery 8-20 --server 10.0.0.5:50051 --token $TOKEN',
    '<%= config.bin %> sim --scenario herd --cars 1000 --json',
    '<%= config.bin %> sim --scenario day --clock virtual --compare --seed 3',
  ];
  static override flags = {
    ...clientFlags,
    cars: Flags.integer({ summary: 'Number of cars.', default: 50, min: 1, max: 200_000, env: 'GREENLANE_SIM_CARS' }),
    seed: Flags.integer({ summary: 'Seed for trajectories, packs and initial batteries.', default: 1, env: 'GREENLANE_SIM_SEED' }),
    hz: Flags.integer({ summary: 'Updates per car per second (default 1; 4 for --scenario herd).', min: 1, max: 100, env: 'GREENLANE_SIM_HZ' }),
    duration: Flags.integer({ summary: 'Seconds to run (default: until Ctrl-C).', min: 1, env: 'GREENLANE_SIM_DURATION' }),
    speed: Flags.integer({ summary: 'Simulated seconds per real second (default 1; 240 for --scenario herd).', min: 1, max: 3600, env: 'GREENLANE_SIM_SPEED' }),
    batch: Flags.boolean({ summary: 'Send batches over StreamTelemetryBatch instead of one stream per car.', default: false, env: 'GREENLANE_SIM_BATCH' }),
    battery: Flags.string({ summary: 'Initial battery range in percent, e.g. 35-95 or 8-20 for a low-battery fleet (default 35-95; 8-25 for --scenario herd).', env: 'GREENLANE_SIM_BATTERY' }),
    scenario: Flags.option({ options: ['herd', 'day'] as const, summary: 'herd: every car starts low at once; the cars obey the decisions; report from the event log. day (--clock virtual): 24 h of fleet operation.', env: 'GREENLANE_SIM_SCENARIO' })(),
    clock: Flags.option({ options: ['wall', 'virtual'] as const, default: 'wall' as const, summary: 'virtual: a deterministic discrete-event run in this process (the same coordinator, no gRPC, no server); same seed → same report.', env: 'GREENLANE_SIM_CLOCK' })(),
    policy: Flags.option({ options: ['greenlane', 'greedy'] as const, default: 'greenlane' as const, summary: '--clock virtual: who decides where cars charge (greedy: nearest free port, first come first served).' })(),
    compare: Flags.boolean({ summary: '--clock virtual: run greenlane and greedy on the same seed, side by side.', default: false }),
    'redis-url': Flags.string({ summary: '--clock virtual: run the reservations (the same Lua scripts) on this Redis instead of in memory.' }),
    'max-lag': Flags.integer({ summary: 'herd: most simulated seconds the server may trail this run\'s clock before the run slows simulated time (0 = never slow down).', default: 60, min: 0, max: 3600, env: 'GREENLANE_SIM_MAX_LAG' }),
    'limit-hours': Flags.integer({ summary: 'herd: stop after this many simulated hours even if some cars never charged.', default: 16, min: 1, max: 20, env: 'GREENLANE_SIM_LIMIT_HOURS' }),
    react: Flags.boolean({ summary: 'Cars obey booking decisions: drive to the booked station, charge, wait when queued, resume (--no-react: drive only).', default: true, allowNo: true, env: 'GREENLANE_SIM_REACT' }),
    stations: Flags.string({ summary: 'The stations file the server loaded, for driving to booked stations (default: its configured GREENLANE_STATIONS_FILE or the Manhattan set).', env: 'GREENLANE_STATIONS_FILE' }),
    'first-car': Flags.integer({ summary: 'Index of the first car (0 = CAR-001), to split a fleet across simulators.', default: 0, min: 0, env: 'GREENLANE_SIM_FIRST_CAR' }),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<(SimSummary & { server: string; seed: number; coordination?: DriverCounts }) | HerdResult | VirtualSimResult> {
    if (this.flags.clock === 'virtual') return this.runVirtual();
    if (this.flags.scenario === 'day') throw new UsageError('--scenario day runs only on the virtual clock', ['Add --clock virtual.']);
    if (this.flags.scenario === 'herd') return this.runHerd();
    const { config } = this.cfg;
    const f = this.flags;
    const speed = f.speed ?? 1;
    const hz = f.hz ?? 1;
    const initialBattery = parseRange(f.battery ?? '35-95');
    this.warnAboutTimeWindow(speed, f.duration);
    const logger = createLogger({ level: f['log-level'] ?? 'warn', name: 'sim' });
    const { signal, dispose } = untilSignal();
    const fleet = { logger, token: f.token, cars: f.cars, seed: f.seed, hz, speed, batch: f.batch, initialBattery, stationsFile: f.stations };
    const { sim, driver } = await startFleetSim(this.cfg, { ...fleet, durationSec: f.duration, firstCar: f['first-car'], react: f.react, signal }).catch((err: unknown) => {
      dispose();
      throw err;
    });
    this.say(`Simulating ${f.cars} cars at ${hz} Hz${speed > 1 ? `, ${speed}× time` : ''} → ${config.server}${f.batch ? ' (batched)' : ''}${f.duration ? ` for ${f.duration} s` : '; Ctrl-C to stop'}.`);
    const progress = isTTY() && !this.json ? setInterval(() => this.say(progressLine(sim.summary())), PROGRESS_EVERY_MS) : undefined;
    const summary = await sim.done;
    if (progress) clearInterval(progress);
    dispose();
    if (summary.fatal) {
      throw new ConfigError(`The server refused the simulator: ${summary.fatal}`, [
        'Pass --token (GREENLANE_API_TOKEN) with one of the server’s GREENLANE_API_TOKENS, or use the dev token of the `greenlane up` you are talking to.',
      ]);
    }
    driver?.detach();
    this.say(summaryText(summary));
    const coordination = driver?.counts();
    if (coordination) this.say(`  bookings obeyed: ${coordination.confirmed} confirmed · ${coordination.queued} queued · ${coordination.chargingStarted} started charging · ${coordination.charged} charged · ${coordination.stranded} stranded`);
    return { ...summary, server: config.server, seed: f.seed, ...(coordination ? { coordination } : {}) };
  }

  private async runHerd(): Promise<HerdResult> {
    const { config } = this.cfg;
    const f = this.flags;
    const stations = await simStations(this.cfg, f.stations);
    const speed = f.speed ?? 240;
    const hz = f.hz ?? 4;
    const logger = createLogger({ level: f['log-level'] ?? 'warn', name: 'sim' });
    const initialBattery = parseRange(f.battery ?? '8-25');
    const { signal, dispose } = untilSignal();
    this.say(`Herd: ${f.cars} cars, battery ${f.battery ?? '8-25'} %, against ${stations.length} stations (${stations.reduce((n, s) => n + s.ports, 0)} ports) at ${config.server}; ${speed}× time at ${hz} Hz, limit ${f['limit-hours']} simulated h.`);
    try {
      const result = await runHerd(this.cfg, stations, {
        logger,
        token: f.token,
        cars: f.cars,
        seed: f.seed,
        speed,
        hz,
        batch: f.batch,
        initialBattery,
        limitHours: f['limit-hours'],
        maxLagSec: f['max-lag'],
        signal,
        onProgress: (p) => this.say(`  ${p.simulatedHours.toFixed(1)} h simulated at ${p.speed}×${p.slowdowns ? ` (slowed ${p.slowdowns}× for the server)` : ''}: ${p.charged}/${p.cars} charged, ${p.driver.chargingStarted - p.charged} charging or done, ${p.stranded} stranded, ${p.events} events`),
      });
      this.say(herdText(result));
      return result;
    } finally {
      dispose();
    }
  }

  /** src/app/virtual-sim.ts does the work; --cars and --limit-hours override the scenario only when given. */
  private async runVirtual(): Promise<VirtualSimResult> {
    const f = this.flags;
    if (!f.scenario) throw new UsageError('--clock virtual needs --scenario herd or day', ['Example: greenlane sim --scenario herd --clock virtual --compare']);
    const given = (flag: string) => this.argv.some((a) => a === flag || a.startsWith(`${flag}=`));
    const result = await runVirtualSim({
      scenario: f.scenario, policy: f.policy, compare: f.compare, seed: f.seed, redisUrl: f['redis-url'],
      cars: given('--cars') ? f.cars : undefined, hours: given('--limit-hours') ? f['limit-hours'] : undefined,
      // Not this.cfg: it reads flags named like config keys, and this --clock (wall|virtual) is not the coordinator's GREENLANE_CLOCK.
      stationsFile: f.stations ?? loadConfig({ configPath: f.config }).config.stationsFile,
    });
    this.say(result.compare ? compareTable(result.greenlane, result.greedy) : kpiTable(result.kpis));
    return result;
  }

  private warnAboutTimeWindow(speed: number, duration?: number): void {
    if (speed <= 1) return;
    const aheadMs = (duration ?? Infinity) * (speed - 1) * 1000;
    if (aheadMs <= DEFAULT_TIMESTAMP_WINDOW.futureMs) return;
    const minutes = Math.floor(DEFAULT_TIMESTAMP_WINDOW.futureMs / (speed - 1) / 60_000);
    this.warn(`At --speed ${speed} simulated time runs more than a day ahead of the clock after ~${minutes} min; ingestion rejects later updates (timestamp).`);
  }
}

function parseRange(text: string): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo > hi || hi > 100) throw new UsageError(`--battery expects MIN-MAX percent within 0-100, got "${text}"`, ['Example: --battery 8-20']);
  return [lo, hi];
}

function progressLine(s: SimSummary): string {
  return `  ${s.durationSec.toFixed(0)} s: sent ${s.sent} (${s.ratePerSec}/s), rejected ${s.rejected}, errors ${s.errors}, reconnects ${s.reconnects}${s.skipped ? `, skipped ${s.skipped}` : ''}`;
}

function summaryText(s: SimSummary): string {
  return [
    `Done: ${s.cars} cars, ${s.durationSec} s (${s.simulatedSec} s simulated).`,
    `  sent ${s.sent} at ${s.ratePerSec}/s · rejected ${s.rejected} · responses ${s.responses} · errors ${s.errors} · reconnects ${s.reconnects} · skipped ${s.skipped}`,
  ].join('\n');
}

function herdText(r: HerdResult): string {
  const ms = (v: number) => (v >= 60_000 ? `${(v / 60_000).toFixed(1)} min` : `${(v / 1000).toFixed(1)} s`);
  const price = (v: number | null) => (v === null ? 'n/a' : `$${v.toFixed(3)}/kWh`);
  return [
    `Herd done (${r.endedBy}): ${r.cars} cars, ${r.simulatedHours} h simulated in ${r.wallSec} s.`,
    `  speed ${r.effectiveSpeed}× on average (asked ${r.targetSpeed}×; slowed ${r.slowdowns}× for the server, lowest ${r.minSpeed}×)`,
    `  confirmed ${r.confirmed} · queued ${r.queued} · expired ${r.expired} · cancelled ${r.cancelled} · failed ${r.failed} · sessions ${r.sessions} (${r.charged} cars charged)`,
    `  stranded ${r.stranded} · double bookings ${r.doubleBookings} (independent audit of the event log)`,
    `  wait for a port p50 ${ms(r.waitP50Ms)} · p95 ${ms(r.waitP95Ms)} (simulated time)`,
    `  price paid ${price(r.avgPricePaid)} vs grid average ${price(r.gridAvgPrice)} · ${r.kwh} kWh for $${r.cost} · utilisation ${(r.utilisation * 100).toFixed(1)} %`,
  ].join('\n');
}
