import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { ConfigError, EngineUnreachableError, UsageError } from '../cli/errors.js';
import { clientFlags } from '../cli/flags.js';
import { isTTY } from '../cli/output.js';
import { untilSignal } from '../cli/shutdown.js';
import { clientToken } from '../config/token.js';
import { DEFAULT_TIMESTAMP_WINDOW } from '../domain/telemetry.js';
import { createLogger } from '../observability/logger.js';
import { createSimulator, type SimSummary } from '../services/simulator.js';

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
  ].join('\n');
  static override examples = [
    '<%= config.bin %> sim --cars 50',
    '<%= config.bin %> sim --cars 50 --duration 30 --json',
    '<%= config.bin %> sim --cars 2000 --hz 2 --batch --seed 7',
    '<%= config.bin %> sim --cars 20 --speed 60 --battery 8-20 --server 10.0.0.5:50051 --token $TOKEN',
  ];
  static override flags = {
    ...clientFlags,
    cars: Flags.integer({ summary: 'Number of cars.', default: 50, min: 1, max: 200_000, env: 'GREENLANE_SIM_CARS' }),
    seed: Flags.integer({ summary: 'Seed for trajectories, packs and initial batteries.', default: 1, env: 'GREENLANE_SIM_SEED' }),
    hz: Flags.integer({ summary: 'Updates per car per second.', default: 1, min: 1, max: 100, env: 'GREENLANE_SIM_HZ' }),
    duration: Flags.integer({ summary: 'Seconds to run (default: until Ctrl-C).', min: 1, env: 'GREENLANE_SIM_DURATION' }),
    speed: Flags.integer({ summary: 'Simulated seconds per real second.', default: 1, min: 1, max: 3600, env: 'GREENLANE_SIM_SPEED' }),
    batch: Flags.boolean({ summary: 'Send batches over StreamTelemetryBatch instead of one stream per car.', default: false, env: 'GREENLANE_SIM_BATCH' }),
    battery: Flags.string({ summary: 'Initial battery range in percent, e.g. 35-95 or 8-20 for a low-battery fleet.', default: '35-95', env: 'GREENLANE_SIM_BATTERY' }),
    'first-car': Flags.integer({ summary: 'Index of the first car (0 = CAR-001), to split a fleet across simulators.', default: 0, min: 0, env: 'GREENLANE_SIM_FIRST_CAR' }),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<SimSummary & { server: string; seed: number }> {
    const { config } = this.cfg;
    const f = this.flags;
    const initialBattery = parseRange(f.battery);
    const token = clientToken(f.token, config.dataDir);
    this.warnAboutTimeWindow(f.speed, f.duration);
    const logger = createLogger({ level: f['log-level'] ?? 'warn', name: 'sim' });
    const sim = createSimulator({
      cars: f.cars,
      seed: f.seed,
      hz: f.hz,
      durationSec: f.duration,
      speed: f.speed,
      batch: f.batch,
      server: config.server,
      token,
      logger,
      initialBattery,
      firstCar: f['first-car'],
    });
    const { signal, dispose } = untilSignal();
    try {
      await sim.start(signal);
    } catch (err) {
      dispose();
      throw new EngineUnreachableError('The ingestion server', config.server, err, [
        'Start it with `greenlane up` (embedded) or `greenlane ingestion`, or point --server / GREENLANE_SERVER at it.',
      ]);
    }
    this.say(`Simulating ${f.cars} cars at ${f.hz} Hz${f.speed > 1 ? `, ${f.speed}× time` : ''} → ${config.server}${f.batch ? ' (batched)' : ''}${f.duration ? ` for ${f.duration} s` : '; Ctrl-C to stop'}.`);
    const progress = isTTY() && !this.json ? setInterval(() => this.say(progressLine(sim.summary())), PROGRESS_EVERY_MS) : undefined;
    const summary = await sim.done;
    if (progress) clearInterval(progress);
    dispose();
    if (summary.fatal) {
      throw new ConfigError(`The server refused the simulator: ${summary.fatal}`, [
        'Pass --token (GREENLANE_API_TOKEN) with one of the server’s GREENLANE_API_TOKENS, or use the dev token of the `greenlane up` you are talking to.',
      ]);
    }
    this.say(summaryText(summary));
    return { ...summary, server: config.server, seed: f.seed };
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
