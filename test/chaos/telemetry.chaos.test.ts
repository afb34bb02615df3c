import { afterAll, expect, it } from 'vitest';
import { runChaos, type ChaosResult } from '../../bench/lib/chaos-run.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { describeWithEngine, engineEnv, engineProbe, infra, testNamespace } from '../helpers/infra.js';

/**
 * The CI part of the chaos suite (bench/chaos.ts is the fuller one): a steady simulated fleet in
 * batch mode (acknowledged) against `greenlane ingestion` and `greenlane worker` processes; ingestion
 * and the worker killed with SIGKILL, poison records injected, Redis data lost (the namespace's keys
 * deleted) with ingestion restarted onto the empty state, Kafka stopped for 10 s. Then the
 * audit from Kafka and PostgreSQL, independently.
 */
await describeWithEngine('kafka+redis+postgres', engineProbe('kafka', 'redis', 'postgres'), 'chaos: acknowledged telemetry survives kills, poison and a Kafka outage', () => {
  const ns = testNamespace('chaos');
  let result: ChaosResult | undefined;

  afterAll(async () => {
    if (result) console.log(JSON.stringify({ faults: result.faults, audit: result.audit, sim: result.sim, unexpectedExits: result.unexpectedExits }, null, 2));
    const env = engineEnv(ns);
    await dropNamespace(loadConfig({ env, cwd: process.cwd() }), ns, silentLogger);
  }, 60_000);

  it('0 lost, 0 duplicate rows, every booking transition once, the worker never stalls, recovery ≤ 15 s', async () => {
    result = await runChaos({
      namespace: ns,
      brokers: infra.kafkaBrokers,
      redisUrl: infra.redisUrl,
      databaseUrl: infra.databaseUrl,
      cars: 100,
      hz: 2,
      steadySec: 4,
      faults: [{ kind: 'kill9', service: 'ingestion' }, { kind: 'poison' }, { kind: 'kill9', service: 'worker' }, { kind: 'redis-flush', kill: 'ingestion' }, { kind: 'engine', engine: 'kafka', downSec: 10 }],
      logger: silentLogger,
      say: (line) => console.error(line),
    });
    const { audit, faults } = result;
    expect(audit.acked).toBeGreaterThan(1000);
    expect(audit).toMatchObject({ lostKafka: 0, lostPostgres: 0, duplicateRows: 0, bookingMissing: 0, bookingDuplicates: 0, bookingOrphans: 0, overCapacity: 0, poisonRows: 0 });
    // A service that exited on its own was restarted by the harness, but it is a crash all the same.
    expect(result.unexpectedExits).toEqual({ ingestion: 0, worker: 0 });
    expect(audit.poisonInDlq).toBe(audit.poisonInjected);
    for (const f of faults) {
      expect(f.recoverMs, f.fault).not.toBeNull();
      expect(f.recoverMs!, f.fault).toBeLessThanOrEqual(15_000);
    }
  }, 240_000);
});
