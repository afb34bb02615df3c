import { createServer, type Server } from 'node:http';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { asPortError } from '../errors.js';
import { bearerCheck } from './bearer.js';

/**
 * Each service process serves /metrics on the base metrics port plus its offset (deploy/prometheus.yml
 * scrapes the same). The coordinator runs inside ingestion; embedded `up` serves everything on the base port.
 */
export const METRICS_OFFSETS = { ingestion: 0, worker: 1 } as const;

export function metricsPortFor(service: keyof typeof METRICS_OFFSETS, basePort: number): number {
  return basePort === 0 ? 0 : basePort + METRICS_OFFSETS[service];
}

/** One registry per process; services register their metrics on it with greenlane_<service>_… names. */
export function createRegistry(defaults = true): Registry {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'greenlane_process_' });
  return registry;
}

/** Ready or not; a check may say why it is not (the /ready body). */
export interface HealthCheck {
  (): Promise<boolean | { ready: boolean; reason?: string }> | boolean | { ready: boolean; reason?: string };
}

/**
 * Serves /metrics, /health (liveness) and /ready (readiness) on its own port, bound to `host`
 * (default 127.0.0.1). With `token`, /metrics needs Authorization: Bearer <token> (else 401);
 * /health and /ready stay open for probes.
 */
export async function serveMetrics(opts: { registry: Registry; port: number; host?: string; token?: string; ready?: HealthCheck; flag?: string }): Promise<Server> {
  const authorized = bearerCheck(opts.token, ['/health', '/ready']);
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!authorized(req, path)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain; charset=utf-8' });
      res.end('missing or wrong bearer token (Authorization: Bearer <GREENLANE_METRICS_TOKEN>)\n');
    } else if (path === '/metrics') {
      res.setHeader('content-type', opts.registry.contentType);
      res.end(await opts.registry.metrics());
    } else if (path === '/health') {
      res.end('OK');
    } else if (path === '/ready') {
      const answer = opts.ready ? await opts.ready() : true;
      const { ready, reason } = typeof answer === 'boolean' ? { ready: answer, reason: undefined } : answer;
      res.statusCode = ready ? 200 : 503;
      res.end(ready ? 'READY' : reason ? `NOT READY: ${reason}` : 'NOT READY');
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(asPortError(err, 'metrics endpoint', opts.port, opts.flag ?? '--metrics-port')));
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

const ENGINE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** greenlane_<service>_engine_seconds{engine,op}: latency of each call a service makes to Redis, Kafka or the database. */
export function engineLatency(registry: Registry | undefined, service: string): Histogram<'engine' | 'op'> {
  const name = `greenlane_${service}_engine_seconds`;
  const existing = registry?.getSingleMetric(name) as Histogram<'engine' | 'op'> | undefined;
  return existing ?? new Histogram({ name, help: `Latency of ${service} calls to its engines, by engine (redis, kafka, postgres, or their embedded stand-ins) and operation`, labelNames: ['engine', 'op'], buckets: ENGINE_BUCKETS, registers: registry ? [registry] : [] });
}

/** Resolves like `work`, observing its duration (successes and failures alike). */
export async function timed<T>(histogram: Histogram<'engine' | 'op'>, labels: { engine: string; op: string }, work: Promise<T>): Promise<T> {
  const end = histogram.startTimer(labels);
  try {
    return await work;
  } finally {
    end();
  }
}
