import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { describeWithEngine, engineEnv, engineProbe, testNamespace } from '../helpers/infra.js';
import { freePort, scrapeMetric } from '../helpers/net.js';
import { runCli } from '../helpers/run-cli.js';

/** A consecutive pair (base, base+1) for ingestion's and the worker's /metrics. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const base = await freePort();
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(base + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next) return base;
  }
}

await describeWithEngine('kafka+redis+postgres', engineProbe('kafka', 'redis', 'postgres'), '`greenlane up` on real engines', () => {
  const ns = testNamespace('up');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-up-'));
  const env = {
    ...engineEnv(ns),
    GREENLANE_DATA_DIR: dataDir,
    GREENLANE_API_TOKENS: 'up-int-token',
    GREENLANE_API_TOKEN: 'up-int-token',
  };
  let up: ResultPromise | undefined;

  afterAll(async () => {
    up?.kill('SIGKILL');
    await dropNamespace(loadConfig({ env, cwd: dataDir }), ns, silentLogger);
  }, 60_000);

  it('supervises one process per service, streams end to end, and drains them in reverse order on Ctrl-C', async () => {
    const [grpc, grid, metrics] = [await freePort(), await freePort(), await freePortPair()];
    up = runCli(['up', '--sim', '5', '--grpc-port', String(grpc), '--grid-port', String(grid), '--metrics-port', String(metrics)], {
      env: { ...env, FORCE_COLOR: '0' },
      reject: false,
      all: true,
    });
    const ingestionMetrics = `http://127.0.0.1:${metrics}/metrics`;
    const workerMetrics = `http://127.0.0.1:${metrics + 1}/metrics`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await scrapeMetric(workerMetrics, 'greenlane_worker_rows_written_total{table="telemetry"}')) < 10) await new Promise((r) => setTimeout(r, 500));
    expect(await scrapeMetric(ingestionMetrics, 'greenlane_ingestion_telemetry_accepted_total')).toBeGreaterThanOrEqual(10);
    expect(await scrapeMetric(workerMetrics, 'greenlane_worker_rows_written_total{table="telemetry"}')).toBeGreaterThanOrEqual(10);

    up.kill('SIGINT');
    const result = await up;
    const out = String(result.all);
    expect(result.exitCode, out.slice(-2000)).toBe(130);
    const order = ['sim       │ Done', 'ingestion │ Stopped', 'worker    │ Stopped'].map((s) => out.indexOf(s));
    expect(order.every((i) => i >= 0), out.slice(-2000)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(out).not.toContain('restarting');
  }, 120_000);
});
