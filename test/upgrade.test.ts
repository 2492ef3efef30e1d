// Upgrades are safe: a database made and filled by the previous release (0.1.0, MikroORM 6) is opened
// by this code with no migration re-run, nothing lost, and the same answers.
//
// The fixture (test/fixtures/v0.1.0-database.sql) is a pg_dump of a database that release 0.1.0
// migrated and filled through its own REST adapter; v0.1.0-database.json holds what it answered then.
// On PostgreSQL it is restored into a scratch database. For the embedded mode it is restored into a
// fresh PGlite data directory with PGlite itself (the same PGlite version 0.1.0 shipped, 0.5.14, so
// the on-disk format is the one 0.1.0 left behind), then the new code opens that directory.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, DEFAULT_APP_CONFIG, type App } from '../src/app.js';
import { initORM, type Database } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { bearer, createScratchDatabase, usingPostgres } from './helpers.js';

const FIXTURE_SQL = readFileSync(new URL('./fixtures/v0.1.0-database.sql', import.meta.url), 'utf8');
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/v0.1.0-database.json', import.meta.url), 'utf8')) as {
  key: string;
  userId: string;
  organizations: Array<{ id: string; name: string; created_at: string; updated_at: string }>;
};
const OLD_MIGRATIONS = [
  { id: 1, name: 'Migration20261129000000_initial' },
  { id: 2, name: 'Migration20261129010000_idempotency_keys' },
];

/** Migrations added since 0.1.0, which the upgrade applies once. */
const NEW_MIGRATIONS = ['Migration20261129020000_membership_page_index', 'Migration20261130000000_create_rate_limits', 'Migration20261206000000_live_organization_names', 'Migration20261206100000_api_key_lifecycle', 'Migration20261206200000_live_listeners'];

type Opened = { db: Database; app: App; logLines: string[] };

async function openWithNewCode(config: { databaseUrl: string | undefined; dataDir: string }): Promise<Opened> {
  const logLines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
  const db = await initORM(config, { migrate: true, logger });
  return { db, app: createApp({ orm: db.orm, config: DEFAULT_APP_CONFIG, logger }), logLines };
}

function upgradeChecks(open: () => Opened) {
  it('re-runs none of the old release\'s migrations, applies only the new ones, and keeps the old records', async () => {
    const { db, logLines } = open();
    expect(db.applied).toEqual(NEW_MIGRATIONS);
    for (const { name } of OLD_MIGRATIONS) expect(logLines.join('')).not.toContain(`Processing '${name}'`);
    const rows = await db.orm.em.fork().getConnection().execute('select id, name from mikro_orm_migrations order by id');
    expect(rows).toEqual([...OLD_MIGRATIONS, ...NEW_MIGRATIONS.map((name, i) => ({ id: OLD_MIGRATIONS.length + 1 + i, name }))]);
  });

  it('finds the schema exactly as the entities describe it (no pending change)', async () => {
    const diff = await open().db.orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('answers with the old data: same key, same organizations, same timestamps', async () => {
    const { app } = open();
    const response = await app.fetch(
      new Request('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(FIXTURE.key) },
        body: JSON.stringify({ query: '{ viewer { id organizations { edges { node { id name createdAt updatedAt } } } } }' }),
      }),
    );
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { viewer: { id: string; organizations: { edges: Array<{ node: unknown }> } } } };
    expect(data.viewer.id).toBe(FIXTURE.userId);
    expect(data.viewer.organizations.edges.map((e) => e.node)).toEqual(
      FIXTURE.organizations.map((o) => ({ id: o.id, name: o.name, createdAt: o.created_at, updatedAt: o.updated_at })),
    );
  });

  it('keeps the old rules: a name the old release took is still taken, a new one is created with its owner', async () => {
    const { app, db } = open();
    const post = (name: string, headers: Record<string, string> = {}) =>
      app.fetch(
        new Request('http://gateway.test/api/organization', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(FIXTURE.key), ...headers },
          body: JSON.stringify({ name }),
        }),
      );
    const taken = await post(FIXTURE.organizations[0]!.name);
    expect(taken.status).toBe(400);
    expect(await taken.json()).toEqual({ message: `An organization named "${FIXTURE.organizations[0]!.name}" already exists` });

    const created = await post('Made after the upgrade');
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const owners = await db.orm.em.fork().getConnection().execute('select user_id, role from user_organizations where organization_id = ?', [id]);
    expect(owners).toEqual([{ user_id: FIXTURE.userId, role: 2 }]);
  });

  it('honours an idempotency key recorded by the old release', async () => {
    const { app, db } = open();
    // The record is as 0.1.0 wrote it; only its age is reset, so the 24-hour window is open today.
    await db.orm.em.fork().getConnection().execute(`update idempotency_keys set created_at = now() where key = 'v6-retry-key'`);
    const retried = await app.fetch(
      new Request('http://gateway.test/api/organization', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'v6-retry-key', ...bearer(FIXTURE.key) },
        body: JSON.stringify({ name: FIXTURE.organizations[1]!.name }),
      }),
    );
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual(FIXTURE.organizations[1]);
  });
}

describe('an embedded data directory made by 0.1.0', () => {
  let dataDir: string;
  let opened: Opened;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-upgrade-'));
    const old = await PGlite.create({ dataDir: path.join(dataDir, 'pgdata') });
    await old.exec(FIXTURE_SQL);
    await old.close();
    opened = await openWithNewCode({ databaseUrl: undefined, dataDir });
  });
  afterAll(async () => {
    await opened?.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  upgradeChecks(() => opened);
});

describe.skipIf(!usingPostgres)('a PostgreSQL database made by 0.1.0 (PostgreSQL only)', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let opened: Opened;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    await client.query(FIXTURE_SQL);
    await client.end();
    opened = await openWithNewCode({ databaseUrl: scratch.url, dataDir: '' });
  });
  afterAll(async () => {
    await opened?.db.close();
    await scratch?.drop();
  });
  upgradeChecks(() => opened);
});
