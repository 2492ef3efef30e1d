// Hostile input on /graphql: limits with clear 4xx answers, no batching, CSRF prevention, masked errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_LIMITS } from '../src/http/hardening.js';
import { bearer, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
let key: string;
beforeAll(async () => {
  env = await createTestEnv({ graphqlMaxBodyBytes: 8192 });
  key = (await env.newUser()).key;
});
afterAll(async () => env?.close());

const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  env.request('/graphql', { method: 'POST', headers: { ...bearer(key), ...headers }, body });

async function refusal(response: Response, status: number) {
  expect(response.status).toBe(status);
  const body = await response.json();
  expect(body.errors?.[0]?.message).toEqual(expect.any(String));
  return body.errors[0] as { message: string; extensions?: Record<string, unknown> };
}

describe('body', () => {
  it('413 over GRAPHQL_MAX_BODY_BYTES, declared or streamed', async () => {
    const big = JSON.stringify({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(9000) } });
    expect((await refusal(await post(big), 413)).message).toBe('Payload Too Large: The request body is larger than 8192 bytes');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(1000)));
        controller.close();
      },
    });
    const chunked = await env.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    await refusal(chunked, 413);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form-encoded', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=xyz'],
  ])('415 for %s bodies', async (_label, type) => {
    const error = await refusal(await post('query={viewer{id}}', { 'content-type': type, 'x-graphql-yoga-csrf': '1' }), 415);
    expect(error.message).toBe('Unsupported Media Type: send the GraphQL request as application/json');
  });

  it('400 for invalid JSON and for batches', async () => {
    expect((await refusal(await post('{"query": '), 400)).message).toBe('POST body sent invalid JSON.');
    const batch = JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ viewer { id } }' }]);
    expect((await refusal(await post(batch), 400)).message).toMatch(/^Batched operations are not supported/);
  });
});

describe('document limits (graphql-armor)', () => {
  const modern = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  it(`refuses more than ${GRAPHQL_LIMITS.aliases} aliases`, async () => {
    const aliases = Array.from({ length: GRAPHQL_LIMITS.aliases + 1 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    const error = await refusal(await post(JSON.stringify({ query: `{ ${aliases} }` }), modern), 400);
    expect(error.message).toMatch(/aliases/i);
  });

  it(`refuses more than ${GRAPHQL_LIMITS.tokens} tokens`, async () => {
    const fields = Array.from({ length: GRAPHQL_LIMITS.tokens }, () => 'a').join(' ');
    const error = await refusal(await post(JSON.stringify({ query: `{ ${fields} }` }), modern), 400);
    expect(error.message).toMatch(/token/i);
  });

  it(`refuses more than ${GRAPHQL_LIMITS.directives} directives`, async () => {
    const directives = Array.from({ length: GRAPHQL_LIMITS.directives + 1 }, () => '@include(if: true)').join(' ');
    const error = await refusal(await post(JSON.stringify({ query: `{ viewer ${directives} { id } }` }), modern), 400);
    expect(error.message).toMatch(/directives/i);
  });

  it(`refuses documents deeper than ${GRAPHQL_LIMITS.depth}`, async () => {
    // No type here is recursive, so depth comes from nesting inline fragments, which count.
    const nested = Array.from({ length: GRAPHQL_LIMITS.depth + 2 }).reduce<string>((inner) => `... on Query { ${inner} }`, 'viewer { id }');
    const error = await refusal(await post(JSON.stringify({ query: `{ ${nested} }` }), modern), 400);
    expect(error.message).toMatch(/depth/i);
  });

  it('answers legacy application/json clients 200 with only errors, as the GraphQL-over-HTTP spec says', async () => {
    const aliases = Array.from({ length: GRAPHQL_LIMITS.aliases + 1 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    const response = await post(JSON.stringify({ query: `{ ${aliases} }` }), { 'content-type': 'application/json', accept: 'application/json' });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({ errors: [expect.objectContaining({ message: expect.stringMatching(/Aliases limit of 10 exceeded/) })] });
  });

  it('still accepts ordinary operations and GraphiQL-sized introspection', async () => {
    const ok = await post(JSON.stringify({ query: '{ viewer { id organizations { edges { node { id name } } } } __schema { types { name fields { name type { name kind ofType { name kind ofType { name kind } } } } } } }' }));
    expect(ok.status).toBe(200);
  });
});

describe('CSRF prevention and other request shapes', () => {
  it('refuses a GET without the CSRF header, runs it with the header, and never runs a mutation over GET', async () => {
    const query = encodeURIComponent('{ __typename }');
    const plain = await env.request(`/graphql?query=${query}`, { headers: { accept: 'application/json' } });
    expect(plain.status).toBe(403);
    const withHeader = await env.request(`/graphql?query=${query}`, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' } });
    expect(await withHeader.json()).toEqual({ data: { __typename: 'Query' } });
    const mutation = encodeURIComponent('mutation { createOrganization(input: {name: "via GET"}) { __typename } }');
    const viaGet = await env.request(`/graphql?query=${mutation}`, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1', ...bearer(key) } });
    expect(viaGet.status).toBe(405);
    expect(await env.sql(`select 1 from organizations where name = 'via GET'`)).toEqual([]);
  });
});
