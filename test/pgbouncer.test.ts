// PgBouncer in transaction pooling mode as a supported deployment: instances started together migrate
// exactly once and leave no lock behind; races and bursts through the pooler; and nothing
// session-scoped (SET, LISTEN, named prepared statements, session advisory locks) ever reaches the
// server, proven from the server's own statement log.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { initORM } from '../src/db/orm.js';
import { CREATE_ORGANIZATION, usingPostgres } from './helpers.js';
import { createPrivatePostgres, queryOnce, requireBinaries, startPgBouncer, type PgBouncer, type PrivatePostgres } from './private-postgres.js';
import { postJson, startServerProcess, type ServerProcess } from './processes.js';
import { loggedStatements, sessionScopedStatements } from './session-scope.js';

const runs = usingPostgres && requireBinaries('pgbouncer.test.ts', { postgres: true, pgbouncer: true });

describe('the session-scope detector', () => {
  it('flags what would break under transaction pooling, and passes what would not', () => {
    const log = [
      '[10] LOG:  statement: SET statement_timeout = 0',
      '[10] LOG:  statement: set local statement_timeout = 0',
      '[10] LOG:  execute <unnamed>: select 1',
      '[11] LOG:  execute s1: select 2',
      "[11] LOG:  statement: select pg_advisory_lock(hashtext('x'))",
      "[11] LOG:  statement: select pg_advisory_xact_lock(hashtext('x'))",
      '[12] LOG:  statement: LISTEN things',
      '[12] LOG:  statement: begin; reset all',
      "[12] LOG:  execute <unnamed>: insert into organizations (name)\n\tvalues ('Settings')",
      '[12] LOG:  statement: create temp table t (x int)',
      "[13]LOG:  statement: set names 'utf8';",
    ].join('\n');
    expect(loggedStatements(log)).toHaveLength(11);
    expect(sessionScopedStatements(log).map((f) => f.reason)).toEqual([
      'SET / RESET (not SET LOCAL)',
      'named prepared statement s1',
      'session advisory lock',
      'LISTEN / UNLISTEN',
      'SET / RESET (not SET LOCAL)',
      'temporary table',
    ]);
  });
});

describe.runIf(runs)('(PostgreSQL runs only) behind PgBouncer, transaction pooling', () => {
  let server: PrivatePostgres;
  let bouncer: PgBouncer;
  let key: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    server = await createPrivatePostgres({ logStatements: true });
    bouncer = await startPgBouncer(server, { poolSize: 10 });
  });

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await bouncer?.stop();
    server?.destroy();
  });

  /** Straight to the server, past PgBouncer: what the database really holds. */
  const direct = <T,>(text: string, params: unknown[] = []) => queryOnce<T>(server.url, text, params);
  const create = (s: ServerProcess, name: string, agent: http.Agent | false = false) => postJson(s.url, '/api/organization', { authorization: `Bearer ${key}` }, { name }, agent);

  it('four instances started at once on an empty database: each migration applied once, no lock left behind', async () => {
    const started = await Promise.all(Array.from({ length: 4 }, () => startServerProcess({ DATABASE_URL: bouncer.url, MIGRATE_ON_START: 'true', DB_POOL_SIZE: '5', CREATE_LIMIT_PER_MINUTE: '0' /* 1,000 creates by one user */ })));
    servers.push(...started);
    const applied = await direct<{ name: string; n: number }>('select name, count(*)::int as n from mikro_orm_migrations group by name order by name');
    expect(applied).toEqual(migrationsList.map(({ name }) => ({ name, n: 1 })));
    expect(await direct(`select locktype, granted from pg_locks where locktype = 'advisory'`)).toEqual([]);
    for (const s of started) expect(s.child.exitCode).toBeNull();
    // Our own connection through PgBouncer for the key: the same migration lock, nothing pending.
    const db = await initORM({ databaseUrl: bouncer.url, dataDir: '' }, { migrate: true });
    try {
      expect(db.applied).toEqual([]);
      key = (await createApiKey(db.orm.em.fork(), { email: 'pgbouncer@example.com' })).key;
    } finally {
      await db.close();
    }
  });

  it('two instances: 100 concurrent creates of one name give exactly one 200 and 99 clean 400s', async () => {
    const [a, b] = servers;
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => create(i % 2 ? a! : b!, 'Pooled Name')));
    const statuses = outcomes.map((o) => ('status' in o ? o.status : JSON.stringify(o)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(99);
    expect(await direct(`select count(*)::int as n from organizations where name = 'Pooled Name'`)).toEqual([{ n: 1 }]);
  });

  it('four instances: 1,000 concurrent distinct creates all succeed, each with exactly one owner', async () => {
    const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: 32 }));
    try {
      const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => create(servers[i % 4]!, `Pooled ${i}`, agents[i % 4])));
      expect(outcomes.filter((o) => !('status' in o) || o.status !== 200)).toEqual([]);
      const ids = outcomes.map((o) => (o as { body: { id: string } }).body.id);
      const rows = await direct<{ id: string; owners: number }>(
        `select o.id, count(m.id)::int as owners from organizations o left join user_organizations m on m.organization_id = o.id and m.role = 2 where o.name like 'Pooled %' and o.name <> 'Pooled Name' group by o.id`,
      );
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
      expect(rows.every((r) => r.owners === 1)).toBe(true);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it('idempotent retries, GraphQL creates and reads work through the pooler', async () => {
    const [a, b] = servers;
    const headers = { authorization: `Bearer ${key}`, 'idempotency-key': 'pooled-retry-1' };
    const first = await postJson(a!.url, '/api/organization', headers, { name: 'Pooled Retry' });
    const again = await postJson(b!.url, '/api/organization', headers, { name: 'Pooled Retry' });
    expect(first).toMatchObject({ status: 200 });
    expect(again).toEqual(first);
    const graphql = await postJson(b!.url, '/graphql', { authorization: `Bearer ${key}` }, { query: CREATE_ORGANIZATION, variables: { name: 'Pooled GraphQL' } });
    expect(graphql).toMatchObject({ status: 200, body: { data: { createOrganization: { __typename: 'Organization', name: 'Pooled GraphQL' } } } });
    const page = await postJson(a!.url, '/graphql', { authorization: `Bearer ${key}` }, { query: '{ viewer { organizations(first: 5) { totalCount edges { node { name } } } } }' });
    expect(page).toMatchObject({ status: 200, body: { data: { viewer: { organizations: { totalCount: 1003 } } } } });
  });

  it('nothing session-scoped reached the server, at start-up or in the request path', () => {
    const log = readFileSync(server.logFile, 'utf8');
    const statements = loggedStatements(log);
    // The log did record the work above (so an empty finding means something).
    expect(statements.some((s) => /insert into "?organizations"?/i.test(s.text))).toBe(true);
    expect(statements.some((s) => /pg_advisory_xact_lock/.test(s.text))).toBe(true);
    expect(statements.some((s) => /idempotency_keys/.test(s.text))).toBe(true);
    expect(sessionScopedStatements(log)).toEqual([]);
  });
});
