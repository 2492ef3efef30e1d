// Upstream's other organization routes (contract-notes-organization §1-5, with the differences of §8):
// exact statuses, messages and shapes, every answer checked against /api/openapi.json, a member of
// another organization trying each route, and the published trieve-ts-sdk as a legacy caller.
import { TrieveSDK } from 'trieve-ts-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented, ORGANIZATION_KEYS } from './contract.js';
import { bearer, createTestEnv, makeTeam, serveOnLoopback, type Person, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null });
});
afterAll(async () => env?.close());


async function createOrg(person: Person, name: string): Promise<string> {
  const response = await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(person.key) }, body: JSON.stringify({ name }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const team = (name: string) => makeTeam(env, name);

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  env.request(path, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body });
const as = (person: Person, organizationId?: string) => ({ ...bearer(person.key), ...(organizationId ? { 'tr-organization': organizationId } : {}) });

const PATH_ERROR = 'Path deserialize error: UUID parsing failed: ';
const FORBIDDEN = { message: 'Forbidden' };
const UNAUTHORIZED = { message: 'Unauthorized' };
const NOT_FOUND = { message: 'Not Found: Organization not found' };

describe('GET /api/organization/{organization_id}', () => {
  const T = '/api/organization/{organization_id}';

  it('answers admins and owners with the organization (completed partner configuration) and the free plan', async () => {
    const t = await team('Get Me');
    for (const who of [t.owner, t.admin]) {
      const body = await expectDocumented(await call('GET', `/api/organization/${t.id}`, as(who, t.id)), 'GET', T, 200);
      expect(Object.keys(body)).toEqual(['organization', 'plan', 'subscription']);
      expect(Object.keys(body.organization)).toEqual(ORGANIZATION_KEYS);
      expect(body.organization).toMatchObject({ id: t.id, name: 'Get Me', deleted: 0, registerable: true });
      expect(Object.keys(body.organization.partner_configuration)).toEqual(['CALENDAR_LINK', 'COMPANY_NAME', 'COMPANY_URL', 'DEMO_DOMAIN', 'EMAIL', 'FAVICON_URL', 'LINKEDIN_LINK', 'PHONE', 'SLACK_LINK']);
      expect(body.organization.partner_configuration.COMPANY_NAME).toBe('Trieve');
      expect(body.plan).toMatchObject({ type: 'flat', id: '00000000-0000-0000-0000-000000000000', name: 'Free', user_count: 5 });
      expect(body.subscription).toBeNull();
    }
  });

  it('refuses in upstream order: path 400, no key or no TR-Organization 401, a user 403, another organization 403, a deleted one 404', async () => {
    const t = await team('Get Rules');
    const other = await team('Get Other');
    const cases: Array<[string, Record<string, string>, number, unknown]> = [
      ['/api/organization/not-a-uuid', as(t.admin, t.id), 400, { message: `${PATH_ERROR}invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`n\` at 1` }],
      [`/api/organization/${t.id.slice(0, 30)}`, as(t.admin, t.id), 400, { message: `${PATH_ERROR}invalid group length in group 4: expected 12, found 6` }],
      ['/api/organization/abcdef', as(t.admin, t.id), 400, { message: `${PATH_ERROR}invalid length: expected length 32 for simple format, found 6` }],
      [`/api/organization/${t.id}`, bearer(t.admin.key), 401, UNAUTHORIZED],
      [`/api/organization/${t.id}`, { 'tr-organization': t.id }, 401, UNAUTHORIZED],
      [`/api/organization/${t.id}`, as(t.user, t.id), 403, FORBIDDEN],
      // A member (owner) of another organization, naming theirs in TR-Organization and ours in the path.
      [`/api/organization/${t.id}`, as(other.owner, other.id), 403, FORBIDDEN],
      [`/api/organization/${t.id}`, as(other.owner, t.id), 403, FORBIDDEN],
    ];
    for (const [path, headers, status, body] of cases) {
      expect(await expectDocumented(await call('GET', path, headers), 'GET', '/api/organization/{organization_id}', status), `${path} ${JSON.stringify(headers)}`).toEqual(body);
    }
    await env.graphql('mutation ($id: ID!) { deleteOrganization(id: $id) { __typename } }', { variables: { id: t.id }, headers: bearer(t.owner.key) });
    expect(await expectDocumented(await call('GET', `/api/organization/${t.id}`, as(t.owner, t.id)), 'GET', T, 404)).toEqual(NOT_FOUND);
  });
});

describe('PUT /api/organization', () => {
  const put = (headers: Record<string, string>, body: string) => call('PUT', '/api/organization', headers, body);

  it('renames and replaces the partner configuration of the TR-Organization organization (owners): the raw row', async () => {
    const t = await team('Put Me');
    const renamed = await expectDocumented(await put(as(t.owner, t.id), '{"name":"Put Me Renamed"}'), 'PUT', '/api/organization', 200);
    expect(Object.keys(renamed)).toEqual(ORGANIZATION_KEYS);
    expect(renamed).toMatchObject({ id: t.id, name: 'Put Me Renamed', partner_configuration: {} });
    expect(Date.parse(renamed.updated_at)).toBeGreaterThan(Date.parse(renamed.created_at));
    const configured = await expectDocumented(await put(as(t.owner, t.id), '{"partner_configuration":{"b":1,"a":{"z":1,"y":2}},"name":null}'), 'PUT', '/api/organization', 200);
    expect(JSON.stringify(configured.partner_configuration)).toBe('{"a":{"y":2,"z":1},"b":1}');
    expect(configured.name).toBe('Put Me Renamed');
  });

  it("answers the create's name rules and uniqueness, and serde's errors for the body", async () => {
    const t = await team('Put Rules');
    await createOrg(t.owner, 'Put Taken');
    const cases: Array<[string, unknown]> = [
      ['{"name":"Put Taken"}', { message: 'An organization named "Put Taken" already exists' }],
      ['{"name":"a\\u0000b"}', { message: 'Organization name must not contain control characters' }],
      ['{"name":5}', { message: expect.stringContaining('invalid type: integer `5`, expected a string at line 1 column 9') }],
      ['{"partner_configuration":5}', { message: expect.stringContaining('*Type* : Data error in JSON | *Message* : Json deserialize error: invalid type: integer `5`, expected a map at line 1 column 26') }],
      ['{"name":"x","name":"y"}', { message: expect.stringContaining('duplicate field `name` at line 1 column 18') }],
      ['{"name":', { message: expect.stringContaining('Unexpected end of JSON input') }],
    ];
    for (const [body, expected] of cases) expect(await expectDocumented(await put(as(t.owner, t.id), body), 'PUT', '/api/organization', 400), body).toEqual(expected);
    expect(await env.sql('select name from organizations where id = ?', [t.id])).toEqual([{ name: 'Put Rules' }]);
  });

  it('refuses in upstream order: content type, TR-Organization (401), credentials, owners only, before the body', async () => {
    const t = await team('Put Order');
    const other = await team('Put Other');
    const cases: Array<[Record<string, string>, string, number, unknown]> = [
      [{ ...as(t.user, t.id), 'content-type': 'text/plain' }, '{"name":"x"}', 400, { message: expect.stringContaining('Content type header error') }],
      [bearer(t.owner.key), '{"name":"x"}', 401, UNAUTHORIZED],
      [{ 'tr-organization': t.id }, '{"name":"x"}', 401, UNAUTHORIZED],
      [as(t.admin, t.id), '{"name":"x"}', 403, FORBIDDEN],
      [as(t.user, t.id), 'not json at all', 403, FORBIDDEN],
      [as(other.owner, t.id), '{"name":"x"}', 403, FORBIDDEN],
    ];
    for (const [headers, body, status, expected] of cases) {
      expect(await expectDocumented(await call('PUT', '/api/organization', { 'content-type': 'application/json', ...headers }, body), 'PUT', '/api/organization', status), JSON.stringify(headers)).toEqual(expected);
    }
    expect(await env.sql('select name from organizations where id = ?', [t.id])).toEqual([{ name: 'Put Order' }]);
  });
});

describe('DELETE /api/organization/{organization_id}', () => {
  const T = '/api/organization/{organization_id}';

  it('soft-deletes (owners, 204); then the organization answers 404 everywhere and its name is free', async () => {
    const t = await team('Delete Me');
    await expectDocumented(await call('DELETE', `/api/organization/${t.id}`, as(t.owner, t.id)), 'DELETE', T, 204);
    expect(await expectDocumented(await call('DELETE', `/api/organization/${t.id}`, as(t.owner, t.id)), 'DELETE', T, 404)).toEqual(NOT_FOUND);
    expect(await expectDocumented(await call('GET', `/api/organization/${t.id}`, as(t.admin, t.id)), 'GET', T, 404)).toEqual(NOT_FOUND);
    expect(await createOrg(t.user, 'Delete Me')).not.toBe(t.id);
  });

  it('is refused to admins, users and an owner of another organization (upstream lets the latter delete it)', async () => {
    const t = await team('Keep Me');
    const other = await team('Delete Other');
    const cases: Array<[Record<string, string>, number, unknown]> = [
      [as(t.admin, t.id), 403, FORBIDDEN],
      [as(t.user, t.id), 403, FORBIDDEN],
      [as(other.owner, other.id), 403, FORBIDDEN],
      [bearer(t.owner.key), 401, UNAUTHORIZED],
    ];
    for (const [headers, status, body] of cases) expect(await expectDocumented(await call('DELETE', `/api/organization/${t.id}`, headers), 'DELETE', T, status)).toEqual(body);
    expect(await env.sql('select deleted from organizations where id = ?', [t.id])).toEqual([{ deleted: 0 }]);
  });
});

describe('GET /api/organization/users/{organization_id}', () => {
  const T = '/api/organization/users/{organization_id}';

  it("lists every member with their membership and the organization, in joining order (admins and owners)", async () => {
    const t = await team('Users Co');
    const users = await expectDocumented(await call('GET', `/api/organization/users/${t.id}`, as(t.admin, t.id)), 'GET', T, 200);
    expect(users.map((u: { email: string; user_orgs: Array<{ role: number }> }) => [u.email, u.user_orgs[0]!.role])).toEqual([
      [t.owner.email, 2],
      [t.admin.email, 1],
      [t.user.email, 0],
    ]);
    expect(Object.keys(users[0])).toEqual(['id', 'name', 'email', 'created_at', 'user_orgs', 'orgs']);
    expect(users[0].user_orgs[0]).toEqual({ id: expect.any(String), user_id: t.owner.userId, organization_id: t.id, role: 2, created_at: expect.stringMatching(/Z$/), updated_at: expect.stringMatching(/Z$/), scopes: null });
    expect(users[0].orgs).toEqual([expect.objectContaining({ id: t.id, name: 'Users Co' })]);
  });

  it('is refused to users and to a member of another organization', async () => {
    const t = await team('Users Private');
    const other = await team('Users Other');
    for (const [headers, status] of [[as(t.user, t.id), 403], [as(other.admin, other.id), 403], [as(other.admin, t.id), 403]] as const) {
      expect(await expectDocumented(await call('GET', `/api/organization/users/${t.id}`, headers), 'GET', T, status)).toEqual(FORBIDDEN);
    }
  });
});

describe('DELETE /api/organization/{organization_id}/user/{user_id}', () => {
  const T = '/api/organization/{organization_id}/user/{user_id}';
  const del = (org: string, user: string, headers: Record<string, string>) => call('DELETE', `/api/organization/${org}/user/${user}`, headers);

  it('removes (204): admins users and admins, owners anyone; the last owner stays; a non-member target is 400', async () => {
    const t = await team('Remove Co');
    const outsider = await env.newUser();
    expect(await expectDocumented(await del(t.id, t.owner.userId, as(t.admin, t.id)), 'DELETE', T, 403)).toEqual(FORBIDDEN);
    expect(await expectDocumented(await del(t.id, outsider.userId, as(t.admin, t.id)), 'DELETE', T, 400)).toEqual({ message: 'Error loading user role' });
    await expectDocumented(await del(t.id, t.user.userId, as(t.admin, t.id)), 'DELETE', T, 204);
    await expectDocumented(await del(t.id, t.admin.userId, as(t.owner, t.id)), 'DELETE', T, 204);
    expect(await expectDocumented(await del(t.id, t.owner.userId, as(t.owner, t.id)), 'DELETE', T, 400)).toEqual({ message: 'Cannot remove the last owner of the organization' });
    expect(await env.sql('select user_id from user_organizations where organization_id = ?', [t.id])).toEqual([{ user_id: t.owner.userId }]);
  });

  it('checks the path: both ids UUIDs (400), the organization the TR-Organization one (403), then the role', async () => {
    const t = await team('Remove Rules');
    const other = await team('Remove Other');
    const cases: Array<[string, string, Record<string, string>, number, unknown]> = [
      ['abcd', t.user.userId, as(t.admin, t.id), 400, { message: `${PATH_ERROR}invalid length: expected length 32 for simple format, found 4` }],
      [t.id, '{abc-1}', as(t.admin, t.id), 400, { message: `${PATH_ERROR}invalid group count: expected 5, found 2` }],
      [t.id, t.user.userId, bearer(t.admin.key), 401, UNAUTHORIZED],
      [t.id, t.user.userId, as(t.user, t.id), 403, FORBIDDEN],
      [t.id, t.user.userId, as(other.owner, other.id), 403, FORBIDDEN],
      [other.id, other.user.userId, as(t.owner, t.id), 403, FORBIDDEN],
    ];
    for (const [org, user, headers, status, body] of cases) expect(await expectDocumented(await del(org, user, headers), 'DELETE', T, status)).toEqual(body);
    expect(await env.sql('select count(*)::int as n from user_organizations where organization_id in (?, ?)', [t.id, other.id])).toEqual([{ n: 6 }]);
  });
});

describe('trieve-ts-sdk, as a legacy caller', () => {
  const loopback = serveOnLoopback(() => env);

  it('reads, renames, lists users, removes one, deletes and re-creates under the freed name', async () => {
    const t = await team('SDK Lifecycle');
    const sdk = new TrieveSDK({ apiKey: t.owner.key, baseUrl: loopback.url(), organizationId: t.id });
    const got = (await sdk.getOrganizationById(t.id)) as unknown as { organization: { name: string } };
    expect(got.organization.name).toBe('SDK Lifecycle');
    const renamed = (await sdk.trieve.fetch('/api/organization', 'put', { data: { name: 'SDK Renamed' }, organizationId: t.id } as never)) as { name: string };
    expect(renamed.name).toBe('SDK Renamed');
    const users = (await sdk.trieve.fetch('/api/organization/users/{organization_id}', 'get', { organizationId: t.id } as never)) as unknown[];
    expect(users).toHaveLength(3);
    await sdk.trieve.fetch('/api/organization/{organization_id}/user/{user_id}', 'delete', { organizationId: t.id, userId: t.user.userId } as never);
    await sdk.trieve.fetch('/api/organization/{organization_id}', 'delete', { organizationId: t.id } as never);
    await expect(sdk.getOrganizationById(t.id)).rejects.toThrow(/Organization not found/);
    const again = new TrieveSDK({ apiKey: t.admin.key, baseUrl: loopback.url() });
    const created = (await again.trieve.fetch('/api/organization', 'post', { data: { name: 'SDK Lifecycle' } })) as { name: string };
    expect(created.name).toBe('SDK Lifecycle');
  });
});
