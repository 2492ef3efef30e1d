// Upstream's API-key routes (contract-notes-organization §0, §6, §7, with the differences of §8): exact
// statuses, messages and shapes, every answer checked against /api/openapi.json, a member of another
// organization trying each route, an organization key confined to its organization, and trieve-ts-sdk.
import { TrieveSDK } from 'trieve-ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from './contract.js';
import { bearer, createTestEnv, makeTeam, serveOnLoopback, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null });
});
afterAll(async () => env?.close());


const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  env.request(path, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
const as = (key: string, organizationId?: string) => ({ ...bearer(key), ...(organizationId ? { 'tr-organization': organizationId } : {}) });

const team = (name: string) => makeTeam(env, name);

const FORBIDDEN = { message: 'Forbidden' };
const UNAUTHORIZED = { message: 'Unauthorized' };
const KEY = '/api/organization/api_key';
const KEY_ID = '/api/organization/api_key/{api_key_id}';
const USER_KEY = '/api/user/api_key';
const USER_KEY_ID = '/api/user/api_key/{api_key_id}';
const RESP_KEYS = ['id', 'organization_id', 'name', 'role', 'organization_ids', 'dataset_ids', 'created_at', 'updated_at'];

async function makeOrgKey(by: string, organizationId: string, body: Record<string, unknown>): Promise<string> {
  const response = await call('POST', KEY, as(by, organizationId), body);
  const answer = await expectDocumented(response, 'POST', KEY, 200);
  expect(Object.keys(answer)).toEqual(['api_key']);
  return answer.api_key;
}

describe('POST /api/organization/api_key', () => {
  it("makes an organization's key for admins and owners, shown once, acting only there with its role", async () => {
    const t = await team('REST Keys');
    const other = await team('REST Keys Elsewhere');
    const key = await makeOrgKey(t.admin.key, t.id, { name: 'deploy', role: 1 });
    expect(key).toMatch(/^tro_[0-9A-Za-z]{36}$/);
    // Acts in its organization, as an admin: reads it and its users; cannot delete it (owners only).
    expect((await call('GET', `/api/organization/${t.id}`, as(key, t.id))).status).toBe(200);
    expect((await call('GET', `/api/organization/users/${t.id}`, as(key, t.id))).status).toBe(200);
    expect(await (await call('DELETE', `/api/organization/${t.id}`, as(key, t.id))).json()).toEqual(FORBIDDEN);
    // Everywhere else: 403 (another organization), 401 (no TR-Organization), 403 (creates).
    expect(await expectDocumented(await call('GET', `/api/organization/${other.id}`, as(key, other.id)), 'GET', '/api/organization/{organization_id}', 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('GET', KEY, as(key, other.id)), 'GET', KEY, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('GET', `/api/organization/${t.id}`, as(key)), 'GET', '/api/organization/{organization_id}', 401)).toEqual(UNAUTHORIZED);
    expect(await expectDocumented(await call('POST', '/api/organization', as(key), { name: 'By Org Key' }), 'POST', '/api/organization', 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('PUT', '/api/organization', as(key, t.id), { name: 'Renamed By Key' }), 'PUT', '/api/organization', 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('DELETE', `/api/organization/${other.id}/user/${other.user.userId}`, as(key, other.id)), 'DELETE', '/api/organization/{organization_id}/user/{user_id}', 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('GET', USER_KEY, as(key)), 'GET', USER_KEY, 200)).toEqual([]);
    // The user route never reaches a user's key from an organization's key: 204, nothing revoked.
    await expectDocumented(await call('DELETE', `${USER_KEY}/${(await env.sql<{ id: string }>('select id from api_keys where user_id = ? limit 1', [t.owner.userId]))[0]!.id}`, as(key)), 'DELETE', USER_KEY_ID, 204);
    expect((await call('GET', USER_KEY, as(t.owner.key))).status).toBe(200);
    // Nor another organization's keys: its list, a new key there, a delete there are all 403.
    expect(await expectDocumented(await call('POST', KEY, as(key, other.id), { name: 'x', role: 0 }), 'POST', KEY, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('DELETE', `${KEY}/3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b`, as(key, other.id)), 'DELETE', KEY_ID, 403)).toEqual(FORBIDDEN);
  });

  it('refuses in upstream order: 401 before everything, 403 for users and strangers, then the body', async () => {
    const t = await team('REST Key Refusals');
    const stranger = await team('REST Key Strangers');
    const refuse = async (headers: Record<string, string>, body: unknown, status: number, message: string | RegExp) => {
      const answer = await expectDocumented(await call('POST', KEY, headers, body), 'POST', KEY, status);
      if (typeof message === 'string') expect(answer).toEqual({ message });
      else expect(answer.message).toMatch(message);
    };
    await refuse({}, { name: 'x', role: 0 }, 401, 'Unauthorized');
    await refuse(as(t.owner.key), { name: 'x', role: 0 }, 401, 'Unauthorized');
    await refuse(as(t.owner.key), '{bad', 401, 'Unauthorized');
    await refuse(as(t.user.key, t.id), '{bad', 403, 'Forbidden');
    await refuse(as(stranger.owner.key, t.id), { name: 'x', role: 0 }, 403, 'Forbidden');
    await refuse(as(t.admin.key, t.id), { name: 'x', role: 2 }, 403, 'Forbidden');
    await refuse(as(t.owner.key, t.id), { role: 0 }, 400, /^Json Deserialization Error: \*Type\* : Data error in JSON \| \*Message\* : Json deserialize error: missing field `name` at line 1 column 10 \|/);
    await refuse(as(t.owner.key, t.id), { name: 'x' }, 400, /missing field `role`/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: '1' }, 400, /invalid type: string "1", expected i32 at line 1 column 22/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 1.5 }, 400, /invalid type: floating point `1.5`, expected i32/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 3000000000 }, 400, /invalid value: integer `3000000000`, expected i32/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 3 }, 400, 'role must be 0 (read), 1 (admin) or 2 (owner)');
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 0, expires_at: 'next tuesday' }, 400, /^expires_at is not a date/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 0, expires_at: '2001-01-01T00:00:00Z' }, 400, 'The expiry must lie in the future');
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 0, scopes: ['GET /api/organization/{id}'] }, 400, /^scopes cannot be honoured/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 0, dataset_ids: [t.id] }, 400, /^dataset_ids cannot be honoured/);
    await refuse(as(t.owner.key, t.id), { name: 'x', role: 0, scopes: 'all' }, 400, /invalid type: string "all", expected a sequence/);
    const noKeys = await env.sql<{ n: number }>('select count(*)::int as n from api_keys where organization_id = ?', [t.id]);
    expect(noKeys).toEqual([{ n: 0 }]);
    // Accepted: empty restrictions, ignored default_params, every expiry form upstream's dateparser reads.
    for (const expires_at of ['2099-01-01T00:00:00Z', '2099-01-01T02:00:00+02:00', '2099-01-01', '2099-01-01 12:30:00', '4070908800', null]) {
      await makeOrgKey(t.owner.key, t.id, { name: 'ok', role: 0, scopes: [], dataset_ids: null, expires_at, default_params: { page_size: 5 } });
    }
    const expiries = await env.sql<{ expires_at: string | Date | null }>('select expires_at from api_keys where organization_id = ? order by created_at', [t.id]);
    expect(expiries.map((row) => (row.expires_at === null ? null : new Date(row.expires_at).toISOString()))).toEqual([
      '2099-01-01T00:00:00.000Z',
      '2099-01-01T00:00:00.000Z',
      '2099-01-01T00:00:00.000Z',
      '2099-01-01T12:30:00.000Z',
      '2099-01-01T00:00:00.000Z',
      null,
    ]);
  });
});

describe('GET /api/organization/api_key', () => {
  it('lists the keys that are not revoked, oldest first, `limit` at a time after `cursor`', async () => {
    const t = await team('REST Key List');
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      await makeOrgKey(t.owner.key, t.id, { name: `k${i}`, role: i % 3 });
      const [row] = await env.sql<{ id: string }>('select id from api_keys where organization_id = ? order by created_at desc, id desc limit 1', [t.id]);
      made.push(row!.id);
    }
    const list = async (query: string, who = t.admin.key) => expectDocumented(await call('GET', `${KEY}${query}`, as(who, t.id)), 'GET', KEY, 200);
    const first = await list('?limit=3');
    expect(Object.keys(first)).toEqual(['api_keys', 'cursor']);
    expect(first.api_keys.map((k: { id: string }) => k.id)).toEqual(made.slice(0, 3));
    expect(Object.keys(first.api_keys[0])).toEqual(RESP_KEYS);
    expect(first.api_keys[1]).toMatchObject({ organization_id: t.id, name: 'k1', role: 1, organization_ids: null, dataset_ids: null });
    expect(first.cursor).toBe(made[2]);
    const second = await list(`?limit=3&cursor=${first.cursor}`);
    expect(second).toEqual({ api_keys: [expect.objectContaining({ id: made[3] })], cursor: made[3] });
    expect(await list(`?cursor=${made[3]}`)).toEqual({ api_keys: [], cursor: null });
    expect((await list('')).api_keys).toHaveLength(4); // default 10
    expect(await list('?limit=0')).toEqual({ api_keys: [], cursor: null });
    expect((await list('?cursor=00000000-0000-0000-0000-000000000000&unknown=1')).api_keys).toHaveLength(4);
    // A revoked (deleted) key is gone from the list.
    expect((await call('DELETE', `${KEY}/${made[0]}`, as(t.owner.key, t.id))).status).toBe(204);
    expect((await list('')).api_keys.map((k: { id: string }) => k.id)).toEqual(made.slice(1));
  });

  it('answers a bad query first (JSON), then 401, 403', async () => {
    const t = await team('REST Key List Refusals');
    const stranger = await env.newUser({ role: 'owner' });
    const refuse = async (query: string, headers: Record<string, string>, status: number, message: string) =>
      expect(await expectDocumented(await call('GET', `${KEY}${query}`, headers), 'GET', KEY, status)).toEqual({ message });
    await refuse('?limit=abc', {}, 400, 'Query deserialize error: invalid digit found in string');
    await refuse('?limit=', {}, 400, 'Query deserialize error: cannot parse integer from empty string');
    await refuse('?limit=99999999999', {}, 400, 'Query deserialize error: number too large to fit in target type');
    await refuse('?limit=1&limit=2', {}, 400, 'Query deserialize error: duplicate field `limit`');
    await refuse('?cursor=', {}, 400, 'Query deserialize error: UUID parsing failed: invalid length: expected length 32 for simple format, found 0');
    await refuse('?cursor=xyz', {}, 400, 'Query deserialize error: UUID parsing failed: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 1');
    await refuse('', {}, 401, 'Unauthorized');
    await refuse('', as(t.owner.key), 401, 'Unauthorized');
    await refuse('', as(t.user.key, t.id), 403, 'Forbidden');
    await refuse('', as(stranger.key, t.id), 403, 'Forbidden');
    await refuse('?limit=1001', as(t.owner.key, t.id), 400, 'Query deserialize error: limit must be from 0 to 1000');
    await refuse('?limit=-1', as(t.owner.key, t.id), 400, 'Query deserialize error: limit must be from 0 to 1000');
  });
});

describe('DELETE /api/organization/api_key/{api_key_id}', () => {
  it("revokes the organization's key (204 also for no such key); needs a role at least the key's; never another organization's key", async () => {
    const t = await team('REST Key Delete');
    const other = await team('REST Key Delete Elsewhere');
    const ownerKey = await makeOrgKey(t.owner.key, t.id, { name: 'owner', role: 2 });
    const adminKey = await makeOrgKey(t.owner.key, t.id, { name: 'admin', role: 1 });
    const otherKey = await makeOrgKey(other.owner.key, other.id, { name: 'theirs', role: 0 });
    const ids = Object.fromEntries((await env.sql<{ id: string; label: string }>('select id, label from api_keys where organization_id in (?, ?)', [t.id, other.id])).map((row) => [row.label, row.id]));
    const del = (by: string, id: string, organizationId = t.id) => call('DELETE', `/api/organization/api_key/${id}`, as(by, organizationId));
    expect(await expectDocumented(await del(t.admin.key, ids.owner!), 'DELETE', KEY_ID, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await del(t.user.key, ids.admin!), 'DELETE', KEY_ID, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await del(other.owner.key, ids.admin!, t.id), 'DELETE', KEY_ID, 403)).toEqual(FORBIDDEN);
    // Another organization's key through this organization: nothing happens, upstream's 204.
    await expectDocumented(await del(t.owner.key, ids.theirs!), 'DELETE', KEY_ID, 204);
    expect((await call('GET', `/api/organization/${other.id}`, as(otherKey, other.id))).status).toBe(403); // a read key: Forbidden, but accepted (not 401)
    await expectDocumented(await del(t.owner.key, '3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b'), 'DELETE', KEY_ID, 204);
    expect(await expectDocumented(await del(t.owner.key, 'nope'), 'DELETE', KEY_ID, 400)).toEqual({ message: 'Path deserialize error: UUID parsing failed: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1' });
    expect(await expectDocumented(await call('DELETE', `${KEY}/nope`, {}), 'DELETE', KEY_ID, 401)).toEqual(UNAUTHORIZED);
    // An admin key deletes itself; an owner the owner key.
    await expectDocumented(await del(adminKey, ids.admin!), 'DELETE', KEY_ID, 204);
    expect(await expectDocumented(await call('GET', KEY, as(adminKey, t.id)), 'GET', KEY, 401)).toEqual(UNAUTHORIZED);
    await expectDocumented(await del(t.owner.key, ids.owner!), 'DELETE', KEY_ID, 204);
    expect((await call('GET', `/api/organization/${t.id}`, as(ownerKey, t.id))).status).toBe(401);
  });

  it('answers 405 for DELETE /api/organization/api_key and POST /api/user/api_key, as upstream routes them', async () => {
    const t = await team('REST Key Routing');
    const del = await call('DELETE', KEY, as(t.owner.key, t.id));
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'POST, GET, HEAD']);
    const post = await call('POST', USER_KEY, as(t.owner.key), { name: 'x', role: 0 });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });
});

describe('GET and DELETE /api/user/api_key', () => {
  it("lists the caller's own keys (read keys too), and revokes them under the role rule", async () => {
    const person = await env.newUser({ role: 'owner' });
    const make = async (role: string) => {
      const { body } = await env.graphql('mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreatedApiKey { secret apiKey { id } } } }', { variables: { input: { name: role.toLowerCase(), role } }, headers: bearer(person.key) });
      return body.data.createApiKey as { secret: string; apiKey: { id: string } };
    };
    const read = await make('READ');
    const read2 = await make('READ');
    const admin = await make('ADMIN');
    const listed = await expectDocumented(await call('GET', USER_KEY, bearer(read.secret)), 'GET', USER_KEY, 200);
    expect(listed.map((k: { name: string }) => k.name)).toEqual(['default', 'read', 'read', 'admin']);
    expect(Object.keys(listed[0])).toEqual(RESP_KEYS);
    expect(listed[3]).toMatchObject({ id: admin.apiKey.id, organization_id: '00000000-0000-0000-0000-000000000000', role: 1, organization_ids: null, dataset_ids: null });
    // Upstream lets a read key delete its user's admin key; here it deletes only itself.
    expect(await expectDocumented(await call('DELETE', `${USER_KEY}/${admin.apiKey.id}`, bearer(read.secret)), 'DELETE', USER_KEY_ID, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await call('DELETE', `${USER_KEY}/${read2.apiKey.id}`, bearer(read.secret)), 'DELETE', USER_KEY_ID, 403)).toEqual(FORBIDDEN);
    await expectDocumented(await call('DELETE', `${USER_KEY}/${read.apiKey.id}`, bearer(read.secret)), 'DELETE', USER_KEY_ID, 204);
    await expectDocumented(await call('DELETE', `${USER_KEY}/${read2.apiKey.id}`, bearer(admin.secret)), 'DELETE', USER_KEY_ID, 204);
    // Someone else's key: 204 and nothing happens.
    const stranger = await env.newUser({ role: 'owner' });
    await expectDocumented(await call('DELETE', `${USER_KEY}/${admin.apiKey.id}`, bearer(stranger.key)), 'DELETE', USER_KEY_ID, 204);
    expect((await call('GET', USER_KEY, bearer(admin.secret))).status).toBe(200);
    expect((await expectDocumented(await call('GET', USER_KEY, bearer(person.key)), 'GET', USER_KEY, 200)).map((k: { name: string }) => k.name)).toEqual(['default', 'admin']);
    expect(await expectDocumented(await call('GET', USER_KEY, {}), 'GET', USER_KEY, 401)).toEqual(UNAUTHORIZED);
    expect(await expectDocumented(await call('DELETE', `${USER_KEY}/nope`, {}), 'DELETE', USER_KEY_ID, 401)).toEqual(UNAUTHORIZED);
    expect((await expectDocumented(await call('DELETE', `${USER_KEY}/nope`, bearer(person.key)), 'DELETE', USER_KEY_ID, 400)).message).toMatch(/^Path deserialize error: UUID parsing failed: /);
    // TR-Organization, when sent, is checked as everywhere.
    expect(await expectDocumented(await call('GET', USER_KEY, { ...bearer(person.key), 'tr-organization': 'nope' }), 'GET', USER_KEY, 400)).toEqual({ message: 'Could not convert Organization to UUID' });
  });

  it("never touches an organization's key through the user route", async () => {
    const t = await team('REST User Route');
    await makeOrgKey(t.owner.key, t.id, { name: 'org', role: 0 });
    const [row] = await env.sql<{ id: string }>('select id from api_keys where organization_id = ?', [t.id]);
    await expectDocumented(await call('DELETE', `${USER_KEY}/${row!.id}`, bearer(t.owner.key)), 'DELETE', USER_KEY_ID, 204);
    expect(await env.sql('select revoked_at from api_keys where id = ?', [row!.id])).toEqual([{ revoked_at: null }]);
  });
});

describe('through trieve-ts-sdk, as a legacy caller', () => {
  const loopback = serveOnLoopback(() => env);

  it('creates, lists and deletes organization keys, and lists and deletes user keys', async () => {
    const t = await team('SDK Keys');
    const sdk = new TrieveSDK({ apiKey: t.owner.key, baseUrl: loopback.url(), organizationId: t.id });
    const created = await sdk.createOrganizationApiKey({ name: 'sdk', role: 1 });
    expect(created.api_key).toMatch(/^tro_/);
    const viaKey = new TrieveSDK({ apiKey: created.api_key, baseUrl: loopback.url(), organizationId: t.id });
    expect(((await viaKey.getOrganizationById(t.id)) as unknown as { organization: { id: string } }).organization.id).toBe(t.id);
    const page = (await sdk.trieve.fetch('/api/organization/api_key', 'get', { organizationId: t.id } as never)) as unknown as { api_keys: Array<{ id: string; name: string }>; cursor: string };
    expect(page.api_keys.map((k) => k.name)).toEqual(['sdk']);
    await sdk.deleteOrganizationApiKey(page.api_keys[0]!.id);
    await expect(viaKey.getOrganizationById(t.id)).rejects.toThrow(/Unauthorized/);
    const mine = (await sdk.trieve.fetch('/api/user/api_key', 'get', {} as never)) as unknown as Array<{ id: string }>;
    expect(mine).toHaveLength(1);
    const spare = (await env.graphql('mutation { createApiKey(input: { name: "spare", role: READ }) { ... on CreatedApiKey { apiKey { id } } } }', { headers: bearer(t.owner.key) })).body.data.createApiKey.apiKey.id;
    await sdk.trieve.fetch('/api/user/api_key/{api_key_id}', 'delete', { apiKeyId: spare } as never);
    expect(((await sdk.trieve.fetch('/api/user/api_key', 'get', {} as never)) as unknown as unknown[]).length).toBe(1);
  });
});
