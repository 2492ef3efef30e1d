// Idempotent retries: Idempotency-Key (REST) and idempotencyKey (GraphQL), decided by a constraint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContractResponse } from './contract.js';
import { bearer, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

const rest = (key: string, idempotencyKey: string | undefined, body: unknown) =>
  env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  });

const CREATE = `mutation ($input: CreateOrganizationInput!) {
  createOrganization(input: $input) {
    __typename
    ... on Organization { id name createdAt }
    ... on ValidationError { field message }
    ... on OrganizationNameTakenError { message }
  }
}`;

async function count(name: string): Promise<number> {
  const [row] = await env.sql<{ n: string }>('select count(*) as n from organizations where name = ?', [name]);
  return Number(row!.n);
}

describe('REST Idempotency-Key', () => {
  it('answers a retry with the original response and creates nothing more', async () => {
    const { key } = await env.newUser();
    const first = await expectContractResponse(await rest(key, 'retry-1', { name: 'Idempotent REST' }), 200);
    const second = await expectContractResponse(await rest(key, 'retry-1', { name: 'Idempotent REST' }), 200);
    expect(second).toEqual(first);
    expect(await count('Idempotent REST')).toBe(1);
  });

  it('refuses the same key with a different body with 422, creating nothing', async () => {
    const { key } = await env.newUser();
    await expectContractResponse(await rest(key, 'retry-2', { name: 'First Body' }), 200);
    const reused = await expectContractResponse(await rest(key, 'retry-2', { name: 'Second Body' }), 422);
    expect(reused).toEqual({ message: 'This idempotency key was already used with a different request' });
    expect(await count('Second Body')).toBe(0);
  });

  it('keeps keys per user', async () => {
    const a = await env.newUser();
    const b = await env.newUser();
    await expectContractResponse(await rest(a.key, 'shared-key', { name: 'User A org' }), 200);
    await expectContractResponse(await rest(b.key, 'shared-key', { name: 'User B org' }), 200);
  });

  it('answers a retry of a refused request the same way, and lets it succeed once the cause is gone', async () => {
    const a = await env.newUser();
    const b = await env.newUser();
    await expectContractResponse(await rest(a.key, undefined, { name: 'Contested Name' }), 200);
    const refused = await expectContractResponse(await rest(b.key, 'retry-3', { name: 'Contested Name' }), 400);
    expect(await expectContractResponse(await rest(b.key, 'retry-3', { name: 'Contested Name' }), 400)).toEqual(refused);
    // Nothing was remembered for the refused request, so the key is free for a corrected one.
    await expectContractResponse(await rest(b.key, 'retry-3', { name: 'Uncontested Name' }), 200);
  });

  it('refuses a malformed key with 422', async () => {
    const { key } = await env.newUser();
    for (const bad of ['has space', 'x'.repeat(256)]) {
      const response = await rest(key, bad, { name: `bad key ${bad.length}` });
      expect(await expectContractResponse(response, 422)).toEqual({ message: 'Idempotency key must be 1 to 255 printable ASCII characters without spaces' });
    }
    expect(await count('bad key 9')).toBe(0);
  });

  it('takes over a key older than 24 hours', async () => {
    const { key, userId } = await env.newUser();
    await expectContractResponse(await rest(key, 'old-key', { name: 'Yesterday' }), 200);
    await env.sql(`update idempotency_keys set created_at = now() - interval '25 hours' where user_id = ?`, [userId]);
    const today = await expectContractResponse(await rest(key, 'old-key', { name: 'Today' }), 200);
    expect(today.name).toBe('Today');
  });

  it('creates one organization when concurrent retries race', async () => {
    const { key, userId } = await env.newUser();
    const responses = await Promise.all(Array.from({ length: 12 }, () => rest(key, 'race-key', { name: 'Raced Retry' })));
    const bodies = await Promise.all(responses.map((r) => expectContractResponse(r, 200)));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await count('Raced Retry')).toBe(1);
    expect(await env.sql('select count(*)::int as n from user_organizations where user_id = ?', [userId])).toEqual([{ n: 1 }]);
  });
});

describe('GraphQL idempotencyKey', () => {
  it('returns the original organization on retry and a ValidationError for another input', async () => {
    const { key } = await env.newUser();
    const run = (name: string) => env.graphql(CREATE, { variables: { input: { name, idempotencyKey: 'gql-key' } }, headers: bearer(key) });
    const first = (await run('Idempotent GraphQL')).body.data.createOrganization;
    const again = (await run('Idempotent GraphQL')).body.data.createOrganization;
    expect(again).toEqual(first);
    expect((await run('Something Else')).body.data.createOrganization).toEqual({
      __typename: 'ValidationError',
      field: 'idempotencyKey',
      message: 'This idempotency key was already used with a different request',
    });
    expect(await count('Idempotent GraphQL')).toBe(1);
    expect(await count('Something Else')).toBe(0);
  });

  it('shares keys with REST for the same user', async () => {
    const { key } = await env.newUser();
    const viaRest = await expectContractResponse(await rest(key, 'cross-key', { name: 'Cross API' }), 200);
    const viaGraphQL = (await env.graphql(CREATE, { variables: { input: { name: 'Cross API', idempotencyKey: 'cross-key' } }, headers: bearer(key) })).body.data.createOrganization;
    expect(viaGraphQL).toMatchObject({ __typename: 'Organization', id: viaRest.id, createdAt: viaRest.created_at });
  });
});
