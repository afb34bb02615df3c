import type { Config } from '../config/schema.js';

/** Set by `greenlane up` on its children: the supervisor already warned about the whole stack once. */
export const SUPERVISED_ENV = 'GREENLANE_SUPERVISED';

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

type ExposureConfig = Pick<Config, 'bind' | 'grpcHost' | 'tlsCert' | 'metricsToken' | 'gridToken'>;

/** Where the gRPC server binds: grpcHost when set, else bind (127.0.0.1 by default). */
export const grpcBindHost = (config: Pick<Config, 'bind' | 'grpcHost'>): string => config.grpcHost ?? config.bind;

/**
 * What a stack bound beyond loopback exposes without protection: gRPC without TLS (tokens in clear),
 * grid and metrics without a bearer token. Empty when everything is loopback or protected.
 */
export function exposureProblems(config: ExposureConfig, listeners: { grpc?: boolean; grid?: boolean; gridHost?: string; metrics?: boolean } = { grpc: true, grid: true, metrics: true }): string[] {
  const problems: string[] = [];
  const grpcHost = grpcBindHost(config);
  if (listeners.grpc && !isLoopback(grpcHost) && !config.tlsCert) problems.push(`gRPC listens on ${grpcHost} without TLS: API tokens and telemetry travel in clear (set GREENLANE_TLS_CERT and GREENLANE_TLS_KEY)`);
  const gridHost = listeners.gridHost ?? config.bind;
  if (listeners.grid && !isLoopback(gridHost) && !config.gridToken) problems.push(`the grid listens on ${gridHost} without a bearer token (set GREENLANE_GRID_TOKEN)`);
  if (listeners.metrics && !isLoopback(config.bind) && !config.metricsToken) problems.push(`/metrics listens on ${config.bind} without a bearer token (set GREENLANE_METRICS_TOKEN)`);
  return problems;
}

/** The loud, multi-line warning for stderr, or undefined when nothing is exposed unprotected. */
export function exposureWarning(problems: string[]): string | undefined {
  if (!problems.length) return undefined;
  const bar = '!'.repeat(78);
  return [bar, '!! WARNING: this stack is reachable from the network without protection:', ...problems.map((p) => `!!   - ${p}`), '!! Bind to 127.0.0.1 (the default) or configure TLS and tokens: docs/SECURITY.md', bar].join('\n');
}

/** The address a local client dials to reach a listener bound to `host` (a wildcard means loopback). */
export function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Prints the exposure warning to stderr once per process, unless this process is a child of
 * `greenlane up` (which warned for the whole stack).
 */
export function warnIfExposed(config: ExposureConfig, listeners?: Parameters<typeof exposureProblems>[1], env: NodeJS.ProcessEnv = process.env): void {
  if (env[SUPERVISED_ENV] === '1') return;
  const warning = exposureWarning(exposureProblems(config, listeners));
  if (warning) process.stderr.write(warning + '\n');
}
