// An organization after its creation, over GraphQL: rename, delete (its name free again), members,
// add and remove, the role table, and a member of another organization trying every one of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null });
});
afterAll(async () => env?.close());

type Person = { key: string; userId: string; email: string };

const owner = () => env.newUser({ role: 'owner' });

async function gql(person: Person | undefined, query: string, variables: Record<string, unknown> = {}) {
  const { body } = await env.graphql(query, { variables, headers: person ? bearer(person.key) : {} });
  return body;
}

async function createOrg(person: Person, name: string): Promise<string> {
  const body = await gql(person, CREATE_ORGANIZATION, { name });
  expect(body.data.createOrganization.__typename).toBe('Organization');
  return body.data.createOrganization.id;
}

const UPDATE = `mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) {
  __typename ... on Organization { id name updatedAt partnerConfiguration } ... on Error { message } ... on ValidationError { field } ... on NotFoundError { resource } } }`;
const DELETE = `mutation ($id: ID!) { deleteOrganization(id: $id) { __typename ... on Organization { id name deleted } ... on Error { message } } }`;
const ADD = `mutation ($input: AddMemberInput!) { addMember(input: $input) {
  __typename ... on Membership { id role user { id email } } ... on Error { message } ... on NotFoundError { resource } } }`;
const REMOVE = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) {
  __typename ... on Membership { role user { id } } ... on Error { message } ... on NotFoundError { resource } } }`;
const ORGANIZATION = `query ($id: ID!) { organization(id: $id) { id name viewerRole members { totalCount edges { node { role user { id email } } } } } }`;

const update = (p: Person, input: Record<string, unknown>) => gql(p, UPDATE, { input }).then((b) => b.data?.updateOrganization ?? b);
const remove = (p: Person, organizationId: string, userId: string) => gql(p, REMOVE, { input: { organizationId, userId } }).then((b) => b.data?.removeMember ?? b);
const add = (p: Person, organizationId: string, email: string, role: string) => gql(p, ADD, { input: { organizationId, email, role } }).then((b) => b.data?.addMember ?? b);

/** An organization with an owner, an admin and a user (each with an owner-role key, so only membership roles count). */
async function team(name: string) {
  const [o, a, u] = [await owner(), await owner(), await owner()];
  const id = await createOrg(o, name);
  expect(await add(o, id, a.email, 'ADMIN')).toMatchObject({ __typename: 'Membership', role: 'ADMIN' });
  expect(await add(o, id, u.email, 'USER')).toMatchObject({ __typename: 'Membership', role: 'USER' });
  return { id, owner: o, admin: a, user: u };
}

describe('updateOrganization', () => {
  it("renames (owners), frees the old name, keeps what is omitted, and follows the create's rules", async () => {
    const o = await owner();
    const id = await createOrg(o, 'Acme Inc');
    const renamed = await update(o, { id, name: 'Acme, Inc.' });
    expect(renamed).toMatchObject({ __typename: 'Organization', id, name: 'Acme, Inc.', partnerConfiguration: {} });
    await createOrg(o, 'Acme Inc'); // the typo's name is free again
    expect(await update(o, { id, partnerConfiguration: { COMPANY_NAME: 'Acme' } })).toMatchObject({ name: 'Acme, Inc.', partnerConfiguration: { COMPANY_NAME: 'Acme' } });
    expect(await update(o, { id, name: 'Acme Inc' })).toEqual({ __typename: 'OrganizationNameTakenError', message: 'An organization named "Acme Inc" already exists' });
    expect(await update(o, { id, name: ' ' })).toMatchObject({ __typename: 'ValidationError', field: 'name', message: 'Organization name must not be empty or only white space' });
    expect(await update(o, { id, partnerConfiguration: [1] })).toMatchObject({ __typename: 'ValidationError', field: 'partnerConfiguration' });
    expect((await gql(o, ORGANIZATION, { id })).data.organization.name).toBe('Acme, Inc.');
  });

  it('is refused to admins, users, read keys of owners, members of another organization and anonymous callers', async () => {
    const t = await team('Update rules');
    for (const who of [t.admin, t.user]) expect(await update(who, { id: t.id, name: 'Hijacked' })).toMatchObject({ __typename: 'NotAllowedError', message: 'Only owners may change an organization' });
    // The owner's read key acts as a user (a key's role caps the membership's).
    const readKey = await env.newUser({ email: t.owner.email, role: 'read' });
    expect(await update(readKey, { id: t.id, name: 'Hijacked' })).toMatchObject({ __typename: 'NotAllowedError' });
    const stranger = await team('Update stranger');
    expect(await update(stranger.owner, { id: t.id, name: 'Hijacked' })).toMatchObject({ __typename: 'NotFoundError', resource: 'organization' });
    expect(await update(stranger.owner, { id: 'not-a-uuid', name: 'x' })).toMatchObject({ __typename: 'NotFoundError' });
    expect((await gql(undefined, UPDATE, { input: { id: t.id, name: 'x' } })).errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(await env.sql('select name from organizations where id = ?', [t.id])).toEqual([{ name: 'Update rules' }]);
  });
});

describe('deleteOrganization', () => {
  it('soft-deletes (owners): gone from every query at once, members lose access, the name is free again', async () => {
    const t = await team('Doomed Org');
    const before = (await gql(t.user, '{ viewer { organizations { totalCount } } }')).data.viewer.organizations.totalCount;
    expect(await gql(t.owner, DELETE, { id: t.id })).toEqual({ data: { deleteOrganization: { __typename: 'Organization', id: t.id, name: 'Doomed Org', deleted: 1 } } });
    for (const who of [t.owner, t.admin, t.user]) expect((await gql(who, ORGANIZATION, { id: t.id })).data.organization).toBeNull();
    expect((await gql(t.user, '{ viewer { organizations { totalCount } } }')).data.viewer.organizations.totalCount).toBe(before - 1);
    expect((await gql(t.owner, `query ($id: ID!) { organizationAccess(id: $id) }`, { id: t.id })).data.organizationAccess).toBe('NOT_FOUND');
    expect(await env.sql('select deleted from organizations where id = ?', [t.id])).toEqual([{ deleted: 1 }]);
    const again = await createOrg(t.admin, 'Doomed Org');
    expect(again).not.toBe(t.id);
    expect((await gql(t.owner, DELETE, { id: t.id })).data.deleteOrganization).toMatchObject({ __typename: 'NotFoundError' });
    expect(await update(t.owner, { id: t.id, name: 'Back' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await add(t.owner, t.id, t.admin.email, 'USER')).toMatchObject({ __typename: 'NotFoundError' });
  });

  it('is refused to admins, users and members of another organization', async () => {
    const t = await team('Undeletable');
    const stranger = await team('Deleter elsewhere');
    for (const [who, typename] of [[t.admin, 'NotAllowedError'], [t.user, 'NotAllowedError'], [stranger.owner, 'NotFoundError']] as const) {
      expect((await gql(who, DELETE, { id: t.id })).data.deleteOrganization.__typename).toBe(typename);
    }
    expect(await env.sql('select deleted from organizations where id = ?', [t.id])).toEqual([{ deleted: 0 }]);
  });

  it('an idempotent retry of the create of a deleted organization does not bring it back', async () => {
    const o = await owner();
    const first = await gql(o, `mutation { createOrganization(input: { name: "Retried", idempotencyKey: "retry-after-delete" }) { ... on Organization { id } } }`);
    await gql(o, DELETE, { id: first.data.createOrganization.id });
    const retry = await gql(o, `mutation { createOrganization(input: { name: "Retried", idempotencyKey: "retry-after-delete" }) { __typename ... on ValidationError { message } } }`);
    expect(retry.data.createOrganization).toEqual({ __typename: 'ValidationError', message: 'The organization created with this idempotency key no longer exists' });
  });
});

describe('members', () => {
  it('are a connection visible to members: user id, e-mail, role, in joining order, with totalCount', async () => {
    const t = await team('Members Co');
    const { organization } = (await gql(t.user, ORGANIZATION, { id: t.id })).data;
    expect(organization.viewerRole).toBe('USER');
    expect(organization.members.totalCount).toBe(3);
    expect(organization.members.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { role: 'OWNER', user: { id: t.owner.userId, email: t.owner.email } },
      { role: 'ADMIN', user: { id: t.admin.userId, email: t.admin.email } },
      { role: 'USER', user: { id: t.user.userId, email: t.user.email } },
    ]);
    const paged = await gql(t.owner, `query ($id: ID!) { organization(id: $id) { members(first: 2) { edges { node { role } } pageInfo { hasNextPage endCursor } } } }`, { id: t.id });
    expect(paged.data.organization.members.edges).toHaveLength(2);
    expect(paged.data.organization.members.pageInfo.hasNextPage).toBe(true);
    const stranger = await owner();
    expect((await gql(stranger, ORGANIZATION, { id: t.id })).data.organization).toBeNull();
  });

  it('addMember: admins and owners, never a role above their own, only existing users, once', async () => {
    const t = await team('Adding Co');
    const newcomer = await owner();
    expect(await add(t.admin, t.id, newcomer.email, 'OWNER')).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await add(t.user, t.id, newcomer.email, 'USER')).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await add(t.admin, t.id, 'nobody-here@example.com', 'USER')).toMatchObject({ __typename: 'NotFoundError', resource: 'user' });
    expect(await add(t.admin, t.id, newcomer.email, 'ADMIN')).toMatchObject({ __typename: 'Membership', role: 'ADMIN', user: { id: newcomer.userId } });
    expect(await add(t.owner, t.id, newcomer.email, 'USER')).toMatchObject({ __typename: 'ValidationError', message: 'This user is already a member of the organization' });
    const stranger = await team('Adding elsewhere');
    expect(await add(stranger.owner, t.id, stranger.user.email, 'USER')).toMatchObject({ __typename: 'NotFoundError', resource: 'organization' });
    expect(await env.sql('select count(*)::int as n from user_organizations where organization_id = ?', [t.id])).toEqual([{ n: 4 }]);
  });

  it('removeMember: admins remove users and admins, owners anyone, anyone may leave, the last owner stays', async () => {
    const t = await team('Removing Co');
    const second = await owner();
    await add(t.owner, t.id, second.email, 'ADMIN');
    expect(await remove(t.admin, t.id, t.owner.userId)).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await remove(t.user, t.id, t.admin.userId)).toMatchObject({ __typename: 'NotAllowedError' });
    expect(await remove(t.admin, t.id, second.userId)).toMatchObject({ __typename: 'Membership', role: 'ADMIN' });
    expect(await remove(t.admin, t.id, t.admin.userId)).toMatchObject({ __typename: 'Membership' }); // leaving
    expect((await gql(t.admin, ORGANIZATION, { id: t.id })).data.organization).toBeNull(); // access ended at once
    expect(await remove(t.owner, t.id, t.owner.userId)).toEqual({ __typename: 'LastOwnerError', message: 'Cannot remove the last owner of the organization' });
    expect(await remove(t.owner, t.id, t.admin.userId)).toMatchObject({ __typename: 'NotFoundError', resource: 'member' });
    const stranger = await team('Removing elsewhere');
    expect(await remove(stranger.owner, t.id, t.user.userId)).toMatchObject({ __typename: 'NotFoundError', resource: 'organization' });
    expect(await remove(t.owner, t.id, t.user.userId)).toMatchObject({ __typename: 'Membership', role: 'USER' });
    expect(await env.sql('select user_id, role from user_organizations where organization_id = ?', [t.id])).toEqual([{ user_id: t.owner.userId, role: 2 }]);
  });
});

describe('races', () => {
  it('concurrent renames to one name: exactly one wins', async () => {
    const o = await owner();
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => createOrg(o, `Rename race ${i}`)));
    const results = await Promise.all(ids.map((id) => update(o, { id, name: 'Rename race winner' })));
    expect(results.filter((r) => r.__typename === 'Organization')).toHaveLength(1);
    expect(results.filter((r) => r.__typename === 'OrganizationNameTakenError')).toHaveLength(11);
    expect(await env.sql(`select count(*)::int as n from organizations where name = 'Rename race winner' and deleted = 0`)).toEqual([{ n: 1 }]);
  });

  it('a delete racing a create of the same name: never two live organizations with one name', async () => {
    const o = await owner();
    for (let i = 0; i < 8; i++) {
      const name = `Delete race ${i}`;
      const id = await createOrg(o, name);
      const [, created] = await Promise.all([gql(o, DELETE, { id }), gql(o, CREATE_ORGANIZATION, { name })]);
      expect(['Organization', 'OrganizationNameTakenError']).toContain(created.data.createOrganization.__typename);
      const [{ n }] = (await env.sql<{ n: number }>(`select count(*)::int as n from organizations where name = ? and deleted = 0`, [name])) as [{ n: number }];
      expect(n).toBe(created.data.createOrganization.__typename === 'Organization' ? 1 : 0);
    }
  });

  it('two owners removing each other at the same moment: one owner remains', async () => {
    for (let i = 0; i < 8; i++) {
      const [a, b] = [await owner(), await owner()];
      const id = await createOrg(a, `Mutual removal ${i}`);
      await add(a, id, b.email, 'OWNER');
      const results = await Promise.all([remove(a, id, b.userId), remove(b, id, a.userId)]);
      expect(results.filter((r) => r.__typename === 'Membership')).toHaveLength(1);
      expect(await env.sql('select count(*)::int as n from user_organizations where organization_id = ? and role = 2', [id])).toEqual([{ n: 1 }]);
    }
  });
});
