// viewer.organizations as a cursor connection: every organization exactly once across pages, in
// both directions, stable under concurrent inserts, limits enforced, one user's cursors useless to
// another, and an index that serves the keyset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
let alice: { key: string; userId: string };
let bob: { key: string; userId: string };
const MEMBERSHIPS = 2500;

/** Organizations (and memberships) for a user straight in SQL; every third shares its timestamp with the next, so the id breaks ties. */
async function addMemberships(userId: string, count: number, tag: string, startSecondsAgo: number): Promise<void> {
  await env.sql(
    `with orgs as (
       insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
       select gen_random_uuid(), ? || '-' || g, now(), now(), true, 0, '{}'::jsonb from generate_series(1, ?) g
       returning id, name
     )
     insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
     select gen_random_uuid(), ?, id, 2,
            now() - make_interval(secs => ? - (split_part(name, '-', 2)::int / 3)), now()
     from orgs`,
    [tag, count, userId, startSecondsAgo],
  );
}

type Page = { totalCount?: number; edges: Array<{ cursor: string; node: { id: string; name: string } }>; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } };

async function page(key: string, args: string): Promise<Page> {
  const { body } = await env.graphql(`{ viewer { organizations(${args}) { totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`, {
    headers: bearer(key),
  });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data.viewer.organizations;
}

async function expectedOrder(userId: string): Promise<string[]> {
  const rows = await env.sql<{ id: string }>(
    `select o.id from user_organizations m join organizations o on o.id = m.organization_id
     where m.user_id = ? and o.deleted = 0 order by m.created_at, m.id`,
    [userId],
  );
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  env = await createTestEnv();
  alice = await env.newUser();
  bob = await env.newUser();
  await addMemberships(alice.userId, MEMBERSHIPS, 'alice', 100_000);
  await addMemberships(bob.userId, 30, 'bob', 100_000);
}, 120_000);
afterAll(async () => env?.close());

describe('viewer.organizations', () => {
  it('pages forwards through a few thousand memberships: each organization exactly once, in order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const p: Page = await page(alice.key, `first: 100${after ? `, after: "${after}"` : ''}`);
      expect(p.totalCount).toBe(MEMBERSHIPS);
      seen.push(...p.edges.map((e) => e.node.id));
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(await expectedOrder(alice.userId));
  });

  it('pages backwards the same', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const p: Page = await page(alice.key, `last: 100${before ? `, before: "${before}"` : ''}`);
      seen.unshift(...p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    expect(seen).toEqual(await expectedOrder(alice.userId));
  });

  it('stays stable while organizations are joined meanwhile: nothing seen twice, nothing skipped', async () => {
    const { key, userId } = await env.newUser();
    await addMemberships(userId, 250, `mover${userId.slice(0, 8)}`, 50_000);
    const original = await expectedOrder(userId);
    const seen: string[] = [];
    let after: string | null = null;
    let round = 0;
    for (;;) {
      const p: Page = await page(key, `first: 40${after ? `, after: "${after}"` : ''}`);
      seen.push(...p.edges.map((e) => e.node.id));
      // Between pages, new organizations are created (they are the newest memberships).
      const created = await env.graphql('mutation($n: String!) { createOrganization(input: { name: $n }) { __typename } }', {
        variables: { n: `joined-${userId}-${round++}` },
        headers: bearer(key),
      });
      expect(created.body.data.createOrganization.__typename).toBe('Organization');
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, original.length)).toEqual(original);
  });

  const forge = (at: string) => Buffer.from(`m1:${at}:00000000-0000-4000-8000-000000000000`).toString('base64url');

  it('uses 20 per page by default and refuses sizes over 100 or both directions with a clear error', async () => {
    const errorsBefore = env.logLines.filter((line) => line.includes('"level":50')).length;
    expect((await page(alice.key, 'first: null')).edges).toHaveLength(20);
    for (const [args, message] of [
      ['first: 101', 'first must be a whole number from 0 to 100, got 101'],
      ['last: -1', 'last must be a whole number from 0 to 100, got -1'],
      ['first: 5, last: 5', 'Page forwards (first, after) or backwards (last, before), not both'],
      ['after: "bm90IGEgY3Vyc29y"', 'Invalid cursor: pass a cursor this API returned'],
      // Forged in our own format: a year PostgreSQL does not have (was a 500, SQLSTATE 22008), a day that rolls over.
      [`after: "${forge('0000-01-01T00:00:00.000Z')}"`, 'Invalid cursor: pass a cursor this API returned'],
      [`before: "${forge('0000-01-01T00:00:00.000Z')}", last: 2`, 'Invalid cursor: pass a cursor this API returned'],
      [`after: "${forge('2026-02-30T00:00:00.000Z')}"`, 'Invalid cursor: pass a cursor this API returned'],
    ]) {
      const { body } = await env.graphql(`{ viewer { organizations(${args}) { edges { cursor } } } }`, { headers: bearer(alice.key) });
      expect(body.errors).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
      expect(body.data).toEqual({ viewer: null });
    }
    // The caller's mistake, not ours: nothing logged as an error.
    expect(env.logLines.filter((line) => line.includes('"level":50'))).toHaveLength(errorsBefore);
  });

  it("makes one user's cursors useless to another: they select only the caller's own organizations", async () => {
    const alicePage = await page(alice.key, 'first: 10');
    const bobsOwn = new Set(await expectedOrder(bob.userId));
    const withAlicesCursor = await page(bob.key, `first: 100, after: "${alicePage.pageInfo.endCursor}"`);
    for (const edge of withAlicesCursor.edges) expect(bobsOwn.has(edge.node.id)).toBe(true);
    expect(withAlicesCursor.totalCount).toBe(30);
  });

  it('is served by the (user_id, created_at, id) index in keyset order, without a sort', async () => {
    await env.sql('analyze user_organizations');
    const [first] = await env.sql<{ 'QUERY PLAN': unknown }>(
      `explain (format json)
       select m.id from user_organizations m where m.user_id = ? and (m.created_at, m.id) > (now() - interval '1 day', '00000000-0000-0000-0000-000000000000'::uuid)
       order by m.created_at, m.id limit 101`,
      [alice.userId],
    );
    const plan = JSON.stringify(first!['QUERY PLAN']);
    expect(plan).toContain('user_organizations_user_id_created_at_id_index');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });
});
