// A GraphQL error the REST table has no answer for: 0.2.0 answered 500 and logged nothing. The
// domain's organizationAccess is replaced here (this file only) by one that fails with a chosen code,
// so the REST route that asks it (TR-Organization) meets errors no real path produces yet.
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, createTestEnv, type TestEnv } from './helpers.js';

vi.mock('../src/organizations/organizations.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/organizations/organizations.js')>()),
  organizationAccess: async (_em: unknown, _userId: unknown, id: string) => {
    throw new GraphQLError(`refused ${id}`, { extensions: { code: id.endsWith('1') ? 'BAD_USER_INPUT' : 'SOMETHING_NEW' } });
  },
}));

let env: TestEnv;
let key: string;
beforeAll(async () => {
  env = await createTestEnv();
  key = (await env.newUser()).key;
});
afterAll(async () => env?.close());

const post = (organization: string, requestId: string) =>
  env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'tr-organization': organization, 'x-request-id': requestId, ...bearer(key) },
    body: '{"name":"never"}',
  });

describe('REST and GraphQL errors without a contract answer', () => {
  it("BAD_USER_INPUT is the caller's 400, with the error's message, and not logged as ours", async () => {
    const response = await post('00000000-0000-4000-8000-000000000001', 'bad-input-1');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: 'refused 00000000-0000-4000-8000-000000000001' });
    expect(env.logLines.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('any other code is a 500 without internals, logged with the request id and the codes', async () => {
    const response = await post('00000000-0000-4000-8000-000000000002', 'unmapped-2');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
    const logged = env.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
    expect(logged).toEqual([
      expect.objectContaining({
        requestId: 'unmapped-2',
        msg: 'REST adapter: GraphQL errors without a contract answer',
        err: expect.objectContaining({ type: 'UnmappedErrors', operation: 'RestCallerInOrganization', codes: ['SOMETHING_NEW'] }),
      }),
    ]);
    expect(await env.sql(`select 1 from organizations where name = 'never'`)).toEqual([]);
  });
});
