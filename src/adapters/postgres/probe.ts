import pg from 'pg';
import { redactUrl } from '../../util/redact.js';
import { appliedMigrations, schemaFor, serverFacts } from './sql.js';

/**
 * One-shot health check for `greenlane doctor`: server version, whether TimescaleDB is
 * available or installed, and which migrations the namespace's schema has.
 */
export async function probePostgres(url: string, timeoutMs = 3000, namespace?: string): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const schema = schemaFor(namespace);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'greenlane-doctor' });
  client.on('error', () => undefined); // a dropped connection surfaces as a failed query
  try {
    await client.connect();
    const facts = await serverFacts(client);
    const migrations = await appliedMigrations(client, schema);
    const timescale = facts.timescale ? 'TimescaleDB installed' : facts.timescaleAvailable ? 'TimescaleDB available (not installed)' : 'no TimescaleDB (plain tables)';
    const applied = migrations.length ? `migrations ${migrations.join(', ')}` : 'no migrations applied';
    return { ok: true, detail: `PostgreSQL ${facts.serverVersion}, ${timescale}, schema ${schema}: ${applied}`, latencyMs: elapsed() };
  } catch (err) {
    return { ok: false, detail: `${redactUrl(url)}: ${(err as Error).message}`, latencyMs: elapsed() };
  } finally {
    await client.end().catch(() => undefined);
  }
}
