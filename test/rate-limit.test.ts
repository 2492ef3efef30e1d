// The per-user create limit (CREATE_LIMIT_PER_MINUTE, CREATE_LIMIT_BURST): a token bucket in PostgreSQL
// spent inside the create statement. Exact under concurrency, REST and GraphQL counted together,
// idempotent retries not counted, refused requests create and store nothing, refilled with time,
// and (PostgreSQL) exact across two server processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, CREATE_ORGANIZATION, createTestEnv, usingPostgres, type TestEnv } from './helpers.js';
import { postJson, sharedDatabase } from './processes.js';

const LIMIT = { perMinute: 60, burst: 5 };
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: LIMIT });
});
afterAll(async () => {
  await env?.close();
});

const rest = (key: string, name: string, idempotencyKey?: string) =>
  env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify({ name }),
  });
const graphql = (key: string, name: string, idempotencyKey?: string) =>
  env.graphql(idempotencyKey ? CREATE_ORGANIZATION.replace('input: { name: $name }', 'input: { name: $name, idempotencyKey: $key }').replace('($name: String!)', '($name: String!, $key: String)') : CREATE_ORGANIZATION, {
    variables: { name, key: idempotencyKey },
    headers: bearer(key),
  });
const count = async (prefix: string) => (await env.sql<{ n: number }>(`select count(*)::int as n from organizations where name like ?`, [`${prefix}%`]))[0]!.n;
const MESSAGE = /^Too Many Requests: at most 60 new organizations per minute per user \(5 at once\); try again in \d+ s$/;

it('allows exactly the burst to concurrent creates of one user, REST and GraphQL together; the rest are refused and create nothing', async () => {
  const { key } = await env.newUser();
  const answers = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      if (i % 2) {
        const r = await rest(key, `Burst ${i}`);
        return { via: 'rest', status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() };
      }
      const g = await graphql(key, `Burst ${i}`);
      return { via: 'graphql', status: g.status, retryAfter: g.response.headers.get('retry-after'), body: g.body };
    }),
  );
  const created = answers.filter((a) => a.status === 200 && (a.via === 'rest' || a.body.data?.createOrganization?.__typename === 'Organization'));
  const refused = answers.filter((a) => a.status === 429);
  expect(created).toHaveLength(5);
  expect(refused).toHaveLength(7);
  for (const a of refused) {
    expect(a.retryAfter).toMatch(/^[1-9]\d*$/);
    if (a.via === 'rest') expect(a.body).toEqual({ message: expect.stringMatching(MESSAGE) });
    else {
      expect(a.body.data?.createOrganization ?? null).toBeNull();
      expect(a.body.errors).toEqual([
        expect.objectContaining({ message: expect.stringMatching(MESSAGE), extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Number(a.retryAfter) } }),
      ]);
    }
  }
  expect(await count('Burst ')).toBe(5);
});

it('counts per user: another user is not affected', async () => {
  const first = await env.newUser();
  const second = await env.newUser();
  for (let i = 0; i < 5; i++) expect((await rest(first.key, `Per user ${i}`)).status).toBe(200);
  expect((await rest(first.key, 'Per user refused')).status).toBe(429);
  expect((await rest(second.key, 'Per user other')).status).toBe(200);
});

it('does not count an idempotent retry, and a refused create leaves its idempotency key free', async () => {
  const { key } = await env.newUser();
  const original = await rest(key, 'Retry A', 'retry-a');
  const originalBody = await original.json();
  expect(original.status).toBe(200);
  // Ten retries of the same create: the same organization every time, no token spent.
  for (let i = 0; i < 10; i++) {
    const again = await rest(key, 'Retry A', 'retry-a');
    expect([again.status, await again.json()]).toEqual([200, originalBody]);
    const viaGraphql = await graphql(key, 'Retry A', 'retry-a');
    expect(viaGraphql.body.data.createOrganization.id).toBe(originalBody.id);
  }
  for (let i = 0; i < 4; i++) expect((await rest(key, `Retry other ${i}`)).status).toBe(200);
  const refused = await rest(key, 'Retry B', 'retry-b');
  expect(refused.status).toBe(429);
  expect(await env.sql(`select key from idempotency_keys where key = 'retry-b'`)).toEqual([]);
  expect(await count('Retry B')).toBe(0);
  // The retry of a create that happened still answers while the user is limited.
  expect((await rest(key, 'Retry A', 'retry-a')).status).toBe(200);
});

it('does not count a create refused for a taken name', async () => {
  const { key } = await env.newUser();
  expect((await rest(key, 'Taken once')).status).toBe(200);
  for (let i = 0; i < 8; i++) expect((await rest(key, 'Taken once')).status).toBe(400);
  for (let i = 0; i < 4; i++) expect((await rest(key, `Taken other ${i}`)).status).toBe(200);
  expect((await rest(key, 'Taken last')).status).toBe(429);
});

it('refills with time: after Retry-After the next create goes through', async () => {
  const { key } = await env.newUser();
  for (let i = 0; i < 5; i++) expect((await rest(key, `Refill ${i}`)).status).toBe(200);
  const refused = await rest(key, 'Refill late');
  expect(refused.status).toBe(429);
  const wait = Number(refused.headers.get('retry-after'));
  expect(wait).toBe(1); // 60 a minute: one token a second
  await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 50));
  expect((await rest(key, 'Refill late')).status).toBe(200);
  expect((await rest(key, 'Refill later')).status).toBe(429);
});

describe.runIf(usingPostgres)('(PostgreSQL only) across instances', () => {
  const shared = sharedDatabase('limited@example.com');

  it('two instances together allow the burst once, not once each', async () => {
    const servers = [await shared.start({ CREATE_LIMIT_PER_MINUTE: '60', CREATE_LIMIT_BURST: '10' }), await shared.start({ CREATE_LIMIT_PER_MINUTE: '60', CREATE_LIMIT_BURST: '10' })];
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => postJson(servers[i % 2]!.url, '/api/organization', { authorization: `Bearer ${shared.key}` }, { name: `Shared ${i}` })),
    );
    const statuses = outcomes.map((o) => ('status' in o ? o.status : JSON.stringify(o)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    expect(await shared.sql(`select count(*)::int as n from organizations where name like 'Shared %'`)).toEqual([{ n: 10 }]);
  });
});
