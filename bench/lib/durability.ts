/**
 * Durability read from the database itself, for a worker in another process (no probe can wrap its
 * store): the bench adds `durable_at timestamptz DEFAULT clock_timestamp()` to its own namespace's
 * telemetry table, so every row records when the worker's INSERT wrote it (its commit follows
 * within the same statement's round trip). Counts and latency percentiles come from SQL.
 */
import type pg from 'pg';
import { round } from './stats.js';

export interface DbDurability {
  persistedBy(at: number): Promise<number>;
  lastPersistAt(): Promise<number>;
  /** durable_at − telemetry timestamp over every row, ms. */
  latency(): Promise<{ p50: number | null; p90: number | null; p99: number | null; max: number | null; samples: number }>;
}

export async function dbDurability(client: pg.Client, namespace: string): Promise<DbDurability> {
  const table = `"${namespace}".telemetry`;
  await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS durable_at timestamptz DEFAULT clock_timestamp()`);
  const ms = (v: unknown) => (v === null || v === undefined ? null : round(Number(v), 1));
  return {
    async persistedBy(at) {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table} WHERE durable_at <= $1`, [new Date(at).toISOString()]);
      return rows[0].n as number;
    },
    async lastPersistAt() {
      const { rows } = await client.query(`SELECT (extract(epoch FROM max(durable_at)) * 1000)::float8 AS at FROM ${table}`);
      return Number(rows[0].at ?? 0);
    },
    async latency() {
      const { rows } = await client.query(
        `SELECT count(*)::int AS n, percentile_disc(ARRAY[0.5, 0.9, 0.99, 1.0]) WITHIN GROUP (ORDER BY lat) AS p
           FROM (SELECT extract(epoch FROM durable_at - time) * 1000 AS lat FROM ${table}) t`,
      );
      const p = (rows[0].p ?? []) as unknown[];
      return { p50: ms(p[0]), p90: ms(p[1]), p99: ms(p[2]), max: ms(p[3]), samples: rows[0].n as number };
    },
  };
}
