/**
 * deploy/docker-compose.yml and what it mounts: the shape clients rely on (original host ports,
 * healthchecks, volumes, the observability profile), the Prometheus scrape targets and the Grafana
 * provisioning. When `docker-compose` (v1, Debian package) is installed, Compose itself validates
 * the file; under GREENLANE_REQUIRE_INFRA=1 (CI) its absence is a failure, not a skip.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { requireInfra } from '../helpers/infra.js';
import { metricsPortFor } from '../../src/observability/metrics.js';

const deploy = resolve(import.meta.dirname, '..', '..', 'deploy');

/** Metric names the source registers: `name: 'greenlane_…'` literals and engineLatency(registry, '<service>'). */
function registeredMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const file of walk(resolve(deploy, '..', 'src')).filter((f) => /\.tsx?$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/name: '(greenlane_[a-z_]+)'/g)) names.add(m[1]);
    for (const m of text.matchAll(/engineLatency\([^,]+, '([a-z]+)'\)/g)) names.add(`greenlane_${m[1]}_engine_seconds`);
  }
  return names;
}
const composePath = join(deploy, 'docker-compose.yml');

interface Service {
  image: string;
  ports?: string[];
  profiles?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  environment?: Record<string, string>;
  command?: string[] | string;
  extra_hosts?: string[];
}
const compose = parse(readFileSync(composePath, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const svc = compose.services;

const hostPorts = (s: Service) => (s.ports ?? []).map((p) => Number(String(p).split(':')[0]));
const command = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));

describe('deploy/docker-compose.yml', () => {
  it('has the engines by default and Prometheus + Grafana only in the observability profile', () => {
    expect(Object.keys(svc).sort()).toEqual(['console', 'grafana', 'prometheus', 'redis', 'redpanda', 'timescaledb']);
    for (const name of ['redpanda', 'console', 'redis', 'timescaledb']) expect(svc[name].profiles, name).toBeUndefined();
    for (const name of ['prometheus', 'grafana']) expect(svc[name].profiles, name).toEqual(['observability']);
  });

  it('publishes the original host ports', () => {
    expect(hostPorts(svc.redpanda)).toContain(19092);
    expect(hostPorts(svc.redis)).toEqual([6379]);
    expect(hostPorts(svc.timescaledb)).toEqual([5432]);
    expect(hostPorts(svc.console)).toEqual([8080]);
    expect(hostPorts(svc.prometheus)).toEqual([9090]);
    expect(hostPorts(svc.grafana)).toEqual([3000]);
  });

  it('Redpanda: an internal listener for containers and localhost:19092 for the host', () => {
    expect(command(svc.redpanda)).toContain('--advertise-kafka-addr internal://redpanda:9092,external://localhost:19092');
    expect(svc.console.environment?.KAFKA_BROKERS).toBe('redpanda:9092');
  });

  it('Redis 7 with AOF; TimescaleDB on PostgreSQL 16 with the original credentials as env defaults', () => {
    expect(svc.redis.image).toMatch(/^redis:7/);
    expect(command(svc.redis)).toMatch(/--appendonly yes/);
    expect(svc.timescaledb.image).toBe('timescale/timescaledb:latest-pg16');
    expect(svc.timescaledb.environment).toEqual({
      POSTGRES_DB: '${POSTGRES_DB:-greenlane}',
      POSTGRES_USER: '${POSTGRES_USER:-greenlane}',
      POSTGRES_PASSWORD: '${POSTGRES_PASSWORD:-greenlane_password}',
    });
  });

  it('every service has a healthcheck, and stateful ones a named volume', () => {
    for (const [name, s] of Object.entries(svc)) expect(s.healthcheck?.test, name).toBeTruthy();
    const named = (s: Service) => (s.volumes ?? []).map((v) => v.split(':')[0]).filter((src) => !src.startsWith('.'));
    for (const name of ['redpanda', 'redis', 'timescaledb', 'prometheus', 'grafana']) {
      const vols = named(svc[name]);
      expect(vols.length, name).toBe(1);
      expect(Object.keys(compose.volumes), name).toContain(vols[0]);
    }
  });

  it('bind mounts point at files that exist in deploy/', () => {
    for (const s of Object.values(svc)) {
      for (const v of s.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('.')) expect(existsSync(join(deploy, src)), src).toBe(true);
      }
    }
  });

  it('Prometheus reaches services on the host through host-gateway and scrapes every GreenLane endpoint', () => {
    expect(svc.prometheus.extra_hosts).toEqual(['host.docker.internal:host-gateway']);
    const prom = parse(readFileSync(join(deploy, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]));
    expect(targets).toMatchObject({
      'greenlane-ingestion': [`host.docker.internal:${metricsPortFor('ingestion', 9464)}`],
      'greenlane-worker': [`host.docker.internal:${metricsPortFor('worker', 9464)}`],
      'greenlane-grid': ['host.docker.internal:8081'],
    });
  });

  it('Grafana: the provisioned data source is the one the dashboard queries, and the dashboard covers the metrics', () => {
    const ds = parse(readFileSync(join(deploy, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string; url: string }[] };
    expect(ds.datasources[0]).toMatchObject({ uid: 'greenlane-prometheus', url: 'http://prometheus:9090' });
    const provider = parse(readFileSync(join(deploy, 'grafana/provisioning/dashboards/greenlane.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(svc.grafana.volumes).toContain(`./grafana/dashboards:${provider.providers[0].options.path}:ro`);

    const dash = JSON.parse(readFileSync(join(deploy, 'grafana/dashboards/greenlane.json'), 'utf8')) as { panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[] };
    const queries = dash.panels.filter((p) => p.type !== 'row');
    for (const p of queries) expect(p.datasource?.uid).toBe('greenlane-prometheus');
    const exprs = queries.flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    for (const metric of [
      'greenlane_ingestion_telemetry_accepted_total',
      'greenlane_ingestion_telemetry_rejected_total',
      'greenlane_worker_consumer_lag',
      'greenlane_coordinator_bookings_total',
      'greenlane_coordinator_station_holds',
      'greenlane_coordinator_station_sessions',
      'greenlane_coordinator_station_queue_length',
      'greenlane_grid_price_dollars_per_kwh',
      'greenlane_worker_batch_duration_seconds_bucket',
      'greenlane_ingestion_batch_flush_seconds_bucket',
      'greenlane_ingestion_engine_seconds',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
    expect(exprs).toMatch(/sum by \(reason\) \(rate\(greenlane_ingestion_telemetry_rejected_total/);
    expect(exprs).toMatch(/sum by \(status\) \(rate\(greenlane_coordinator_bookings_total/);
    // Every metric the dashboard queries is one the services register (a renamed metric fails here).
    const queried = [...exprs.matchAll(/greenlane_[a-z_]+[a-z]/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')).filter((n) => !n.startsWith('greenlane_process'));
    const unknown = [...new Set(queried)].filter((n) => !registeredMetricNames().has(n));
    expect(unknown).toEqual([]);
  });
});

const composeV1 = await execa('docker-compose', ['version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

describe('docker-compose config', () => {
  it.skipIf(!composeV1 && !requireInfra)('validates the file, with and without the observability profile', async () => {
    if (!composeV1) throw new Error('docker-compose is required (GREENLANE_REQUIRE_INFRA=1) but not installed: apt-get install -y docker-compose');
    const plain = await execa('docker-compose', ['-f', composePath, 'config', '-q'], { reject: false });
    expect(plain.stderr).toBe('');
    expect(plain.exitCode).toBe(0);
    const services = await execa('docker-compose', ['-f', composePath, '--profile', 'observability', 'config', '--services'], { reject: false });
    expect(services.exitCode).toBe(0);
    expect(services.stdout.split('\n').sort()).toEqual(['console', 'grafana', 'prometheus', 'redis', 'redpanda', 'timescaledb']);
  });
});
