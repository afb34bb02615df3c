import { readdirSync, readFileSync } from 'node:fs';
import { listAssets, readAsset } from '../../util/assets.js';
import { quoteIdent } from './ident.js';
import type { SqlExecutor } from './sql.js';

/**
 * Versioned, idempotent migrations shared by PostgreSQL and PGlite. Each migration runs in its
 * own transaction behind a per-schema advisory lock, so two processes migrating the same
 * schema at once serialise and the second finds nothing to do.
 */

export interface Migration {
  version: string; // file name without .sql, e.g. "001-core"
  sql: string;
}

/**
 * One connection (transactions must not hop between pooled clients). A driver with its own
 * transaction helper (PGlite, whose helper also keeps other callers out) passes it; otherwise
 * BEGIN/COMMIT are sent through query().
 */
export interface MigrationTarget extends SqlExecutor {
  transaction?<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Tables that become hypertables (on `time`) when TimescaleDB is installed. */
export const HYPERTABLES = ['charging_sessions', 'telemetry', 'bookings'] as const;

/** The shipped migrations folder (src/adapters/postgres/migrations, embedded in the single executable). */
export const MIGRATIONS_DIR = 'src/adapters/postgres/migrations';

/** The migrations in order; `dir` (a folder on disk) is for tests, default: the shipped ones. */
export function loadMigrations(dir?: string): Migration[] {
  const names = dir === undefined ? listAssets(MIGRATIONS_DIR) : readdirSync(dir);
  const read = (f: string) => (dir === undefined ? readAsset(`${MIGRATIONS_DIR}/${f}`) : readFileSync(`${dir}/${f}`, 'utf8'));
  return names
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: read(f) }));
}

async function inTransaction<T>(target: MigrationTarget, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  if (target.transaction) return target.transaction(fn);
  await target.query('BEGIN');
  try {
    const result = await fn(target);
    await target.query('COMMIT');
    return result;
  } catch (err) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Serialises migrators of one schema; released at COMMIT/ROLLBACK. */
async function lockSchema(tx: SqlExecutor, schema: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`greenlane:migrate:${schema}`]);
  await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await tx.query(`SET LOCAL search_path TO ${quoteIdent(schema)}, public`);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
}

/** Applies what is pending, in version order. Returns the versions applied by this call. */
export async function runMigrations(
  target: MigrationTarget,
  opts: { schema: string; logger?: Log; migrations?: Migration[] },
): Promise<string[]> {
  const applied: string[] = [];
  for (const m of opts.migrations ?? loadMigrations()) {
    const didApply = await inTransaction(target, async (tx) => {
      await lockSchema(tx, opts.schema);
      const { rows } = await tx.query(`SELECT 1 FROM schema_migrations WHERE version = $1`, [m.version]);
      if (rows.length) return false;
      await tx.query(m.sql);
      await tx.query(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, [m.version]);
      return true;
    });
    if (didApply) {
      applied.push(m.version);
      opts.logger?.info({ schema: opts.schema, version: m.version }, 'migration applied');
    }
  }
  await ensureHypertables(target, opts.schema, opts.logger);
  return applied;
}

/**
 * TimescaleDB is optional: when the server offers it we install it and turn the time-series
 * tables into hypertables (idempotent, so this runs on every migrate); when it is missing, or
 * we lack the rights, the plain tables work the same and we only log why.
 */
async function ensureHypertables(target: MigrationTarget, schema: string, logger?: Log): Promise<void> {
  const { rows } = await target.query<{ available: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
  );
  if (!rows[0]?.available) return;
  try {
    await inTransaction(target, async (tx) => {
      // Extension creation is database-wide: one lock for every schema.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('greenlane:timescaledb'))`);
      await tx.query(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
      for (const table of HYPERTABLES) {
        await tx.query(`SELECT create_hypertable($1::regclass, 'time', if_not_exists => true, migrate_data => true)`, [
          `${quoteIdent(schema)}.${table}`,
        ]);
      }
    });
  } catch (err) {
    logger?.warn({ schema, err: (err as Error).message }, 'TimescaleDB is available but hypertables could not be set up; using plain tables');
  }
}
