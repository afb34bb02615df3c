import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { probePostgres } from '../../src/adapters/postgres/probe.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import Doctor, { type DoctorReport } from '../../src/commands/doctor.js';
import { describeWithEngine, engineEnv, infra, testNamespace } from '../helpers/infra.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const savedEnv = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

/** `greenlane doctor --json` in-process with exactly these GREENLANE_* variables (see test/unit/doctor.test.ts). */
async function doctorJson(env: Record<string, string>): Promise<{ exitCode: number; report: DoctorReport }> {
  for (const k of Object.keys(process.env)) if (k.startsWith('GREENLANE_')) delete process.env[k];
  Object.assign(process.env, { GREENLANE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-doctor-')) }, env);
  let stdout = '';
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void (stdout += `${String(line)}\n`));
  let exitCode = 0;
  try {
    await Doctor.run(['--json'], root);
  } catch (err) {
    exitCode = (err as { oclif?: { exit?: number } }).oclif?.exit ?? 1;
  } finally {
    vi.restoreAllMocks();
  }
  return { exitCode, report: JSON.parse(stdout) as DoctorReport };
}

const must = (p: Promise<{ ok: boolean; detail: string }>) =>
  p.then((r) => {
    if (!r.ok) throw new Error(r.detail);
  });
const allEngines = async () => {
  await must(probePostgres(infra.databaseUrl, 2000));
  await must(probeRedis(infra.redisUrl, 2000));
  await must(probeKafka(infra.kafkaBrokers, 3000));
};

await describeWithEngine('postgres+redis+kafka', allEngines, 'greenlane doctor against real engines', () => {
  const namespace = testNamespace('doctor');
  const env = {
    ...engineEnv(namespace),
  };

  afterAll(async () => {
    const client = new pg.Client({ connectionString: infra.databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
    await client.end();
  });

  it('passes in external mode and reports each engine', async () => {
    const { exitCode, report } = await doctorJson(env);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ mode: 'external', ok: true });
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.kafka).toMatchObject({ status: 'pass', detail: expect.stringMatching(/\d+ brokers?/) });
    expect(byName.redis).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^Redis \d/) });
    expect(byName.postgres).toMatchObject({ status: 'pass', detail: expect.stringContaining(`schema ${namespace}: no migrations applied`) });
    for (const name of ['kafka', 'redis', 'postgres']) expect(byName[name]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('shows the migrations applied in the namespace schema', async () => {
    const store = await createPostgresStore({ url: infra.databaseUrl, schema: namespace });
    await store.migrate();
    await store.close();
    const { report } = await doctorJson(env);
    expect(report.checks.find((c) => c.name === 'postgres')!.detail).toContain(`schema ${namespace}: migrations 001-core`);
  });

  it('exits 4 when one of the three engines is down, the others still reported', async () => {
    const { exitCode, report } = await doctorJson({ ...env, GREENLANE_DATABASE_URL: 'postgres://greenlane:x@127.0.0.1:1/greenlane' });
    expect(exitCode).toBe(4);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['postgres']);
    expect(report.checks.find((c) => c.name === 'redis')!.status).toBe('pass');
  });
});
