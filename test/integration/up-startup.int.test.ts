import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { describeWithEngine, engineEnv, engineProbe, infra, testNamespace } from '../helpers/infra.js';
import { runCli } from '../helpers/run-cli.js';

/** `greenlane up` at start: an engine that does not answer fails it (exit 4) within the bounded wait; a fresh namespace starts clean. */
await describeWithEngine('kafka+redis+postgres', engineProbe('kafka', 'redis', 'postgres'), '`greenlane up` start-up', () => {
  const ns = testNamespace('upstart');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-upstart-'));
  const env = {
    ...engineEnv(ns),
    GREENLANE_DATA_DIR: dataDir,
    GREENLANE_API_TOKENS: 'upstart-token',
    FORCE_COLOR: '0',
  };
  afterAll(async () => {
    await dropNamespace(loadConfig({ env, cwd: dataDir }), ns, silentLogger);
  }, 60_000);

  // Port 1 on loopback refuses at once: the engine is down, not slow.
  it.each([
    ['Redis', { GREENLANE_REDIS_URL: 'redis://127.0.0.1:1' }, ['--engine-wait', '3s']],
    ['Kafka', { GREENLANE_KAFKA_BROKERS: '127.0.0.1:1', GREENLANE_ENGINE_WAIT_SEC: '3' }, []],
  ])('exits 4 naming %s when it is unreachable, after the bounded wait, without starting a service', async (engine, patch, args) => {
    const started = Date.now();
    const r = await runCli(['up', ...args], { env: { ...env, ...patch }, reject: false, all: true, timeout: 60_000 });
    const elapsed = (Date.now() - started) / 1000;
    const out = String(r.all);
    expect(r.exitCode, out).toBe(4);
    expect(out).toMatch(new RegExp(`${engine} is unreachable after waiting 3 s`));
    expect(out).toMatch(new RegExp(`Waiting up to 3 s for ${engine}`));
    for (const other of ['Redis', 'Kafka', 'PostgreSQL'].filter((e) => e !== engine)) expect(out).not.toMatch(new RegExp(`${other} is unreachable|${other} are unreachable`));
    expect(out).not.toContain('Supervising');
    expect(elapsed).toBeGreaterThanOrEqual(3);
    expect(elapsed, out).toBeLessThan(3 + 25); // the wait plus CLI start-up, not 30 s restarts forever
  }, 90_000);

  it('creates the topics of a fresh namespace before the worker subscribes: no child exits on the first start', async () => {
    const up = runCli(['up', '--grpc-port', '0', '--grid-port', String(20000 + Math.floor(Math.random() * 20000)), '--metrics-port', '0'], { env, reject: false, all: true });
    let out = '';
    up.all?.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(out.includes('worker') && out.includes('Worker consuming') && out.includes('ingestion'))) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 3_000)); // a crash right after subscribing would show here
    const admin = new Kafka({ brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${ns}.`)).sort();
    await admin.disconnect();
    up.kill('SIGINT');
    const r = await up;
    const all = String(r.all);
    expect(all).toContain('Worker consuming');
    expect(topics).toEqual([`${ns}.fleet-events`, `${ns}.fleet-events.dlq`]);
    expect(all).not.toMatch(/exited \(|restarting|does not host this topic-partition/);
    expect(r.exitCode, all.slice(-2000)).toBe(130);
  }, 120_000);
});
