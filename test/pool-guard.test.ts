// A pooled connection that dies while its holder keeps it checked out (the kysely leak a failover
// triggered, see src/db/pool-guard.ts) goes back to the pool, so the pool is whole again without a restart.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Database } from '../src/db/orm.js';
import { createScratchDatabase, usingPostgres } from './helpers.js';

describe.runIf(usingPostgres)('(PostgreSQL only) dead connections that are never released', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Database;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = await initORM({ databaseUrl: scratch.url, dataDir: '', dbPoolSize: 2 }, { migrate: true });
  });

  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('are reclaimed: with both pool slots held by dead, unreleased connections, the next query still runs', async () => {
    const pool = (await db.orm.em.getConnection().getNativeClient()) as pg.Pool;
    // Two holders that will never call release(), as a transaction whose ROLLBACK failed did.
    const held = [await pool.connect(), await pool.connect()];
    const pids = await Promise.all(held.map(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid));
    for (const client of held) client.on('error', () => {}); // the holder's own handler, as MikroORM installs one
    const admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
    } finally {
      await admin.end();
    }
    expect(pool.totalCount).toBe(2);
    // The pool waits up to 2 s for a free slot; the dead ones are back within the guard's 1 s.
    const [row] = await db.orm.em.fork().getConnection().execute('select 1 as ok');
    expect(row).toEqual({ ok: 1 });
    expect(pool.totalCount).toBeLessThanOrEqual(2);
  });
});
