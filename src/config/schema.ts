import { z } from 'zod';

/** Splits "a,b , c" into ["a","b","c"]; empty strings become undefined (unset). */
const csv = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051');
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`);

/**
 * The one configuration schema. Keys are camelCase here, GREENLANE_SNAKE_CASE in the
 * environment, kebab-case as flags and camelCase in greenlane.config.json.
 */
export const configSchema = z.object({
  kafkaBrokers: csv.optional().describe('Kafka bootstrap brokers (comma-separated host:port)'),
  redisUrl: url(['redis:', 'rediss:']).optional().describe('Redis URL'),
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
  grpcHost: z.string().default('0.0.0.0').describe('Address the ingestion gRPC server binds'),
  gridPort: port.default(8081).describe('Port the grid HTTP service listens on'),
  metricsPort: port.default(9464).describe('Base port for /metrics endpoints'),
  dataDir: z.string().optional().describe('Where embedded state and the dev token live'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level'),
  stationsFile: z.string().optional().describe('Stations JSON loaded at startup'),
  holdGraceSec: z.coerce.number().min(0).max(3600).default(300).describe('A port is held for the drive-time estimate plus this grace, seconds'),
  maxHoldSec: z.coerce.number().min(1).max(7200).default(1200).describe('Longest hold, seconds (the original design: 20 minutes)'),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;
export const configKeys = Object.keys(configSchema.shape) as ConfigKey[];

/** Keys whose values are redacted when printed. */
export const secretKeys: ReadonlySet<ConfigKey> = new Set(['apiTokens', 'operatorTokens', 'tokenSecret']);

/** Keys holding URLs that may carry credentials: printed with the password masked. */
export const urlKeys: ReadonlySet<ConfigKey> = new Set(['redisUrl', 'databaseUrl', 'gridUrl']);

export function envName(key: ConfigKey): string {
  return 'GREENLANE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function flagName(key: ConfigKey): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
