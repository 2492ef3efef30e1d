import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function create(key: string, name: unknown) {
  return env.graphql(CREATE_ORGANIZATION, { variables: { name }, headers: bearer(key) });
}

async function countOrganizations(name?: string): Promise<number> {
  const rows = name === undefined
    ? await env.sql<{ n: string }>('select count(*) as n from organizations')
    : await env.sql<{ n: string }>('select count(*) as n from organizations where name = ?', [name]);
  return Number(rows[0]!.n);
}

describe('createOrganization', () => {
  it('creates the organization with upstream defaults and makes the caller its owner', async () => {
    const { key, userId } = await env.newUser();
    const before = Date.now();
    const { status, body } = await create(key, 'Acme Corp');
    expect(status).toBe(200);
    const org = body.data.createOrganization;
    expect(org).toEqual({
      __typename: 'Organization',
      id: expect.stringMatching(UUID),
      name: 'Acme Corp',
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: expect.stringMatching(ISO_UTC),
      deleted: 0,
      registerable: true,
      partnerConfiguration: {},
    });
    expect(Date.parse(org.createdAt)).toBeGreaterThanOrEqual(before - 5);
    expect(org.updatedAt).toBe(org.createdAt);

    const memberships = await env.sql('select user_id, role from user_organizations where organization_id = ?', [org.id]);
    expect(memberships).toEqual([{ user_id: userId, role: 2 }]);

    const viewer = await env.graphql('{ viewer { id organizations { totalCount edges { node { id name createdAt } } } } }', { headers: bearer(key) });
    expect(viewer.body).toEqual({
      data: { viewer: { id: userId, organizations: { totalCount: 1, edges: [{ node: { id: org.id, name: 'Acme Corp', createdAt: org.createdAt } }] } } },
    });
  });

  it('lets a read-only key create an organization', async () => {
    const { key } = await env.newUser({ role: 'read' });
    const { body } = await create(key, 'made with a read-only key');
    expect(body.data.createOrganization.__typename).toBe('Organization');
  });

  it('answers a taken name with OrganizationNameTakenError and leaves one row', async () => {
    const first = await env.newUser();
    const second = await env.newUser();
    await create(first.key, 'Taken Name');
    const { status, body } = await create(second.key, 'Taken Name');
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        createOrganization: {
          __typename: 'OrganizationNameTakenError',
          message: 'An organization named "Taken Name" already exists',
          name: 'Taken Name',
        },
      },
    });
    expect(await countOrganizations('Taken Name')).toBe(1);
    const memberships = await env.sql('select 1 from user_organizations where user_id = ?', [second.userId]);
    expect(memberships).toEqual([]);
  });

  it('treats names that differ in case or by a space as different names', async () => {
    const { key } = await env.newUser();
    for (const name of ['Case Test', 'case test', 'Case Test ']) {
      expect((await create(key, name)).body.data.createOrganization.__typename).toBe('Organization');
    }
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['empty', '', /empty or only white space/],
    ['spaces only', '   ', /empty or only white space/],
    ['white space of other kinds', '\u00a0\u2003\u3000', /empty or only white space/],
    ['tabs and newlines (blank)', '\t\n', /empty or only white space/],
    ['NUL', 'a\u0000b', /control characters/],
    ['a C0 control', 'bell\u0007', /control characters/],
    ['a newline inside', 'two\nlines', /control characters/],
    ['DEL', 'del\u007f', /control characters/],
    ['a C1 control', 'c1\u0085', /control characters/],
    ['a lone high surrogate', 'x\ud800y', /lone surrogates/],
    ['a lone low surrogate', '\udc00', /lone surrogates/],
    ['256 code points', 'a'.repeat(256), /at most 255 characters, got 256/],
    ['256 emoji (512 UTF-16 units)', '😀'.repeat(256), /at most 255 characters, got 256/],
  ];
  it.each(invalid)('refuses a name with %s as a ValidationError and writes nothing', async (_label, name, message) => {
    const { key, userId } = await env.newUser();
    const before = await countOrganizations();
    const { status, body } = await create(key, name);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: { createOrganization: { __typename: 'ValidationError', field: 'name', message: expect.stringMatching(message) } },
    });
    // Not by name: PostgreSQL cannot even compare text with NUL or lone surrogates.
    expect(await countOrganizations()).toBe(before);
    expect(await env.sql('select 1 from user_organizations where user_id = ?', [userId])).toEqual([]);
  });

  const valid: Array<[string, string]> = [
    ['255 code points', 'b'.repeat(255)],
    ['255 emoji', '🚀'.repeat(255)],
    ['accents', 'Café Société Ünïcödé'],
    ['combining marks', 'e\u0301e\u0301 cafe\u0301'],
    ['right-to-left text', 'שלום עולם مرحبا'],
    ['format characters (ZWJ, RLM)', 'family 👨\u200d👩\u200d👧 \u200f'],
    ['quotes and SQL', `Robert'); DROP TABLE organizations;--"`],
    ['HTML', '<script>alert("x")</script> &amp;'],
    ['leading and trailing spaces', '  padded  '],
  ];
  it.each(valid)('stores and returns a name with %s exactly as sent', async (_label, name) => {
    const { key } = await env.newUser();
    const { body } = await create(key, name);
    expect(body.data.createOrganization).toMatchObject({ __typename: 'Organization', name });
    const rows = await env.sql<{ name: string }>('select name from organizations where id = ?', [body.data.createOrganization.id]);
    expect(rows).toEqual([{ name }]);
  });

  it('refuses a non-string name with a GraphQL validation error and writes nothing', async () => {
    const { key } = await env.newUser();
    const before = await countOrganizations();
    for (const name of [42, null, ['a'], { a: 1 }]) {
      const { status, body } = await create(key, name);
      expect(status).toBe(400);
      expect(body.errors?.[0]?.message).toMatch(/Variable "\$name"/);
    }
    expect(await countOrganizations()).toBe(before);
  });
});

describe('organization(id)', () => {
  it('returns the organization to a member and null to anyone else', async () => {
    const owner = await env.newUser();
    const stranger = await env.newUser();
    const org = (await create(owner.key, 'Members Only')).body.data.createOrganization;
    const query = 'query ($id: ID!) { organization(id: $id) { id name createdAt updatedAt deleted registerable partnerConfiguration } }';

    const mine = await env.graphql(query, { variables: { id: org.id }, headers: bearer(owner.key) });
    const { __typename, ...fields } = org;
    expect(mine.body).toEqual({ data: { organization: fields } });

    const theirs = await env.graphql(query, { variables: { id: org.id }, headers: bearer(stranger.key) });
    expect(theirs.body).toEqual({ data: { organization: null } });

    const anonymous = await env.graphql(query, { variables: { id: org.id } });
    expect(anonymous.body).toEqual({ data: { organization: null } });
  });

  it('returns null for an unknown or malformed id', async () => {
    const { key } = await env.newUser();
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '']) {
      const { status, body } = await env.graphql('query ($id: ID!) { organization(id: $id) { id } }', { variables: { id }, headers: bearer(key) });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { organization: null } });
    }
  });

  it('hides soft-deleted organizations', async () => {
    const { key } = await env.newUser();
    const org = (await create(key, 'Soon Deleted')).body.data.createOrganization;
    await env.sql('update organizations set deleted = 1 where id = ?', [org.id]);
    const one = await env.graphql('query ($id: ID!) { organization(id: $id) { id } }', { variables: { id: org.id }, headers: bearer(key) });
    expect(one.body).toEqual({ data: { organization: null } });
    const list = await env.graphql('{ viewer { organizations { totalCount edges { node { id } } } } }', { headers: bearer(key) });
    expect(list.body).toEqual({ data: { viewer: { organizations: { totalCount: 0, edges: [] } } } });
  });
});
