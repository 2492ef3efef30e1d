// What an anonymous caller could make 0.2.0 do over HTTP (issue "Security and reliability III"):
// amplification through GraphQL variables, REST bodies decoded before the caller is known, /metrics
// reached through a local proxy or DNS rebinding, and GraphiQL in a frame. Each is proven by bounded
// work (bytes answered, errors produced, bytes read), never by timing.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSimpleCreateOrganization, readCreateOrganization } from '../rest-adapter/serde-json.js';
import { loadConfig } from '../src/config.js';
import { VARIABLE_LIMITS } from '../src/http/hardening.js';
import { createLogger } from '../src/logger.js';
import { isDirectLocalRequest, METRICS_FORBIDDEN } from '../src/http/observability.js';
import { startServer, type RunningServer } from '../src/server.js';
import { bearer, createScratchDatabase, createTestEnv, usingPostgres, type TestEnv } from './helpers.js';

let env: TestEnv;
let key: string;
beforeAll(async () => {
  env = await createTestEnv();
  key = (await env.newUser()).key;
});
afterAll(async () => env?.close());

const CREATE_WITH_INPUT = 'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename } }';

/** POST /graphql with a raw body; the answer's size in bytes and its parsed body. */
async function postGraphQL(body: string, headers: Record<string, string> = {}) {
  const response = await env.request('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };
}

const unknownFields = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`field${i}`, i]));

describe('GraphQL variables cannot amplify a request', () => {
  it('a body over GRAPHQL_MAX_BODY_BYTES (64 KiB by default) is 413 and read no further, whatever MAX_BODY_BYTES allows REST', async () => {
    // 0.2.0 read this ~1 MB body and answered 51 errors, each printing the whole object (49 MB).
    const body = JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: 'x', ...unknownFields(90_000) } } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(900_000);
    const { status, bytes, body: answer } = await postGraphQL(body, bearer(key));
    expect(status).toBe(413);
    expect(answer.errors).toEqual([expect.objectContaining({ message: 'Payload Too Large: The request body is larger than 65536 bytes' })]);
    expect(bytes).toBeLessThan(1_000);
  });

  it(`more than ${VARIABLE_LIMITS.values} values, or nesting deeper than ${VARIABLE_LIMITS.depth}, is a 400 before anything runs`, async () => {
    const tooMany = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: 'many', ...unknownFields(3_000) } } }), bearer(key));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([
      expect.objectContaining({ message: 'Variables too large: at most 1000 values, nested at most 10 deep', extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 11; i++) deep = [deep];
    const tooDeep = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: 'deep', nested: deep } } }), bearer(key));
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.errors?.[0]?.message).toBe('Variables too large: at most 1000 values, nested at most 10 deep');
    expect(await env.sql(`select 1 from organizations where name in ('many', 'deep')`)).toEqual([]);
  });

  it(`coercion reports at most ${VARIABLE_LIMITS.errors} errors, each a few hundred characters, without printing the value`, async () => {
    const { status, bytes, body } = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: 'fields', ...unknownFields(990) } } }), bearer(key));
    expect(status).toBe(400); // a request error, as the executor's own coercion errors are
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(VARIABLE_LIMITS.errors);
    expect(body.errors![0]).toEqual(
      expect.objectContaining({ message: 'Variable "$input" got invalid value at "input"; Field "field0" is not defined by type "CreateOrganizationInput".', extensions: { code: 'BAD_USER_INPUT' } }),
    );
    for (const error of body.errors!) expect(error.message.length).toBeLessThanOrEqual(VARIABLE_LIMITS.messageChars);
    expect(bytes).toBeLessThan(4_000);

    // A scalar given a large object: the reason is cut short instead of printing the object.
    const scalar = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: unknownFields(900) } } }), bearer(key));
    expect(scalar.body.errors).toHaveLength(1);
    expect(scalar.body.errors![0]!.message).toMatch(/^Variable "\$input" got invalid value at "input\.name"; String cannot represent a non string value: .*…$/);
    expect(scalar.bytes).toBeLessThan(1_000);
    expect(await env.sql(`select 1 from organizations where name = 'fields'`)).toEqual([]);
  });

  it('well-formed variables still work, and a missing variable is still one clear error', async () => {
    const ok = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: { input: { name: 'Variables OK', idempotencyKey: 'vars-ok-1' } } }), bearer(key));
    expect(ok.body).toEqual({ data: { createOrganization: { __typename: 'Organization' } } });
    const missing = await postGraphQL(JSON.stringify({ query: CREATE_WITH_INPUT, variables: {} }), bearer(key));
    expect(missing.body.errors).toEqual([expect.objectContaining({ message: 'Variable "$input" of required type "CreateOrganizationInput!" was not provided.' })]);
  });
});

describe('REST answers 401 before it reads the body', () => {
  it('an anonymous request: 401, and not one byte of its body pulled', async () => {
    let pulls = 0;
    const chunk = new TextEncoder().encode(`{"name":"${'x'.repeat(60_000)}`);
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const response = await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
    expect(pulls).toBe(0);
  });

  it('with a key, a bad body is still the contract\'s 400', async () => {
    const response = await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: '{"nam":"x"}' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('missing field `name` at line 1 column 11');
  });

  it("the decoder's fast path answers exactly what the byte reader answers", () => {
    const encoder = new TextEncoder();
    const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
    const body = fc.oneof(
      // The common shape, names of every kind.
      fc.tuple(ws, ws, ws, fc.string({ unit: 'binary', maxLength: 40 }), ws).map(([a, b, c, name, d]) => `${a}{${b}"name"${c}:${JSON.stringify(name)}${d}}`),
      // Near misses: duplicates, other fields, arrays, escapes, a byte-order mark, trailing text.
      fc.constantFrom('{"name":"a","name":"b"}', '{"name":"a","x":1e999}', '["a"]', '{"na\\u006de":"a"}', '\ufeff{"name":"a"}', '{"name":"a"} x', '{"name":1}', '{"name":"a","n":{"name":2}}'),
      fc.json(),
    );
    fc.assert(
      fc.property(body, (text) => {
        const bytes = encoder.encode(text);
        const fast = decodeSimpleCreateOrganization(bytes);
        if (fast !== undefined) expect(fast).toEqual(readCreateOrganization(bytes));
      }),
      { numRuns: 2_000 },
    );
    // …and it does serve the common case.
    expect(decodeSimpleCreateOrganization(encoder.encode(`{ "name": "Acme ${'é'.repeat(100_000)}" }`))).toEqual({ name: `Acme ${'é'.repeat(100_000)}` });
    expect(decodeSimpleCreateOrganization(encoder.encode('{"name":"a","name":"b"}'))).toBeUndefined();
  });
});

describe('a GraphQL error the REST table does not know', () => {
  it('BAD_USER_INPUT is the caller\'s 400 with its message', async () => {
    const { errorCodeResponse } = await import('../rest-adapter/responses.js');
    expect(errorCodeResponse({ message: 'Variable "$x" got invalid value', extensions: { code: 'BAD_USER_INPUT' } })).toEqual({ status: 400, body: { message: 'Variable "$x" got invalid value' } });
    expect(errorCodeResponse({ message: 'odd', extensions: { code: 'SOMETHING_ELSE' } })).toBeUndefined();
  });
  // The path through the adapter (a 500 logged with the request id and the codes): test/rest-unmapped-errors.test.ts.
});

describe('/metrics without METRICS_TOKEN', () => {
  let server: RunningServer;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-metrics-'));
  beforeAll(async () => {
    scratch = usingPostgres ? await createScratchDatabase() : undefined;
    server = await startServer({ ...loadConfig({ PORT: '0', DATA_DIR: dataDir, STATEMENT_TIMEOUT_MS: '0' }), databaseUrl: scratch?.url }, createLogger('silent'));
  });
  afterAll(async () => {
    await server?.close();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(server.url);
      http
        .get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        })
        .on('error', reject);
    });

  it('answers a direct request from this machine', async () => {
    const { port } = new URL(server.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      const { status, body } = await get({ host });
      expect(status, host).toBe(200);
      expect(body).toContain('http_requests_total');
    }
  });

  it('refuses a foreign Host (DNS rebinding) and anything a proxy forwarded', async () => {
    const { port } = new URL(server.url);
    const cases: Record<string, string>[] = [
      { host: 'evil.example' },
      { host: `attacker.example:${port}` },
      { host: `127.0.0.1:${port}`, 'x-forwarded-for': '203.0.113.9' },
      { host: `127.0.0.1:${port}`, forwarded: 'for=203.0.113.9' },
      { host: `127.0.0.1:${port}`, 'x-real-ip': '203.0.113.9' },
    ];
    for (const headers of cases) {
      const { status, body } = await get(headers);
      expect(status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(body)).toEqual({ message: METRICS_FORBIDDEN });
    }
  });

  it('decides by the peer: a non-loopback peer is refused whatever its Host', () => {
    const local = new Headers({ host: '127.0.0.1:8090' });
    expect(isDirectLocalRequest('127.0.0.1', local, false)).toBe(true);
    expect(isDirectLocalRequest('::ffff:127.0.0.1', local, false)).toBe(true);
    expect(isDirectLocalRequest('::1', local, false)).toBe(true);
    for (const peer of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', '2001:db8::1', undefined]) {
      expect(isDirectLocalRequest(peer, local, false), String(peer)).toBe(false);
    }
  });
});

describe('GraphiQL', () => {
  it('may not be framed by another site', async () => {
    const first = await env.request('/graphql', { headers: { accept: 'text/html' } });
    const again = await env.request('/graphql', { headers: { accept: 'text/html', 'if-none-match': first.headers.get('etag')! } });
    for (const response of [first, again]) {
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    }
    expect(again.status).toBe(304);
  });
});
