/**
 * Chaos benchmark (not a test; `npm run test:chaos` is the short CI part): a steady simulated fleet
 * in batch mode (acknowledged) against `greenlane ingestion` and `greenlane worker` processes in a
 * fresh namespace; kill -9 of ingestion and of the worker (3× each), poison records, Redis data lost
 * (the namespace's keys deleted, alone and with ingestion restarted), Kafka, PostgreSQL and Redis
 * stopped and started; then the audit from Kafka and PostgreSQL. Progress on
 * stderr, one JSON document on stdout. The engines are shared: each outage is short, one at a time.
 *
 *   node --import tsx bench/chaos.ts [--cars 200] [--hz 2] [--kills 3] [--down 15] [--no-engines] [--keep] [--logs DIR]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { dropNamespace } from '../src/app/namespace-cleanup.js';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/observability/logger.js';
import { runChaos, type Fault } from './lib/chaos-run.js';

const { values } = parseArgs({
  options: {
    cars: { type: 'string', default: '200' },
    hz: { type: 'string', default: '2' },
    kills: { type: 'string', default: '3' },
    down: { type: 'string', default: '15' },
    steady: { type: 'string', default: '6' },
    'no-engines': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    logs: { type: 'string' },
  },
});

const env = process.env;
const brokers = (env.GREENLANE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const redisUrl = env.GREENLANE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = env.GREENLANE_DATABASE_URL ?? 'postgres://greenlane:greenlane_password@127.0.0.1:5432/greenlane';
const namespace = `chaosb_${randomBytes(4).toString('hex')}`;
const kills = Number(values.kills);
const downSec = Number(values.down);

const faults: Fault[] = [];
for (let i = 0; i < kills; i++) faults.push({ kind: 'kill9', service: 'ingestion' }, { kind: 'kill9', service: 'worker' });
faults.push({ kind: 'poison' });
// Redis losing its data while holds are active: found by the coordinator's state marker, rebuilt from the log;
// then again with ingestion restarted onto the empty state (its stations are back before any check runs).
faults.push({ kind: 'redis-flush' }, { kind: 'redis-flush', kill: 'ingestion' });
if (!values['no-engines']) {
  faults.push({ kind: 'engine', engine: 'kafka', downSec }, { kind: 'engine', engine: 'postgres', downSec }, { kind: 'engine', engine: 'redis', downSec: Math.min(downSec, 5) });
  // The worst case of the issue: Kafka down and ingestion killed while it holds accepted events.
  faults.push({ kind: 'engine', engine: 'kafka', downSec, kill: 'ingestion' });
}

const started = Date.now();
const say = (line: string) => process.stderr.write(`${line}\n`);
try {
  const result = await runChaos({
    namespace,
    brokers,
    redisUrl,
    databaseUrl,
    faults,
    cars: Number(values.cars),
    hz: Number(values.hz),
    steadySec: Number(values.steady),
    logger: silentLogger,
    say,
    logDir: values.logs,
  });
  const a = result.audit;
  const targets = {
    zeroLost: a.lostKafka === 0 && a.lostPostgres === 0,
    zeroDuplicateRows: a.duplicateRows === 0 && a.bookingDuplicates === 0,
    bookingsOnce: a.bookingMissing === 0 && a.bookingOrphans === 0,
    noPortOverCapacity: a.overCapacity === 0,
    noUnexpectedExits: result.unexpectedExits.ingestion === 0 && result.unexpectedExits.worker === 0,
    poisonToDlq: a.poisonInDlq === a.poisonInjected && a.poisonRows === 0,
    recoveryWithin15s: result.faults.every((f) => f.recoverMs !== null && f.recoverMs <= 15_000),
  };
  process.stdout.write(`${JSON.stringify({ ...result, targets, ok: Object.values(targets).every(Boolean), wallSec: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`);
} finally {
  if (!values.keep) await dropNamespace(loadConfig({ env: { GREENLANE_KAFKA_BROKERS: brokers.join(','), GREENLANE_REDIS_URL: redisUrl, GREENLANE_DATABASE_URL: databaseUrl, GREENLANE_NAMESPACE: namespace }, cwd: process.cwd() }), namespace, silentLogger);
}
