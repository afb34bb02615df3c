import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { quoteIdent } from '../../src/adapters/postgres/sql.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { EngineUnreachableError } from '../../src/errors.js';
import { storeContract } from '../contract/store.contract.js';
import { describeWithEngine, infra, testNamespace } from '../helpers/infra.js';

const probe = async () => {
  const c = new pg.Client({ connectionString: infra.databaseUrl, connectionTimeoutMillis: 2000 });
  await c.connect();
  await c.end();
};

await describeWithEngine('postgres', probe, 'PostgresStore', () => {
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: infra.databaseUrl, max: 2 });
  const freshStore = () => {
    const schema = testNamespace('store');
    schemas.push(schema);
    return createPostgresStore({ url: infra.databaseUrl, schema });
  };

  afterAll(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
    await admin.end();
  });

  storeContract(freshStore, async (sql, params) => (await admin.query(sql, params)).rows);

  it('serialises concurrent migrations of one schema: each version is applied exactly once', async () => {
    const schema = testNamespace('race');
    schemas.push(schema);
    const stores = await Promise.all(Array.from({ length: 4 }, () => createPostgresStore({ url: infra.databaseUrl, schema })));
    try {
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      expect(applied.flat().sort()).toEqual(['001-core']);
      expect((await stores[0]!.info()).migrations).toEqual(['001-core']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('reports server facts in info()', async () => {
    const store = await freshStore();
    try {
      await store.migrate();
      const info = await store.info();
      expect(info).toMatchObject({ kind: 'postgres', schema: schemas.at(-1), migrations: ['001-core'] });
      expect(typeof info.timescale).toBe('boolean');
    } finally {
      await store.close();
    }
  });
});

it('fails fast with EngineUnreachableError (exit 4) when nothing listens, without leaking the password', async () => {
  const err = await createPostgresStore({ url: 'postgres://greenlane:secret@127.0.0.1:1/greenlane' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(EngineUnreachableError);
  expect(exitCodeFor(err)).toBe(4);
  expect((err as Error).message).not.toContain('secret');
});

await describeWithEngine('postgres', probe, 'PostgresStore auth', () => {
  // The local server may trust 127.0.0.1, so a wrong password can pass; an unknown role never does.
  it('maps an authentication failure to EngineUnreachableError', async () => {
    const url = new URL(infra.databaseUrl);
    url.username = 'no_such_role_greenlane';
    await expect(createPostgresStore({ url: url.toString() })).rejects.toBeInstanceOf(EngineUnreachableError);
  });
});
