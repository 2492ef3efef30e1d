// STATEMENT_TIMEOUT_MS holds in the gateway's own sessions and nowhere else. 0.2.0 set it with ALTER
// ROLE … IN DATABASE: with the README's `postgres` URL that was the superuser's default there, it
// outlived the gateway, `0` did not undo it, and a DBA's long statement was cancelled.
// PostgreSQL only: PGlite has no timers and does not enforce it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { initORM, type Database } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { createScratchDatabase, usingPostgres } from './helpers.js';
import { createPrivatePostgres, requireBinaries, startPgBouncer, type PgBouncer, type PrivatePostgres } from './private-postgres.js';

const show = async (db: Database) => ((await db.orm.em.fork().getConnection().execute('show statement_timeout')) as Array<{ statement_timeout: string }>)[0]!.statement_timeout;
const sleepPast = (db: Database) => db.orm.em.fork().getConnection().execute('select pg_sleep(3)').then(() => undefined, (error: unknown) => error);

async function plainSession(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('show statement_timeout')).rows[0].statement_timeout;
  } finally {
    await client.end();
  }
}

describe.runIf(usingPostgres)('(PostgreSQL only) statement timeout', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });
  afterAll(async () => scratch?.drop());

  const roleSettings = async () => {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      return (await client.query(`select setconfig from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())`)).rows;
    } finally {
      await client.end();
    }
  };

  it("holds in every pooled session of the gateway (503), and in nobody else's; nothing is altered on the server", async () => {
    const db = await initORM({ databaseUrl: scratch.url, dataDir: '', statementTimeoutMs: 300 }, { migrate: true });
    try {
      expect(await show(db)).toBe('300ms');
      const error = await sleepPast(db);
      expect((error as { code?: string }).code).toBe('57014');
      expect(isDatabaseUnavailable(error)).toBe(true);
      // Another session in the same database (a DBA's psql) keeps the server's setting.
      expect(await plainSession(scratch.url)).toBe('0');
      expect(await roleSettings()).toEqual([]);
      // Migrations lift it for themselves.
      expect(await db.migrate()).toEqual([]);
    } finally {
      await db.close();
    }
    expect(await plainSession(scratch.url)).toBe('0');
  });

  it('0 means what the server says (here a database default set by its DBA)', async () => {
    const admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    const name = new URL(scratch.url).pathname.slice(1);
    await admin.query(`alter database "${name}" set statement_timeout = '777ms'`);
    await admin.end();
    for (const [setting, expected] of [[0, '777ms'], [250, '250ms']] as const) {
      const db = await initORM({ databaseUrl: scratch.url, dataDir: '', statementTimeoutMs: setting });
      try {
        expect(await show(db), `STATEMENT_TIMEOUT_MS=${setting}`).toBe(expected);
      } finally {
        await db.close();
      }
    }
  });
});

const withBinaries = usingPostgres && requireBinaries('test/statement-timeout.test.ts', { postgres: true, pgbouncer: true });

describe.runIf(withBinaries)('(PostgreSQL only) statement timeout through PgBouncer in transaction mode', () => {
  let server: PrivatePostgres;
  let bouncers: PgBouncer[] = [];
  beforeAll(async () => {
    server = await createPrivatePostgres();
  });
  afterAll(async () => {
    for (const bouncer of bouncers) await bouncer.stop();
    server?.destroy();
  });

  it("holds when PgBouncer's connect_query gives its server sessions the same timeout, and starts quietly", async () => {
    const bouncer = await startPgBouncer(server, { databaseParameters: "connect_query='set statement_timeout = 300'" });
    bouncers.push(bouncer);
    const lines: string[] = [];
    const db = await initORM({ databaseUrl: bouncer.url, dataDir: '', statementTimeoutMs: 300 }, { migrate: true, logger: createLogger('warn', { write: (line: string) => void lines.push(line) }) });
    try {
      expect((await sleepPast(db) as { code?: string }).code).toBe('57014');
      expect(lines.filter((line) => line.includes('statement_timeout'))).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('says at start that it does not hold when PgBouncer gives its sessions none, and still starts', async () => {
    const bouncer = await startPgBouncer(server);
    bouncers.push(bouncer);
    const lines: string[] = [];
    const db = await initORM({ databaseUrl: bouncer.url, dataDir: '', statementTimeoutMs: 300 }, { migrate: true, logger: createLogger('warn', { write: (line: string) => void lines.push(line) }) });
    try {
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({ level: 40, statementTimeoutMs: 300, effectiveMs: 0, msg: expect.stringContaining('statement_timeout does not hold') }),
      ]);
      expect(await show(db)).toBe('0');
    } finally {
      await db.close();
    }
  });
});
