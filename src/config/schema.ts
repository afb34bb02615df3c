import { z } from 'zod';
import { isRedisClusterUrl, parseRedisClusterUrl } from '../util/redis-url.js';

/** Splits "a,b , c" into ["a","b","c"]; empty strings become undefined (unset). */
const csv = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051');
const validUrl = (v: string, protocols: string[]): boolean => {
  try {
    return protocols.includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
const validClusterUrl = (v: string): boolean => {
  try {
    return parseRedisClusterUrl(v).nodes.length > 0;
  } catch {
    return false;
  }
};
const url = (protocols: string[]) => z.string().refine((v) => validUrl(v, protocols), `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`);

/**
 * The one configuration schema. Keys are camelCase here, GREENLANE_SNAKE_CASE in the
 * environment, kebab-case as flags and camelCase in greenlane.config.json.
 */
export const configSchema = z.object({
  kafkaBrokers: csv.optional().describe('Kafka bootstrap brokers (comma-separated host:port)'),
  redisUrl: z
    .string()
    .refine((v) => (isRedisClusterUrl(v) ? validClusterUrl(v) : validUrl(v, ['redis:', 'rediss:'])), 'expected a URL starting with redis:// or rediss:// (one server) or redis-cluster://host:port,host:port (Redis Cluster)')
    .optional()
    .describe('Redis URL: redis:// or rediss:// for one server, redis-cluster://host:port,host:port… for a Redis Cluster (docs/SCALING.md)'),
  databaseUrl: url(['postgres:', 'postgresql:']).optional().describe('PostgreSQL URL'),
  apiTokens: csv.optional().describe('Fleet tokens accepted in the x-api-token metadata (comma-separated); each is a fleet principal'),
  operatorTokens: csv.optional().describe('Operator tokens (comma-separated): queries, WatchEvents, booking for any car, cancelling any booking'),
  tokenSecret: z.string().min(32, 'at least 32 characters, e.g. `openssl rand -hex 32`').optional().describe('Server secret per-car tokens are derived from (HMAC-SHA256); car tokens are refused while unset. Embedded mode generates one in the data dir'),
  clock: z
    .enum(['auto', 'wall', 'event-time'])
    .default('auto')
    .describe("Coordinator clock: wall (the server's clock), event-time (follows telemetry timestamps: simulated time, embedded/dev only) or auto (event-time embedded, wall on real engines)"),
  maxClockSkewSec: z.coerce.number().int().min(1).max(86_400).default(300).describe('With the wall clock, telemetry timestamped more than this many seconds ahead of the server is rejected'),
  server: hostPort.default('127.0.0.1:50051').describe('gRPC address that clients dial'),
  gridUrl: url(['http:', 'https:']).default('http://127.0.0.1:8081').describe('Grid price service base URL'),
  namespace: z
    .string()
    .regex(/^[a-z0-9_]*$/, 'lowercase letters, digits and _ only')
    .max(32)
    .default('')
    .describe('Prefix isolating Redis keys, topics and schema'),
  grpcPort: port.default(50051).describe('Port the ingestion gRPC server listens on'),
  grpcHost: z.string().optional().describe('Address the ingestion gRPC server binds (default: bind)'),
  gridPort: port.default(8081).describe('Port the grid HTTP service listens on'),
  metricsPort: port.default(9464).describe('Base port for /metrics endpoints'),
  dataDir: z.string().optional().describe('Where embedded state and the dev token live'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level'),
  stationsFile: z.string().optional().describe('Stations JSON loaded at startup'),
  holdGraceSec: z.coerce.number().min(0).max(3600).default(300).describe('A port is held for the drive-time estimate plus this grace, seconds'),
  maxHoldSec: z.coerce.number().min(1).max(7200).default(1200).describe('Longest hold, seconds (the original design: 20 minutes)'),
  // Transport and limits (docs/SECURITY.md): what listens where, over what, and how much it accepts.
  bind: z.string().min(1).default('127.0.0.1').describe('Address every listener (gRPC, grid, metrics) binds unless its own flag says otherwise; 0.0.0.0 exposes them'),
  tlsCert: z.string().optional().describe('PEM certificate: the gRPC server\'s (server) or the client certificate (clients)'),
  tlsKey: z.string().optional().describe('PEM private key of tlsCert'),
  tlsCa: z.string().optional().describe('PEM CA: server: require client certificates signed by it; clients: trust the server\'s certificate'),
  metricsToken: z.string().min(16).optional().describe('Bearer token required on /metrics (/health and /ready stay open)'),
  gridToken: z.string().min(16).optional().describe('Bearer token required on the grid API (/health stays open)'),
  grpcMaxMessageBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024).describe('Largest gRPC message the server accepts, bytes (bigger: RESOURCE_EXHAUSTED)'),
  maxBatchCars: z.coerce.number().int().min(1).max(100_000).default(5000).describe('Most cars in one CarStatusBatch (more: the stream ends with INVALID_ARGUMENT)'),
  grpcMaxStreams: z.coerce.number().int().min(1).max(100_000).default(1000).describe('Concurrent gRPC calls per connection (HTTP/2 max concurrent streams)'),
  grpcIdleTimeoutMs: z.coerce.number().int().min(1000).max(86_400_000).default(30_000).describe('A connection with no call in progress (e.g. only refused calls) is closed after this many ms'),
  forecastMaxPoints: z.coerce.number().int().min(2).max(100_000).default(1000).describe('Most points one grid forecast request may ask for (hours × 60 / step; more: 400)'),
  ingestBuffer: z.coerce
    .number()
    .int()
    .min(100)
    .max(10_000_000)
    .default(10_000)
    .describe('Accepted telemetry events ingestion holds in memory before they are on the bus; when full (e.g. Kafka down) it stops reading streams until half is written'),
  outboxMax: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000_000)
    .default(100_000)
    .describe('Booking events the outbox holds while Kafka is unreachable; when full, new bookings are refused (reason outbox_full) instead of the outbox growing (0: no bound)'),
  kafkaReplication: z.coerce
    .number()
    .int()
    .min(0)
    .max(7)
    .default(0)
    .describe('Replication factor of the Kafka topics GreenLane creates (0: 3 on a cluster of 3 or more brokers, else 1); from 3 on, min.insync.replicas is 2'),
  carTtlSec: z.coerce.number().int().min(0).max(31_536_000).default(86_400).describe('A car hash in Redis expires after this many seconds without telemetry (0: never)'),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;
export const configKeys = Object.keys(configSchema.shape) as ConfigKey[];

/** Keys whose values are redacted when printed. */
export const secretKeys: ReadonlySet<ConfigKey> = new Set(['apiTokens', 'operatorTokens', 'tokenSecret', 'metricsToken', 'gridToken']);

/** Keys holding URLs that may carry credentials: printed with the password masked. */
export const urlKeys: ReadonlySet<ConfigKey> = new Set(['redisUrl', 'databaseUrl', 'gridUrl']);

export function envName(key: ConfigKey): string {
  return 'GREENLANE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function flagName(key: ConfigKey): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
