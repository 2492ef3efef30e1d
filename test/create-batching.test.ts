// Concurrent creates share statements (src/organizations/create-queue.ts): creates that arrive while
// the statements allowed in flight are busy wait and then go together in one. Each keeps its own
// answer: names (taken before, or twice in one batch), the per-user limit (exact, refunds included),
// a failing batch that must not fail its neighbours. Both databases; the race with another
// transaction needs a second session, which only PostgreSQL has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CreateQueue } from '../src/organizations/create-queue.js';
import { createOrganization, OrganizationNameTakenError, type Actor } from '../src/organizations/organizations.js';
import { RateLimitedError, type CreateRateLimit } from '../src/organizations/rate-limit.js';
import { Organization } from '../src/entities/organization.entity.js';
import { bearer, countStatements, CREATE_ORGANIZATION, createTestEnv, usingPostgres, type TestEnv } from './helpers.js';

let env: TestEnv;

beforeAll(async () => {
  // One statement in flight: every create that arrives meanwhile waits for the next shared one.
  env = await createTestEnv({ createStatementsInFlight: 1, createRateLimit: null });
});
afterAll(async () => {
  await env?.close();
});

const actor = (userId: string): Actor => ({ keyId: 'test', keyRole: 2, userId, keyOrganizationId: null });

/**
 * Starts creates in one tick against a queue of one statement in flight: the first runs alone, the
 * rest wait and share the next statement. Settles them all.
 */
async function together(queue: CreateQueue, limit: CreateRateLimit, creates: Array<[userId: string, name: string]>) {
  return Promise.allSettled(creates.map(([userId, name]) => createOrganization(env.db.orm.em.fork(), actor(userId), name, null, limit, queue)));
}

const ownerOf = async (organizationId: string) =>
  (await env.sql<{ user_id: string; role: number }>('select user_id, role from user_organizations where organization_id = ?', [organizationId])).map((r) => ({ ...r }));

it('creates that arrive together share one statement; each gets its own organization and owner membership', async () => {
  const [a, b] = [await env.newUser(), await env.newUser()];
  const queue = new CreateQueue(env.db.orm.em.fork(), null, { concurrency: 1 });
  const statements = countStatements('insert into organizations');
  let results;
  try {
    results = await together(queue, null, Array.from({ length: 21 }, (_, i) => [i % 2 ? a.userId : b.userId, `Together ${a.userId} ${i}`] as [string, string]));
  } finally {
    statements.restore();
  }
  expect(statements.count()).toBe(2); // the first alone, the other twenty in one
  expect(queue.stats).toEqual({ statements: 2, batches: 1, batchedCreates: 20, retriedAlone: 0 });
  for (const [i, result] of results.entries()) {
    expect(result.status).toBe('fulfilled');
    const organization = (result as PromiseFulfilledResult<Organization>).value;
    expect(organization.name).toBe(`Together ${a.userId} ${i}`);
    expect(await ownerOf(organization.id)).toEqual([{ user_id: i % 2 ? a.userId : b.userId, role: 2 }]);
  }
  const [{ n }] = (await env.sql<{ n: number }>('select count(*)::int as n from organizations where name like ?', [`Together ${a.userId} %`])) as [{ n: number }];
  expect(n).toBe(21);
});

it('a name taken before, or twice in one batch, is that create\'s OrganizationNameTakenError and nobody else\'s; a deleted organization\'s name is free', async () => {
  const user = await env.newUser();
  const tag = user.userId.slice(0, 8);
  const queue = new CreateQueue(env.db.orm.em.fork(), null, { concurrency: 1 });
  await createOrganization(env.db.orm.em.fork(), actor(user.userId), `Taken ${tag}`);
  const gone = await createOrganization(env.db.orm.em.fork(), actor(user.userId), `Freed ${tag}`);
  await env.sql('update organizations set deleted = 1 where id = ?', [gone.id]);
  const results = await together(queue, null, [
    [user.userId, `First ${tag}`],
    [user.userId, `Twice ${tag}`],
    [user.userId, `Taken ${tag}`],
    [user.userId, `Twice ${tag}`],
    [user.userId, `Freed ${tag}`],
    [user.userId, `Other ${tag}`],
    [user.userId, `Twice ${tag}`],
  ]);
  expect(queue.stats.batches).toBe(1);
  const outcome = (r: PromiseSettledResult<Organization>) => (r.status === 'fulfilled' ? r.value.name : r.reason instanceof OrganizationNameTakenError ? `taken: ${r.reason.message}` : r.reason);
  expect(results.map(outcome)).toEqual([
    `First ${tag}`,
    `Twice ${tag}`,
    expect.stringMatching(/^taken: .*Taken/),
    expect.stringMatching(/^taken: .*Twice/),
    `Freed ${tag}`,
    `Other ${tag}`,
    expect.stringMatching(/^taken: .*Twice/),
  ]);
  const [{ n }] = (await env.sql<{ n: number }>('select count(*)::int as n from organizations where name = ? and deleted = 0', [`Twice ${tag}`])) as [{ n: number }];
  expect(n).toBe(1);
});

describe('with a create limit', () => {
  const LIMIT = { perMinute: 1, burst: 3 };
  const tokens = async (userId: string) => Number((await env.sql<{ tokens: number }>('select tokens from create_rate_limits where user_id = ?', [userId]))[0]?.tokens);

  it('is exact within a batch: a user with 3 tokens and 5 creates gets 3, another user in the same batch is not touched, taken names cost nothing', async () => {
    const [first, a, b] = [await env.newUser(), await env.newUser(), await env.newUser()];
    const tag = a.userId.slice(0, 8);
    await createOrganization(env.db.orm.em.fork(), actor(b.userId), `Already ${tag}`);
    const queue = new CreateQueue(env.db.orm.em.fork(), LIMIT, { concurrency: 1 });
    const results = await together(queue, LIMIT, [
      [first.userId, `Lead ${tag}`],
      ...Array.from({ length: 5 }, (_, i) => [a.userId, `Many ${tag} ${i}`] as [string, string]),
      [b.userId, `Already ${tag}`],
      [b.userId, `Few ${tag} 0`],
      [b.userId, `Few ${tag} 1`],
    ]);
    const [lead, ...rest] = results;
    expect(lead!.status).toBe('fulfilled');
    const many = rest.slice(0, 5);
    expect(many.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refused = many.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(RateLimitedError);
      expect((r.reason as RateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(rest[5]!.status === 'rejected' && (rest[5] as PromiseRejectedResult).reason).toBeInstanceOf(OrganizationNameTakenError);
    expect(rest.slice(6).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const [{ n }] = (await env.sql<{ n: number }>('select count(*)::int as n from organizations o join user_organizations m on m.organization_id = o.id where m.user_id = ?', [a.userId])) as [{ n: number }];
    expect(n).toBe(3);
    expect(await tokens(a.userId)).toBeLessThan(0.1); // all three spent (1 a minute refills ~0.02 a second)
    expect(await tokens(b.userId)).toBeGreaterThanOrEqual(1); // two spent of three: the taken name cost nothing
    expect(await tokens(b.userId)).toBeLessThan(1.1);
  });

  it.runIf(usingPostgres)('gives back the token of a name that a concurrent transaction took while the batch waited for it (PostgreSQL)', async () => {
    const [first, a] = [await env.newUser(), await env.newUser()];
    const tag = a.userId.slice(0, 8);
    const other = new pg.Client({ connectionString: env.databaseUrl });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(
        `insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration) values (gen_random_uuid(), $1, now(), now(), true, 0, '{}')`,
        [`Raced ${tag}`],
      );
      const queue = new CreateQueue(env.db.orm.em.fork(), LIMIT, { concurrency: 1 });
      const pending = together(queue, LIMIT, [
        [first.userId, `Lead ${tag}`],
        [a.userId, `Raced ${tag}`],
        [a.userId, `Kept ${tag}`],
      ]);
      // The batch checked the name (not there yet for it), took two tokens and now waits on the other insert.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('commit');
      const [, raced, kept] = await pending;
      expect(raced!.status === 'rejected' && (raced as PromiseRejectedResult).reason).toBeInstanceOf(OrganizationNameTakenError);
      expect(kept!.status).toBe('fulfilled');
      expect(queue.stats.batches).toBe(1);
      expect(await tokens(a.userId)).toBeGreaterThanOrEqual(2); // three, one spent: the raced name's token came back
      expect(await tokens(a.userId)).toBeLessThan(2.1);
    } finally {
      await other.end();
    }
  });
});

it('a batch that fails in the database is tried again one by one: only the culprit fails, its neighbours are created', async () => {
  const user = await env.newUser();
  const tag = user.userId.slice(0, 8);
  await env.sql(`create function refuse_poison() returns trigger language plpgsql as $$
    begin if new.name like 'Poison %' then raise exception 'poisoned'; end if; return new; end $$`);
  await env.sql('create trigger refuse_poison before insert on organizations for each row execute function refuse_poison()');
  try {
    const queue = new CreateQueue(env.db.orm.em.fork(), null, { concurrency: 1 });
    const results = await together(queue, null, [
      [user.userId, `Lead ${tag}`],
      [user.userId, `Fine ${tag} 1`],
      [user.userId, `Poison ${tag}`],
      [user.userId, `Fine ${tag} 2`],
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(queue.stats).toMatchObject({ batches: 1, retriedAlone: 3 });
    const names = (await env.sql<{ name: string }>('select name from organizations where name like ? order by name', [`% ${tag}%`])).map((r) => r.name);
    expect(names).toEqual([`Fine ${tag} 1`, `Fine ${tag} 2`, `Lead ${tag}`]);
  } finally {
    await env.sql('drop trigger refuse_poison on organizations');
    await env.sql('drop function refuse_poison()');
  }
});

it('over REST and GraphQL at once: every request gets its own answer, fewer statements than creates, each organization with its owner', async () => {
  const users = [await env.newUser(), await env.newUser(), await env.newUser()];
  const tag = users[0]!.userId.slice(0, 8);
  const before = { ...env.app.createQueue.stats };
  const answers = await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const user = users[i % 3]!;
      const name = i === 29 ? `Web ${tag} 0` : `Web ${tag} ${i}`; // the last repeats the first's name
      if (i % 2) {
        const r = await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(user.key) }, body: JSON.stringify({ name }) });
        return { status: r.status, name: r.status === 200 ? ((await r.json()) as { name: string }).name : ((await r.json()) as { message: string }).message };
      }
      const g = await env.graphql(CREATE_ORGANIZATION, { variables: { name }, headers: bearer(user.key) });
      const result = g.body.data.createOrganization;
      return { status: g.status, name: result.__typename === 'Organization' ? result.name : result.__typename };
    }),
  );
  const after = env.app.createQueue.stats;
  expect(after.batches).toBeGreaterThan(before.batches);
  expect(after.statements - before.statements).toBeLessThan(30);
  // The same name from GraphQL (first) and REST (last): one of them has it, the other is told it is taken.
  const restWon = answers[29]!.status === 200;
  expect(restWon ? answers[29] : answers[0]).toEqual({ status: 200, name: `Web ${tag} 0` });
  expect(restWon ? answers[0] : answers[29]).toEqual(restWon ? { status: 200, name: 'OrganizationNameTakenError' } : { status: 400, name: `An organization named "Web ${tag} 0" already exists` });
  for (let i = 1; i < 29; i++) expect(answers[i]).toEqual({ status: 200, name: `Web ${tag} ${i}` });
  const rows = await env.sql<{ name: string; user_id: string; role: number }>(
    'select o.name, m.user_id, m.role from organizations o join user_organizations m on m.organization_id = o.id where o.name like ?',
    [`Web ${tag} %`],
  );
  expect(rows).toHaveLength(29);
  for (const row of rows) {
    const i = Number(row.name.split(' ').at(-1));
    expect(row).toEqual({ name: row.name, user_id: users[i === 0 && restWon ? 29 % 3 : i % 3]!.userId, role: 2 });
  }
});
