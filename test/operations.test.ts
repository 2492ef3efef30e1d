// What operators see: the access log, request ids, metrics, readiness, and the switches for private
// deployments (GraphiQL, introspection, trusted documents).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.js';
import { PersistedOperationsError } from '../src/http/persisted-operations.js';
import { bearer, CREATE_ORGANIZATION, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ metricsToken: 'metrics-token-for-tests' });
});
afterAll(async () => env?.close());

const entries = (e: TestEnv) => e.logLines.map((line) => JSON.parse(line) as Record<string, any>);

describe('access log and request ids', () => {
  it('writes one line per request with method, path, operation, status, duration and request id, and never a key or body', async () => {
    const { key } = await env.newUser();
    env.logLines.length = 0;
    const { response } = await env.graphql(CREATE_ORGANIZATION, {
      variables: { name: 'secret-body-marker' },
      headers: { ...bearer(key), 'x-request-id': 'client-id-42' },
    });
    expect(response.headers.get('x-request-id')).toBe('client-id-42');
    const rest = await env.request('/api/organization?token=hidden-query', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ name: 'another-secret-marker' }),
    });
    const restId = rest.headers.get('x-request-id');
    expect(restId).toMatch(/^[0-9a-f-]{36}$/);

    const lines = entries(env).filter((e) => e.msg === 'request');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, method: 'POST', path: '/graphql', operation: 'Create', status: 200, requestId: 'client-id-42', durationMs: expect.any(Number) }),
      expect.objectContaining({ level: 30, method: 'POST', path: '/api/organization', status: 200, requestId: restId }),
    ]);
    const all = env.logLines.join('\n');
    for (const secret of [key, hashApiKey(key), 'secret-body-marker', 'another-secret-marker', 'hidden-query']) expect(all).not.toContain(secret);
  });

  it('replaces an unsafe x-request-id with a fresh one', async () => {
    for (const unsafe of ['has spaces', 'x'.repeat(129), '<script>', 'a/b', '']) {
      const response = await env.request('/api/health', { headers: unsafe ? { 'x-request-id': unsafe } : {} });
      const id = response.headers.get('x-request-id');
      expect(id).not.toBe(unsafe);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('GET /metrics', () => {
  const auth = { authorization: 'Bearer metrics-token-for-tests' };

  it('wants the token when METRICS_TOKEN is set', async () => {
    expect((await env.request('/metrics')).status).toBe(401);
    expect((await env.request('/metrics', { headers: { authorization: 'Bearer wrong-token-of-same-len' } })).status).toBe(401);
    expect((await env.request('/metrics', { headers: auth })).status).toBe(200);
  });

  it('reports REST and GraphQL requests, latency, the database pool and the process', async () => {
    const { key } = await env.newUser();
    await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: '{"name":"metered"}' });
    await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"anon"}' });
    await env.graphql('{ viewer { id } }', { headers: bearer(key) });
    const response = await env.request('/metrics', { headers: auth });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^http_requests_total\{route="\/api\/organization",method="POST",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="\/api\/organization",method="POST",status="401"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0.1",route="\/graphql",method="POST",status="200"\} [1-9]/m);
    expect(text).toMatch(/^graphql_envelop_request\{.*operationType="query".*\} [1-9]/m);
    expect(text).toMatch(/^db_pool_connections\{state="used"\} \d+/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('is open when no token is configured', async () => {
    const open = await createTestEnv();
    try {
      expect((await open.request('/metrics')).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('readiness', () => {
  it('is ready while serving and 503 draining once shutdown starts, while liveness stays up', async () => {
    const local = await createTestEnv();
    try {
      const ready = await local.request('/api/ready');
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
      local.app.startDraining();
      const draining = await local.request('/api/ready');
      expect([draining.status, await draining.json()]).toEqual([503, { status: 'draining' }]);
      expect((await local.request('/api/health')).status).toBe(200);
      expect((await local.request('/api/live')).status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe('private deployments', () => {
  it('GRAPHIQL=false serves no GraphiQL page', async () => {
    const local = await createTestEnv({ graphiql: false });
    try {
      const withPage = await env.request('/graphql', { headers: { accept: 'text/html' } });
      expect(await withPage.text()).toContain('Trieve organization gateway');
      const without = await local.request('/graphql', { headers: { accept: 'text/html' } });
      expect(await without.text()).not.toContain('graphiql');
    } finally {
      await local.close();
    }
  });

  it('INTROSPECTION=false refuses introspection and gives no field suggestions', async () => {
    const local = await createTestEnv({ introspection: false });
    try {
      const open = await env.graphql('{ __schema { queryType { name } } }');
      expect(open.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      const closed = await local.graphql('{ __schema { queryType { name } } }');
      expect(closed.body.errors?.[0]?.message).toMatch(/introspection/i);
      const typo = await local.graphql('{ viewr { id } }');
      expect(typo.body.errors?.[0]?.message).toBe('Cannot query field "viewr" on type "Query". [Suggestion hidden]');
      const typoOpen = await env.graphql('{ viewr { id } }');
      expect(typoOpen.body.errors?.[0]?.message).toContain('Did you mean "viewer"?');
    } finally {
      await local.close();
    }
  });
});

describe('trusted documents (PERSISTED_OPERATIONS_FILE)', () => {
  let dir: string;
  let local: TestEnv;
  const viewerDocument = 'query TrustedViewer { viewer { id email } }';
  const viewerHash = createHash('sha256').update(viewerDocument).digest('hex');
  const createHashValue = createHash('sha256').update(CREATE_ORGANIZATION).digest('hex');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gateway-trusted-'));
    const file = path.join(dir, 'persisted-documents.json');
    writeFileSync(file, JSON.stringify({ [viewerHash]: viewerDocument, [createHashValue]: CREATE_ORGANIZATION }));
    local = await createTestEnv({ persistedOperationsFile: file });
  });
  afterAll(async () => {
    await local?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (body: unknown, headers: Record<string, string> = {}) =>
    local.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('runs a listed operation by hash, in both request forms', async () => {
    const { key, userId, email } = await local.newUser();
    const apollo = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: viewerHash } } }, bearer(key));
    expect(await apollo.json()).toEqual({ data: { viewer: { id: userId, email } } });
    const documentId = await send({ documentId: `sha256:${createHashValue}`, variables: { name: 'Trusted Org' } }, bearer(key));
    expect((await documentId.json()).data.createOrganization).toMatchObject({ __typename: 'Organization', name: 'Trusted Org' });
  });

  it('refuses arbitrary documents and unknown hashes with a clear 400', async () => {
    const arbitrary = await send({ query: viewerDocument });
    expect(arbitrary.status).toBe(400);
    expect((await arbitrary.json()).errors[0]).toMatchObject({ message: expect.stringContaining('only runs trusted'), extensions: { code: 'PERSISTED_QUERY_ONLY' } });
    const unknown = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('turns GraphiQL off and leaves the REST contract working', async () => {
    const page = await local.request('/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('graphiql');
    const { key } = await local.newUser();
    const rest = await local.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: '{"name":"REST still works"}' });
    expect(rest.status).toBe(200);
  });

  it('stops the start-up with a clear error when the file is wrong', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ abc: 'query { nope }' }));
    await expect(createTestEnv({ persistedOperationsFile: bad })).rejects.toThrow(PersistedOperationsError);
    await expect(createTestEnv({ persistedOperationsFile: bad })).rejects.toThrow(`PERSISTED_OPERATIONS_FILE ${bad}: entry abc does not fit the schema: Cannot query field "nope" on type "Query".`);
  });
});
