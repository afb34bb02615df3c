/**
 * Pipeline benchmark (not a test; never part of `npm test`): drives the whole stack (gRPC
 * ingestion → fleet state + bus → worker → store) at rising offered rates, embedded and on the
 * real engines, then measures the raw ceilings of the same engines in the same run. Progress on
 * stderr; one JSON document on stdout. See bench/README.md for what the numbers mean.
 *
 *   node --import tsx bench/pipeline.ts [--mode embedded|external|both] [--quick]
 *        [--rates 2500,5000,…] [--window 10] [--hz 10] [--load-procs 1] [--profile-rate 15000] [--worker-process] [--pglite-thread on|off] [--out file]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/observability/logger.js';
import { runMode, type ModeResult, type RunSettings } from './lib/mode.js';
import { say } from './lib/stats.js';
import { TARGETS, verdict } from './lib/verdict.js';

const FULL_RATES = [2500, 5000, 10_000, 15_000, 20_000, 25_000, 30_000];
const QUICK_RATES = [2500, 5000, 15_000, 25_000];

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    quick: { type: 'boolean', default: false },
    rates: { type: 'string' },
    window: { type: 'string' },
    hz: { type: 'string', default: '10' },
    'load-procs': { type: 'string', default: '1' },
    connections: { type: 'string', default: '4' },
    'batch-size': { type: 'string', default: '500' },
    'profile-rate': { type: 'string', default: '0' },
    'worker-process': { type: 'boolean', default: false },
    'pglite-thread': { type: 'string', default: 'on' },
    out: { type: 'string' },
    'log-level': { type: 'string', default: 'error' },
  },
});

const mode = values.mode!;
if (!['embedded', 'external', 'both'].includes(mode)) {
  process.stderr.write(`--mode must be embedded, external or both (got ${mode})\n`);
  process.exit(2);
}
const positive = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number (got ${v})\n`);
    process.exit(2);
  }
  return n;
};
const windowSec = positive('window', values.window ?? (values.quick ? '4' : '10'));
const settings: RunSettings = {
  rates: values.rates ? values.rates.split(',').map((r) => positive('rates', r)) : values.quick ? QUICK_RATES : FULL_RATES,
  windowSec,
  // Long enough for a backlog to drain, bounded so the run always ends.
  settleMs: Math.max(10_000, windowSec * 2000),
  hz: positive('hz', values.hz!),
  loadProcesses: positive('load-procs', values['load-procs']!),
  connectionsPerProcess: positive('connections', values.connections!),
  batchSize: positive('batch-size', values['batch-size']!),
  profileRate: Number(values['profile-rate']) || 0,
  workerProcess: values['worker-process']!,
  pgliteThread: values['pglite-thread'] !== 'off',
  logger: createLogger({ level: values['log-level'], name: 'bench', pretty: false }),
};

async function main(): Promise<void> {
  const at = new Date().toISOString();
  const startLoad = loadavg()[0];
  let embedded: ModeResult | undefined;
  let external: ModeResult | undefined;
  if (mode !== 'external') embedded = await runMode('embedded', settings);
  if (mode !== 'embedded') external = await runMode('external', settings);
  const doc = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version, loadAvg1mAtStart: startLoad, loadAvg1mAtEnd: loadavg()[0] },
    at,
    settings: { rates: settings.rates, windowSec, settleMs: settings.settleMs, hz: settings.hz, loadProcesses: settings.loadProcesses, connectionsPerProcess: settings.connectionsPerProcess, batchSize: settings.batchSize, workerProcess: settings.workerProcess, pgliteThread: settings.pgliteThread, quick: values.quick },
    embedded,
    external,
    targets: TARGETS,
    verdict: verdict(embedded, external),
  };
  const json = JSON.stringify(doc, null, 2);
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, json + '\n');
  }
  process.stdout.write(json + '\n');
}

main().then(
  // Stray handles (grpc channels, kafkajs timers) must not keep a finished benchmark alive.
  () => process.exit(0),
  (err) => {
    say(`failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
