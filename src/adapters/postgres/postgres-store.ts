import pg from 'pg';
import { EngineUnreachableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../ports/store.js';
import { createSqlStore, schemaFor } from './sql.js';
import { redactUrl } from '../../util/redact.js';

export interface PostgresStoreOptions {
  url: string;
  /** Schema holding the tables; default `public`. Pass the namespace to isolate tenants and tests. */
  schema?: string;
  logger?: Logger;
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** Network and auth failures mean "engine unreachable" (EngineUnreachableError); anything else is a bug to surface. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '28P01', '28000', '3D000', '57P03']);

export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  if (e?.code && UNREACHABLE_CODES.has(e.code)) return true;
  if (Array.isArray(e?.errors) && e.errors.some(isUnreachable)) return true; // AggregateError (IPv4 + IPv6)
  return /timeout|terminated unexpectedly|connect/i.test(e?.message ?? '');
}


/** Connects (and fails fast when PostgreSQL is unreachable) before returning the Store. */
export async function createPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const schema = schemaFor(opts.schema);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    application_name: 'greenlane',
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (err) => opts.logger?.warn({ err: err.message }, 'postgres idle client error'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (isUnreachable(err)) throw new EngineUnreachableError('PostgreSQL', redactUrl(opts.url), err);
    throw err;
  }
  const logger = opts.logger?.child({ adapter: 'postgres-store', schema });
  return createSqlStore({
    kind: 'postgres',
    schema,
    exec: pool,
    logger,
    async withMigrationTarget(fn) {
      const client = await pool.connect();
      try {
        return await fn(client);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  });
}
