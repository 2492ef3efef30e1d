// The API-key lifecycle over GraphQL (issue 22): user and organization keys, the role rules for making,
// listing, revoking and rotating them, an organization key confined to its organization, revocation on
// this instance and on another one, rotation's grace period, "last used" at most once a minute, the
// checksummed key format, and the audit lines (never a secret).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksum, generateApiKey, hashApiKey, isWellFormedApiKey } from '../src/api-keys/format.js';
import { createApp, DEFAULT_APP_CONFIG } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { bearer, CREATE_ORGANIZATION, createTestEnv, makeTeam, type Person, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null, apiKeyCacheSeconds: 2 });
});
afterAll(async () => env?.close());


const KEY_FIELDS = 'id name role scope status hint createdAt updatedAt expiresAt lastUsedAt revokedAt organization { id }';
const CREATE_KEY = `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on CreatedApiKey { secret apiKey { ${KEY_FIELDS} } } ... on Error { message } ... on NotFoundError { resource } ... on ValidationError { field } } }`;
const REVOKE_KEY = `mutation ($id: ID!, $organizationId: ID, $scope: ApiKeyScope) { revokeApiKey(id: $id, organizationId: $organizationId, scope: $scope) {
  __typename ... on ApiKey { ${KEY_FIELDS} } ... on Error { message } } }`;
const ROTATE_KEY = `mutation ($input: RotateApiKeyInput!) { rotateApiKey(input: $input) {
  __typename ... on CreatedApiKey { secret apiKey { ${KEY_FIELDS} } } ... on Error { message } ... on ValidationError { field } } }`;
const MY_KEYS = `query ($first: Int, $after: String, $includeRevoked: Boolean) { viewer { apiKeys(first: $first, after: $after, includeRevoked: $includeRevoked) {
  edges { cursor node { ${KEY_FIELDS} } } pageInfo { hasNextPage endCursor } } } }`;
const ORG_KEYS = `query ($id: ID!, $includeRevoked: Boolean) { organization(id: $id) { apiKeys(includeRevoked: $includeRevoked) { edges { node { ${KEY_FIELDS} } } } } }`;
const WHO = '{ viewer { id } organizationAccess(id: "00000000-0000-0000-0000-000000000000") }';

async function gql(key: string, query: string, variables: Record<string, unknown> = {}) {
  const { body } = await env.graphql(query, { variables, headers: bearer(key) });
  expect(body.errors).toBeUndefined();
  return body.data;
}

async function createOrg(person: Person, name: string): Promise<string> {
  const data = await gql(person.key, CREATE_ORGANIZATION, { name });
  expect(data.createOrganization.__typename).toBe('Organization');
  return data.createOrganization.id;
}

const team = (name: string) => makeTeam(env, name);

const createKey = (key: string, input: Record<string, unknown>) => gql(key, CREATE_KEY, { input }).then((data) => data.createApiKey);
/** Whether the key is accepted: a request that needs it (organizationAccess tells a signed-in caller NOT_FOUND; anonymous: NOT_FOUND too, so ask viewer/organization). */
async function accepted(key: string, organizationId?: string): Promise<boolean> {
  const { body } = await env.graphql(organizationId ? `{ organization(id: "${organizationId}") { id } }` : '{ viewer { id } }', { headers: bearer(key) });
  return organizationId ? body.data.organization !== null : body.data.viewer !== null;
}

describe('the key format', () => {
  it('is tru_/tro_, 30 random base62 characters and a CRC32 checksum a scanner can check offline; old tr- keys stay valid', () => {
    const user = generateApiKey('user');
    const org = generateApiKey('organization');
    expect(user).toMatch(/^tru_[0-9A-Za-z]{36}$/);
    expect(org).toMatch(/^tro_[0-9A-Za-z]{36}$/);
    expect(checksum(user.slice(0, 34))).toBe(user.slice(34));
    expect(isWellFormedApiKey(user)).toBe(true);
    // One character changed anywhere: the checksum no longer matches.
    const typo = `${user.slice(0, 10)}${user[10] === 'a' ? 'b' : 'a'}${user.slice(11)}`;
    expect(isWellFormedApiKey(typo)).toBe(false);
    expect(isWellFormedApiKey(`tr-${'a'.repeat(32)}`)).toBe(true);
    expect(isWellFormedApiKey(`tru_${'a'.repeat(36)}`)).toBe(false);
  });

  it('refuses a key whose checksum is wrong without a database lookup', async () => {
    const before = await env.sql<{ n: number }>('select count(*)::int as n from api_keys');
    const key = generateApiKey();
    const bad = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
    const { body } = await env.graphql('{ viewer { id } }', { headers: bearer(bad) });
    expect(body).toEqual({ data: { viewer: null } });
    expect((await env.sql<{ n: number }>('select count(*)::int as n from api_keys'))[0]).toEqual(before[0]);
  });

  it('keeps keys made in the old format working (stored by hash, no hint)', async () => {
    const person = await env.newUser({ role: 'owner' });
    const legacy = `tr-${'L'.repeat(28)}${Date.now().toString(36).slice(-4).padStart(4, '0')}`.slice(0, 35);
    await env.sql(`insert into api_keys (id, user_id, label, role, hash, created_at, updated_at) values (gen_random_uuid(), ?, 'legacy', 2, ?, now(), now())`, [person.userId, hashApiKey(legacy)]);
    expect(await accepted(legacy)).toBe(true);
    const keys = (await gql(legacy, MY_KEYS)).viewer.apiKeys.edges.map((e: { node: { name: string; hint: string | null } }) => e.node);
    expect(keys.find((k: { name: string }) => k.name === 'legacy')).toMatchObject({ hint: null });
  });
});

describe('making keys', () => {
  it('shows the secret once; the record has the hint and never the secret or its hash', async () => {
    const person = await env.newUser({ role: 'owner' });
    const created = await createKey(person.key, { name: 'ci', role: 'READ' });
    expect(created.__typename).toBe('CreatedApiKey');
    expect(created.secret).toMatch(/^tru_[0-9A-Za-z]{36}$/);
    expect(created.apiKey).toMatchObject({ name: 'ci', role: 'READ', scope: 'USER', status: 'ACTIVE', hint: `tru_…${created.secret.slice(-4)}`, organization: null, expiresAt: null, lastUsedAt: null, revokedAt: null });
    const listed = await gql(person.key, MY_KEYS);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(listed)).not.toContain(hashApiKey(created.secret));
    expect(listed.viewer.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(created.apiKey.id);
    expect(await accepted(created.secret)).toBe(true);
  });

  it("caps a user key's role at the caller key's role; read keys make no keys; expiries lie in the future", async () => {
    const person = await env.newUser({ role: 'admin' });
    expect(await createKey(person.key, { name: 'x', role: 'OWNER' })).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(person.key, { name: 'x', role: 'ADMIN' })).toMatchObject({ __typename: 'CreatedApiKey', apiKey: { role: 'ADMIN' } });
    const reader = await env.newUser({ role: 'read' });
    expect(await createKey(reader.key, { name: 'x', role: 'READ' })).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(person.key, { name: 'x', role: 'READ', expiresAt: new Date(Date.now() - 1000).toISOString() })).toMatchObject({ __typename: 'ValidationError', field: 'expiresAt' });
    expect(await createKey(person.key, { name: 'bad\u0007name', role: 'READ' })).toMatchObject({ __typename: 'ValidationError', field: 'name' });
    const { body } = await env.graphql(CREATE_KEY, { variables: { input: { name: 'x', role: 'READ' } } });
    expect(body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it("makes an organization's key for admins and owners, at most their role; users and strangers cannot", async () => {
    const t = await team('Key Makers');
    const stranger = await env.newUser({ role: 'owner' });
    await createOrg(stranger, 'Key Makers Rival');
    expect(await createKey(t.owner.key, { name: 'deploy', role: 'OWNER', organizationId: t.id })).toMatchObject({ __typename: 'CreatedApiKey', apiKey: { scope: 'ORGANIZATION', role: 'OWNER', organization: { id: t.id } } });
    expect(await createKey(t.admin.key, { name: 'deploy', role: 'ADMIN', organizationId: t.id })).toMatchObject({ __typename: 'CreatedApiKey' });
    expect(await createKey(t.admin.key, { name: 'deploy', role: 'OWNER', organizationId: t.id })).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(t.user.key, { name: 'deploy', role: 'READ', organizationId: t.id })).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(stranger.key, { name: 'deploy', role: 'READ', organizationId: t.id })).toMatchObject({ __typename: 'NotFoundError', resource: 'organization' });
    // An owner acting through a read key acts as a user: no keys.
    const ownersReadKey = (await env.newUser({ role: 'read', email: t.owner.email })).key;
    expect(await createKey(ownersReadKey, { name: 'deploy', role: 'READ', organizationId: t.id })).toMatchObject({ __typename: 'NotAllowedError' });
  });
});

describe("an organization's key", () => {
  it('acts only in its organization, with its role, and cannot create organizations or user keys', async () => {
    const t = await team('Confined');
    const other = await team('Confined Elsewhere');
    const admin = (await createKey(t.owner.key, { name: 'ops', role: 'ADMIN', organizationId: t.id })).secret as string;
    expect(admin).toMatch(/^tro_/);
    const data = await gql(admin, `{ viewer { id } organization(id: "${t.id}") { id viewerRole members { totalCount } } elsewhere: organization(id: "${other.id}") { id } here: organizationAccess(id: "${t.id}") there: organizationAccess(id: "${other.id}") }`);
    expect(data).toEqual({ viewer: null, organization: { id: t.id, viewerRole: 'ADMIN', members: { totalCount: 3 } }, elsewhere: null, here: 'MEMBER', there: 'NOT_MEMBER' });
    expect((await gql(admin, CREATE_ORGANIZATION, { name: 'By An Org Key' })).createOrganization).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(admin, { name: 'mine', role: 'READ' })).toMatchObject({ __typename: 'NotAllowedError' });
    // Its role: an admin adds users, never an owner; it renames nothing (owners only).
    const newcomer = await env.newUser();
    const add = 'mutation ($input: AddMemberInput!) { addMember(input: $input) { __typename } }';
    expect((await gql(admin, add, { input: { organizationId: t.id, email: newcomer.email, role: 'OWNER' } })).addMember.__typename).toBe('NotAllowedError');
    expect((await gql(admin, add, { input: { organizationId: t.id, email: newcomer.email, role: 'USER' } })).addMember.__typename).toBe('Membership');
    expect((await gql(admin, add, { input: { organizationId: other.id, email: newcomer.email, role: 'USER' } })).addMember.__typename).toBe('NotFoundError');
    const rename = 'mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }';
    expect((await gql(admin, rename, { input: { id: t.id, name: 'Renamed By Key' } })).updateOrganization.__typename).toBe('NotAllowedError');
    // It makes keys of its organization, at most its role.
    expect(await createKey(admin, { name: 'child', role: 'ADMIN', organizationId: t.id })).toMatchObject({ __typename: 'CreatedApiKey' });
    expect(await createKey(admin, { name: 'child', role: 'OWNER', organizationId: t.id })).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await createKey(admin, { name: 'child', role: 'READ', organizationId: other.id })).toMatchObject({ __typename: 'NotFoundError' });
  });

  it('outlives the member who made it, and dies with its organization', async () => {
    const t = await team('Outlived');
    const key = (await createKey(t.admin.key, { name: 'ops', role: 'ADMIN', organizationId: t.id })).secret as string;
    const remove = 'mutation ($input: RemoveMemberInput!) { removeMember(input: $input) { __typename } }';
    expect((await gql(t.owner.key, remove, { input: { organizationId: t.id, userId: t.admin.userId } })).removeMember.__typename).toBe('Membership');
    expect(await accepted(key, t.id)).toBe(true);
    await env.sql('delete from users where id = ?', [t.admin.userId]);
    expect(await accepted(key, t.id)).toBe(true);
    expect((await gql(t.owner.key, 'mutation ($id: ID!) { deleteOrganization(id: $id) { __typename } }', { id: t.id })).deleteOrganization.__typename).toBe('Organization');
    await new Promise((resolve) => setTimeout(resolve, 2100)); // the key cache's lifetime here
    const { body } = await env.graphql(`{ organization(id: "${t.id}") { id } organizationAccess(id: "${t.id}") }`, { headers: bearer(key) });
    expect(body.data).toEqual({ organization: null, organizationAccess: 'NOT_FOUND' });
  });
});

describe('lists', () => {
  it('pages the viewer\'s keys oldest first, cursors being key ids; revoked keys only when asked', async () => {
    const person = await env.newUser({ role: 'owner' });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createKey(person.key, { name: `k${i}`, role: 'READ' })).apiKey.id);
    const first = (await gql(person.key, MY_KEYS, { first: 3 })).viewer.apiKeys;
    expect(first.edges).toHaveLength(3);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await gql(person.key, MY_KEYS, { first: 10, after: first.pageInfo.endCursor })).viewer.apiKeys;
    const all = [...first.edges, ...rest.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(all.slice(1)).toEqual(made); // the person's first key (from newUser) comes first
    expect(first.pageInfo.endCursor).toBe(first.edges[2].node.id);
    await gql(person.key, REVOKE_KEY, { id: made[0] });
    expect((await gql(person.key, MY_KEYS, { first: 10 })).viewer.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(made[0]);
    const withRevoked = (await gql(person.key, MY_KEYS, { first: 10, includeRevoked: true })).viewer.apiKeys.edges;
    expect(withRevoked.find((e: { node: { id: string } }) => e.node.id === made[0]).node).toMatchObject({ status: 'REVOKED', revokedAt: expect.any(String) });
    const { body } = await env.graphql(MY_KEYS, { variables: { after: 'not-a-cursor' }, headers: bearer(person.key) });
    expect(body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it("shows an organization's keys to its admins and owners only; another user's keys to nobody", async () => {
    const t = await team('Listed');
    const stranger = await env.newUser({ role: 'owner' });
    const made = (await createKey(t.owner.key, { name: 'ops', role: 'READ', organizationId: t.id })).apiKey.id;
    for (const who of [t.owner, t.admin]) expect((await gql(who.key, ORG_KEYS, { id: t.id })).organization.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([made]);
    expect((await gql(t.user.key, ORG_KEYS, { id: t.id })).organization.apiKeys).toBeNull();
    expect((await gql(stranger.key, ORG_KEYS, { id: t.id })).organization).toBeNull();
    // Members are Users too; their keys are theirs.
    const members = await gql(t.owner.key, `{ organization(id: "${t.id}") { members { edges { node { user { id } } } } } }`);
    expect(members.organization.members.edges).toHaveLength(3);
    const { body } = await env.graphql('{ viewer { apiKeys { edges { node { id } } } } }', { headers: bearer(stranger.key) });
    expect(body.data.viewer.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(made);
  });
});

describe('revoking', () => {
  it('follows the role table: itself always; others with a role at least theirs; read keys nothing else', async () => {
    const person = await env.newUser({ role: 'owner', email: `revoker-${Date.now()}@example.com` });
    const admin = await createKey(person.key, { name: 'admin', role: 'ADMIN' });
    const owner = await createKey(person.key, { name: 'owner', role: 'OWNER' });
    const read = await createKey(person.key, { name: 'read', role: 'READ' });
    const read2 = await createKey(person.key, { name: 'read2', role: 'READ' });
    const revoke = (by: string, id: string) => gql(by, REVOKE_KEY, { id }).then((d) => d.revokeApiKey.__typename);
    expect(await revoke(admin.secret, owner.apiKey.id)).toBe('NotAllowedError');
    expect(await revoke(read.secret, read2.apiKey.id)).toBe('NotAllowedError');
    expect(await revoke(read.secret, admin.apiKey.id)).toBe('NotAllowedError');
    expect(await revoke(admin.secret, read2.apiKey.id)).toBe('ApiKey');
    expect(await revoke(read.secret, read.apiKey.id)).toBe('ApiKey');
    expect(await accepted(read.secret)).toBe(false);
    // Another user's key: not found (its existence is not told).
    const stranger = await env.newUser({ role: 'owner' });
    expect(await revoke(stranger.key, owner.apiKey.id)).toBe('NotFoundError');
    expect(await revoke(owner.secret, owner.apiKey.id)).toBe('ApiKey');
    expect(await revoke(person.key, owner.apiKey.id)).toBe('ApiKey'); // again: changes nothing
  });

  it("lets an organization's admins revoke its keys up to their role; a member of another organization cannot", async () => {
    const t = await team('Revocations');
    const stranger = await team('Revocations Elsewhere');
    const ownerKey = await createKey(t.owner.key, { name: 'o', role: 'OWNER', organizationId: t.id });
    const adminKey = await createKey(t.owner.key, { name: 'a', role: 'ADMIN', organizationId: t.id });
    const revoke = (by: string, id: string, organizationId?: string) => gql(by, REVOKE_KEY, { id, organizationId }).then((d) => d.revokeApiKey.__typename);
    expect(await revoke(stranger.owner.key, adminKey.apiKey.id)).toBe('NotFoundError');
    expect(await revoke(t.user.key, adminKey.apiKey.id)).toBe('NotAllowedError');
    expect(await revoke(t.admin.key, ownerKey.apiKey.id)).toBe('NotAllowedError');
    expect(await revoke(t.admin.key, adminKey.apiKey.id, stranger.id)).toBe('NotFoundError');
    expect(await revoke(t.admin.key, adminKey.apiKey.id, t.id)).toBe('ApiKey');
    expect(await revoke(t.owner.key, ownerKey.apiKey.id)).toBe('ApiKey');
  });

  it('is refused at once on this instance and within the cache lifetime on another, over GraphQL and REST', async () => {
    const t = await team('Two Instances');
    const other = createApp({ orm: env.db.orm, config: { ...DEFAULT_APP_CONFIG, createRateLimit: null, apiKeyCacheSeconds: 2 }, logger: createLogger('silent') });
    try {
      const created = await createKey(t.owner.key, { name: 'shared', role: 'OWNER' });
      const viaOther = async () => {
        const graphql = await other.fetch(new Request('http://other.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(created.secret) }, body: JSON.stringify({ query: '{ viewer { id } }' }) }));
        const rest = await other.fetch(new Request(`http://other.test/api/organization/${t.id}`, { headers: { ...bearer(created.secret), 'tr-organization': t.id } }));
        return { graphql: ((await graphql.json()) as { data: { viewer: unknown } }).data.viewer !== null, rest: rest.status };
      };
      expect(await viaOther()).toEqual({ graphql: true, rest: 200 }); // now cached there
      const revokedAt = Date.now();
      expect((await gql(t.owner.key, REVOKE_KEY, { id: created.apiKey.id })).revokeApiKey.status).toBe('REVOKED');
      expect(await accepted(created.secret)).toBe(false);
      const rest = await env.request(`/api/organization/${t.id}`, { headers: { ...bearer(created.secret), 'tr-organization': t.id } });
      expect(rest.status).toBe(401);
      await expect.poll(viaOther, { timeout: 4000, interval: 100 }).toEqual({ graphql: false, rest: 401 });
      // Refused within the cache's lifetime (2 s here), with some slack for a loaded machine.
      expect(Date.now() - revokedAt).toBeLessThan(2000 + 1500);
      expect(env.logLines.some((line) => line.includes('"audit":"api_key.refused"') && line.includes(created.apiKey.id) && line.includes('"reason":"revoked"'))).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('rotating', () => {
  it('makes a successor like the key; both work during the grace period, only the successor after it', async () => {
    const t = await team('Rotations');
    const old = await createKey(t.owner.key, { name: 'deploy', role: 'ADMIN', organizationId: t.id });
    const rotated = (await gql(t.owner.key, ROTATE_KEY, { input: { id: old.apiKey.id, gracePeriodSeconds: 2 } })).rotateApiKey;
    expect(rotated.__typename).toBe('CreatedApiKey');
    expect(rotated.secret).not.toBe(old.secret);
    expect(rotated.apiKey).toMatchObject({ name: 'deploy', role: 'ADMIN', scope: 'ORGANIZATION', organization: { id: t.id }, status: 'ACTIVE' });
    expect(await accepted(old.secret, t.id)).toBe(true);
    expect(await accepted(rotated.secret, t.id)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await accepted(old.secret, t.id)).toBe(false);
    expect(await accepted(rotated.secret, t.id)).toBe(true);
    const listed = (await gql(t.owner.key, ORG_KEYS, { id: t.id })).organization.apiKeys.edges.map((e: { node: { id: string; status: string } }) => [e.node.id, e.node.status]);
    expect(listed).toEqual([
      [old.apiKey.id, 'EXPIRED'],
      [rotated.apiKey.id, 'ACTIVE'],
    ]);
    expect(env.logLines.some((line) => line.includes('"audit":"api_key.rotated"') && line.includes(old.apiKey.id) && line.includes(rotated.apiKey.id))).toBe(true);
  });

  it('refuses a grace period outside 0 to 7 days, a dead key, and a caller whose role is below the key\'s', async () => {
    const t = await team('Rotation Rules');
    const key = await createKey(t.owner.key, { name: 'deploy', role: 'OWNER', organizationId: t.id });
    const rotate = (by: string, id: string, gracePeriodSeconds: number) => gql(by, ROTATE_KEY, { input: { id, gracePeriodSeconds } }).then((d) => d.rotateApiKey);
    expect(await rotate(t.owner.key, key.apiKey.id, 7 * 86400 + 1)).toMatchObject({ __typename: 'ValidationError', field: 'gracePeriodSeconds' });
    expect(await rotate(t.owner.key, key.apiKey.id, -1)).toMatchObject({ __typename: 'ValidationError' });
    expect(await rotate(t.admin.key, key.apiKey.id, 0)).toMatchObject({ __typename: 'NotAllowedError' });
    const stranger = await env.newUser({ role: 'owner' });
    expect(await rotate(stranger.key, key.apiKey.id, 0)).toMatchObject({ __typename: 'NotFoundError' });
    const now = await rotate(t.owner.key, key.apiKey.id, 0);
    expect(now.__typename).toBe('CreatedApiKey');
    expect(await accepted(key.secret, t.id)).toBe(false);
    expect(await rotate(t.owner.key, key.apiKey.id, 0)).toMatchObject({ __typename: 'ValidationError', field: 'id' });
  });
});

describe('last used', () => {
  it('is written at most once a minute per key under a burst, off the request path', async () => {
    const person = await env.newUser({ role: 'owner' });
    const created = await createKey(person.key, { name: 'busy', role: 'READ' });
    const lastUsed = async () => {
      const [row] = await env.sql<{ last_used_at: Date | string | null }>('select last_used_at from api_keys where id = ?', [created.apiKey.id]);
      return row!.last_used_at === null ? null : new Date(row!.last_used_at);
    };
    expect(await lastUsed()).toBeNull();
    const burst = () => Promise.all(Array.from({ length: 30 }, () => env.graphql(WHO, { headers: bearer(created.secret) })));
    await burst();
    await env.app.lastUsed.flush();
    const first = await lastUsed();
    expect(first).not.toBeNull();
    const statements = env.app.lastUsed.counts.statements;
    await burst();
    await env.app.lastUsed.flush();
    expect(await lastUsed()).toEqual(first);
    // The second burst wrote nothing: the key was noted within the minute.
    expect(env.app.lastUsed.counts.statements).toBe(statements);
    // Another instance noting the key within the minute writes no new time either (the statement's own condition).
    const other = createApp({ orm: env.db.orm, config: { ...DEFAULT_APP_CONFIG, createRateLimit: null }, logger: createLogger('silent') });
    try {
      await other.fetch(new Request('http://other.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(created.secret) }, body: JSON.stringify({ query: WHO }) }));
      await other.lastUsed.flush();
      expect(other.lastUsed.counts).toEqual({ statements: 1, updated: 0 });
      expect(await lastUsed()).toEqual(first);
      // A minute later (moved back here, not waited for) the next use writes again, once.
      await env.sql(`update api_keys set last_used_at = last_used_at - interval '61 seconds' where id = ?`, [created.apiKey.id]);
      const third = createApp({ orm: env.db.orm, config: { ...DEFAULT_APP_CONFIG, createRateLimit: null }, logger: createLogger('silent') });
      try {
        await Promise.all(Array.from({ length: 10 }, () => third.fetch(new Request('http://third.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(created.secret) }, body: JSON.stringify({ query: WHO }) }))));
        await third.lastUsed.flush();
        expect(third.lastUsed.counts).toEqual({ statements: 1, updated: 1 });
        expect((await lastUsed())!.getTime()).toBeGreaterThan(first!.getTime());
      } finally {
        await third.close();
      }
    } finally {
      await other.close();
    }
    const shown = (await gql(created.secret, MY_KEYS)).viewer.apiKeys.edges.find((e: { node: { id: string } }) => e.node.id === created.apiKey.id).node;
    expect(shown.lastUsedAt).toEqual(expect.any(String));
  });
});

describe('audit', () => {
  it('logs one line per key made, rotated or revoked, with ids only; never a secret or a hash', async () => {
    const person = await env.newUser({ role: 'owner' });
    const from = env.logLines.length;
    const created = await createKey(person.key, { name: 'audited', role: 'READ' });
    const rotated = (await gql(person.key, ROTATE_KEY, { input: { id: created.apiKey.id, gracePeriodSeconds: 0 } })).rotateApiKey;
    await gql(person.key, REVOKE_KEY, { id: rotated.apiKey.id });
    await env.graphql('{ viewer { id } }', { headers: bearer(rotated.secret) });
    const lines = env.logLines.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);
    const audit = lines.filter((line) => typeof line.audit === 'string');
    expect(audit.map((line) => line.audit)).toEqual(['api_key.created', 'api_key.rotated', 'api_key.revoked', 'api_key.refused']);
    expect(audit[0]).toMatchObject({ keyId: created.apiKey.id, organizationId: null, actingKeyId: expect.any(String) });
    const text = env.logLines.slice(from).join('\n');
    for (const secret of [person.key, created.secret, rotated.secret]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashApiKey(secret));
    }
  });
});
