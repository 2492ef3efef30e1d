// The GraphQL clients people use, each set up as its documentation does, against the server over HTTP:
// urql with its defaults (queries as GET), Apollo Client (normalized cache, relayStylePagination over
// viewer.organizations, a union result through possibleTypes, queries as GET), graphql-request, and
// Relay (relay-runtime running the artifacts relay-compiler wrote from examples/relay: a refetchable
// organization fragment and the paginated list with @connection, both through node(id:)).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApolloClient, gql as apolloGql, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { cacheExchange, Client as UrqlClient, fetchExchange, gql as urqlGql } from '@urql/core';
import { GraphQLClient, gql as requestGql } from 'graphql-request';
import { buildClientSchema, getIntrospectionQuery, isAbstractType, type IntrospectionQuery } from 'graphql';
import { createOperationDescriptor, Environment, fetchQuery, getRequest, getSelector, Network, RecordSource, Store, type GraphQLResponse } from 'relay-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import AppQuery from '../examples/relay/src/__generated__/AppQuery.graphql.js';
import OrganizationCardFragment from '../examples/relay/src/__generated__/OrganizationCard_organization.graphql.js';
import OrganizationCardRefetchQuery from '../examples/relay/src/__generated__/OrganizationCardRefetchQuery.graphql.js';
import OrganizationListFragment from '../examples/relay/src/__generated__/OrganizationList_user.graphql.js';
import OrganizationListPaginationQuery from '../examples/relay/src/__generated__/OrganizationListPaginationQuery.graphql.js';
import { bearer, CREATE_ORGANIZATION, createTestEnv, serveOnLoopback, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ createRateLimit: null });
});
afterAll(async () => env?.close());
const loopback = serveOnLoopback(() => env);
const endpoint = () => `${loopback.url()}/graphql`;

/** fetch, with the methods it was asked to use remembered. */
function recordingFetch(methods: string[]): typeof fetch {
  return (input, init) => {
    methods.push((init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase());
    return fetch(input, init);
  };
}

async function personWithOrganizations(names: string[]) {
  const person = await env.newUser({ role: 'owner' });
  const ids: string[] = [];
  for (const name of names) {
    const { body } = await env.graphql(CREATE_ORGANIZATION, { variables: { name }, headers: bearer(person.key) });
    ids.push(body.data.createOrganization.id);
  }
  return { ...person, ids };
}

describe('the CSRF rule', () => {
  it('runs a GET query that carries a key (no preflight could be skipped for it) and refuses one a cross-site page could send', async () => {
    const person = await env.newUser();
    const query = encodeURIComponent('{ viewer { id } }');
    for (const headers of [bearer(person.key), { 'x-api-key': person.key }, { 'x-graphql-yoga-csrf': '1', ...bearer(person.key) }, { 'apollo-require-preflight': 'true' }] as Array<Record<string, string>>) {
      const response = await env.request(`/graphql?query=${query}`, { headers: { accept: 'application/json', ...headers } });
      expect(response.status).toBe(200);
    }
    // What a page on another site can send without a preflight: no custom header, a simple content type.
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }] as Array<Record<string, string>>) {
      const response = await env.request(`/graphql?query=${query}`, { headers: { accept: 'application/json', ...headers } });
      expect(response.status).toBe(403);
      expect((await response.json()).errors[0].message).toBe('Required CSRF header(s) not present');
    }
    const form = await env.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D' });
    expect(form.status).toBe(403);
  });
});

describe('urql, with its defaults', () => {
  it('sends queries as GET and mutations as POST, and both work with the key in fetchOptions', async () => {
    const person = await personWithOrganizations(['urql one', 'urql two']);
    const methods: string[] = [];
    const client = new UrqlClient({ url: endpoint(), exchanges: [cacheExchange, fetchExchange], fetch: recordingFetch(methods), fetchOptions: { headers: bearer(person.key) } });
    const viewer = await client.query(urqlGql`query UrqlViewer { viewer { id organizations(first: 10) { edges { node { id name } } } } }`, {}).toPromise();
    expect(viewer.error).toBeUndefined();
    expect(viewer.data.viewer.organizations.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['urql one', 'urql two']);
    const created = await client.mutation(urqlGql`mutation UrqlCreate($name: String!) { createOrganization(input: { name: $name }) { __typename ... on Organization { id name } ... on Error { message } } }`, { name: 'urql three' }).toPromise();
    expect(created.data.createOrganization).toMatchObject({ __typename: 'Organization', name: 'urql three' });
    expect(methods).toEqual(['GET', 'POST']);
  });
});

describe('Apollo Client', () => {
  it('pages viewer.organizations with relayStylePagination into one normalized list, and reads a union result through possibleTypes', async () => {
    const person = await personWithOrganizations(['apollo 1', 'apollo 2', 'apollo 3']);
    // possibleTypes from the schema, as Apollo's documentation generates them.
    const introspection = (await env.graphql(getIntrospectionQuery())).body.data as IntrospectionQuery;
    const schema = buildClientSchema(introspection);
    const possibleTypes: Record<string, string[]> = {};
    for (const type of Object.values(schema.getTypeMap())) {
      if (isAbstractType(type)) possibleTypes[type.name] = schema.getPossibleTypes(type).map((t) => t.name);
    }
    const methods: string[] = [];
    const client = new ApolloClient({
      link: new HttpLink({ uri: endpoint(), headers: bearer(person.key), useGETForQueries: true, fetch: recordingFetch(methods) }),
      cache: new InMemoryCache({ possibleTypes, typePolicies: { User: { fields: { organizations: relayStylePagination() } } } }),
    });
    const LIST = apolloGql`
      query ApolloList($after: String) {
        viewer { id organizations(first: 2, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }
      }
    `;
    type ListData = { viewer: { organizations: { edges: Array<{ node: { id: string; name: string } }>; pageInfo: { endCursor: string } } } };
    const first = await client.query<ListData>({ query: LIST });
    expect(first.data!.viewer.organizations.edges.map((e) => e.node.name)).toEqual(['apollo 1', 'apollo 2']);
    // The next page, as fetchMore asks for it (from the network: relayStylePagination's read would answer
    // from the cache); relayStylePagination merges it into the one cached list.
    await client.query<ListData>({ query: LIST, variables: { after: first.data!.viewer.organizations.pageInfo.endCursor }, fetchPolicy: 'network-only' });
    const merged = client.readQuery<ListData>({ query: LIST })!;
    expect(merged.viewer.organizations.edges.map((e) => e.node.name)).toEqual(['apollo 1', 'apollo 2', 'apollo 3']);
    // Normalized: each organization is one cache entry, by __typename and id.
    expect(client.cache.identify({ __typename: 'Organization', id: person.ids[2] })).toBe(`Organization:${person.ids[2]}`);
    const CREATE = apolloGql`
      mutation ApolloCreate($name: String!) {
        createOrganization(input: { name: $name }) { __typename ... on Organization { id name } ... on Error { message } ... on OrganizationNameTakenError { name } }
      }
    `;
    const taken = await client.mutate({ mutation: CREATE, variables: { name: 'apollo 1' } });
    expect(taken.data).toEqual({ createOrganization: { __typename: 'OrganizationNameTakenError', message: 'An organization named "apollo 1" already exists', name: 'apollo 1' } });
    const made = await client.mutate({ mutation: CREATE, variables: { name: 'apollo 4' } });
    expect((made.data as { createOrganization: { __typename: string } }).createOrganization.__typename).toBe('Organization');
    expect(methods.slice(0, 2)).toEqual(['GET', 'GET']);
    expect(methods.slice(-2)).toEqual(['POST', 'POST']);
  });
});

describe('graphql-request', () => {
  it('runs a query and a mutation with the key in its headers', async () => {
    const person = await personWithOrganizations(['request one']);
    const client = new GraphQLClient(endpoint(), { headers: bearer(person.key) });
    const viewer = await client.request<{ viewer: { email: string; organizations: { edges: Array<{ node: { name: string } }> } } }>(
      requestGql`query { viewer { email organizations { edges { node { name } } } } }`,
    );
    expect(viewer.viewer).toEqual({ email: person.email, organizations: { edges: [{ node: { name: 'request one' } }] } });
    const renamed = await client.request<{ updateOrganization: { __typename: string; name: string } }>(
      requestGql`mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename ... on Organization { name } } }`,
      { input: { id: person.ids[0], name: 'request renamed' } },
    );
    expect(renamed.updateOrganization).toEqual({ __typename: 'Organization', name: 'request renamed' });
  });
});

describe('Relay', () => {
  function relayEnvironment(key: string) {
    return new Environment({
      network: Network.create(async (operation, variables) => {
        const response = await fetch(endpoint(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...bearer(key) },
          body: JSON.stringify({ query: operation.text, variables }),
        });
        return (await response.json()) as GraphQLResponse;
      }),
      store: new Store(new RecordSource()),
    });
  }

  it('runs the compiled query, pages the @connection through node(id:), and refetches an organization by id', async () => {
    const person = await personWithOrganizations(['relay 1', 'relay 2', 'relay 3']);
    const environment = relayEnvironment(person.key);
    await fetchQuery(environment, AppQuery, { count: 2 }).toPromise();
    const root = environment.lookup(createOperationDescriptor(getRequest(AppQuery), { count: 2 }).fragment).data as { viewer: { id: string; email: string } & object };
    expect(root.viewer).toMatchObject({ id: person.userId, email: person.email });
    const readList = () => {
      const data = environment.lookup(getSelector(OrganizationListFragment, root.viewer) as never).data as {
        organizations: { edges: Array<{ node: { id: string } & object }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
      };
      return data.organizations;
    };
    const page = readList();
    expect(page.edges.map((e) => e.node.id)).toEqual(person.ids.slice(0, 2));
    expect(page.pageInfo.hasNextPage).toBe(true);
    // The next page, as usePaginationFragment fetches it: the generated refetch query, by the user's id.
    await fetchQuery(environment, OrganizationListPaginationQuery, { id: person.userId, count: 2, cursor: page.pageInfo.endCursor }).toPromise();
    expect(readList().edges.map((e) => e.node.id)).toEqual(person.ids);
    expect(readList().pageInfo.hasNextPage).toBe(false);
    const card = () => environment.lookup(getSelector(OrganizationCardFragment, readList().edges[0]!.node) as never).data as { name: string; viewerRole: string };
    expect(card()).toMatchObject({ name: 'relay 1', viewerRole: 'OWNER' });
    // Renamed elsewhere; the card refetches itself by id.
    await env.graphql('mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }', { variables: { input: { id: person.ids[0], name: 'relay renamed' } }, headers: bearer(person.key) });
    await fetchQuery(environment, OrganizationCardRefetchQuery, { id: person.ids[0] }).toPromise();
    expect(card()).toMatchObject({ name: 'relay renamed' });
  });
});

describe('the Relay example', () => {
  it('has artifacts that match schema.graphql and its operations (npm run relay)', async () => {
    const run = promisify(execFile);
    // --validate exits non-zero, listing the artifacts that would change, when they are stale.
    const outcome = await run(path.resolve('node_modules/.bin/relay-compiler'), ['--validate'], { cwd: 'examples/relay' }).then(
      () => 'current',
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(outcome).toBe('current');
  });
});

describe('node(id:) and nodes(ids:)', () => {
  const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on Organization { name } ... on User { email } } }`;

  it('finds an organization for its members and a user for themselves only, with the ids every other field uses', async () => {
    const person = await personWithOrganizations(['node one']);
    const stranger = await personWithOrganizations(['node elsewhere']);
    const node = async (key: string | undefined, id: string) => (await env.graphql(NODE, { variables: { id }, headers: key ? bearer(key) : {} })).body.data.node;
    expect(await node(person.key, person.ids[0]!)).toEqual({ __typename: 'Organization', id: person.ids[0], name: 'node one' });
    expect(await node(person.key, person.userId)).toEqual({ __typename: 'User', id: person.userId, email: person.email });
    expect(await node(person.key, person.userId.toUpperCase())).toEqual({ __typename: 'User', id: person.userId, email: person.email });
    // What organization(id:) and viewer would not show, node(id:) does not either.
    expect(await node(stranger.key, person.ids[0]!)).toBeNull();
    expect(await node(stranger.key, person.userId)).toBeNull();
    expect(await node(undefined, person.ids[0]!)).toBeNull();
    expect(await node(person.key, 'not-an-id')).toBeNull();
    const { body } = await env.graphql('query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { variables: { ids: [person.ids[0], stranger.ids[0], person.userId] }, headers: bearer(person.key) });
    expect(body.data.nodes).toEqual([{ __typename: 'Organization', id: person.ids[0] }, null, { __typename: 'User', id: person.userId }]);
    const tooMany = await env.graphql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { variables: { ids: Array(101).fill(person.userId) }, headers: bearer(person.key) });
    expect(tooMany.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
