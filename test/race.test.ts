import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

it('lets exactly one of 20 concurrent creates of one name succeed, decided by the database', async () => {
  const users = await Promise.all(Array.from({ length: 20 }, () => env.newUser()));
  const results = await Promise.all(
    users.map((u) => env.graphql(CREATE_ORGANIZATION, { variables: { name: 'Contended' }, headers: bearer(u.key) })),
  );
  expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
  const kinds = results.map((r) => r.body.data.createOrganization.__typename);
  expect(kinds.filter((k) => k === 'Organization')).toHaveLength(1);
  expect(kinds.filter((k) => k === 'OrganizationNameTakenError')).toHaveLength(19);

  const winner = results.find((r) => r.body.data.createOrganization.__typename === 'Organization')!.body.data.createOrganization;
  expect(await env.sql(`select id from organizations where name = 'Contended'`)).toEqual([{ id: winner.id }]);
  const memberships = await env.sql<{ organization_id: string; role: number }>('select organization_id, role from user_organizations');
  expect(memberships).toEqual([{ organization_id: winner.id, role: 2 }]);
});

it('creates 20 concurrent distinct organizations, each with exactly one owner', async () => {
  const users = await Promise.all(Array.from({ length: 20 }, () => env.newUser()));
  const results = await Promise.all(
    users.map((u, i) => env.graphql(CREATE_ORGANIZATION, { variables: { name: `Parallel ${i}` }, headers: bearer(u.key) })),
  );
  expect(results.every((r) => r.body.data.createOrganization.__typename === 'Organization')).toBe(true);
  const rows = await env.sql<{ n: string }>(
    `select count(*) as n from organizations o join user_organizations m on m.organization_id = o.id and m.role = 2 where o.name like 'Parallel %'`,
  );
  expect(Number(rows[0]!.n)).toBe(20);
});
