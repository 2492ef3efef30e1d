// REST and GraphQL are two views of one thing: the same ids, names and instants either way round.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

const ORGANIZATION = 'query ($id: ID!) { organization(id: $id) { id name createdAt updatedAt registerable deleted partnerConfiguration } }';

async function restCreate(key: string, name: string) {
  const response = await env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ name }),
  });
  expect(response.status).toBe(200);
  return response.json() as Promise<Record<string, any>>;
}

it('an organization created over REST is the same one GraphQL returns', async () => {
  const { key } = await env.newUser();
  const rest = await restCreate(key, 'Created Over REST 🚀');
  const { body } = await env.graphql(ORGANIZATION, { variables: { id: rest.id }, headers: bearer(key) });
  expect(body.data.organization).toEqual({
    id: rest.id,
    name: rest.name,
    createdAt: rest.created_at,
    updatedAt: rest.updated_at,
    registerable: rest.registerable,
    deleted: rest.deleted,
    partnerConfiguration: rest.partner_configuration,
  });
  const viewer = await env.graphql('{ viewer { organizations { edges { node { id name createdAt } } } } }', { headers: bearer(key) });
  expect(viewer.body.data.viewer.organizations.edges).toEqual([{ node: { id: rest.id, name: rest.name, createdAt: rest.created_at } }]);
});

it('an organization created over GraphQL is the same one REST reports, and its name is taken for REST', async () => {
  const { key } = await env.newUser();
  const gql = (await env.graphql(CREATE_ORGANIZATION, { variables: { name: 'Created Over GraphQL' }, headers: bearer(key) })).body.data.createOrganization;
  // The stored instant, read straight from the database, is the one both APIs print.
  const [row] = await env.sql<{ created_at: Date }>('select created_at from organizations where id = ?', [gql.id]);
  expect(new Date(row!.created_at).toISOString()).toBe(gql.createdAt);

  const duplicate = await env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ name: 'Created Over GraphQL' }),
  });
  expect(duplicate.status).toBe(400);
  expect(await duplicate.json()).toEqual({ message: 'An organization named "Created Over GraphQL" already exists' });

  const member = await env.request('/api/organization', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key), 'tr-organization': gql.id },
    body: JSON.stringify({ name: 'Child of GraphQL org' }),
  });
  expect(member.status).toBe(200);
});
