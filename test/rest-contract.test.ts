// Every row of the legacy contract (shared/contract-notes.md), each response validated against the
// vendored OpenAPI document, and no write on any refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth/api-keys.js';
import { JSON_ERROR_SOLUTIONS as SOLUTION } from '../rest-adapter/responses.js';
import { expectContractResponse, openapi } from './contract.js';
import { CREATE_ORGANIZATION, bearer, createEnvWithFailingCreates, createTestEnv, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ maxBodyBytes: 4096 });
});
afterAll(async () => env?.close());

const encoder = new TextEncoder();
const JSON_PREFIX = 'Json Deserialization Error: *Type* : ';

/** A POST /api/organization; the body is bytes, so no content type is implied unless given. */
function post(body: string | Uint8Array, headers: Record<string, string> = {}, method = 'POST') {
  return env.request('/api/organization', {
    method,
    headers,
    body: (typeof body === 'string' ? encoder.encode(body) : body) as BodyInit,
  });
}

const json = (key: string, extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', ...bearer(key), ...extra });

async function rowCounts() {
  const [orgs] = await env.sql<{ n: string }>('select count(*) as n from organizations');
  const [members] = await env.sql<{ n: string }>('select count(*) as n from user_organizations');
  return { organizations: Number(orgs!.n), memberships: Number(members!.n) };
}

/** Runs a refused request and proves it wrote nothing. */
async function refused(send: () => Promise<Response>, status: number): Promise<string> {
  const before = await rowCounts();
  const body = await expectContractResponse(await send(), status);
  expect(await rowCounts()).toEqual(before);
  return body.message;
}

describe('200: created', () => {
  it('answers the Organization in snake_case, upstream key order, UTC timestamps, and makes the caller owner', async () => {
    const { key, userId } = await env.newUser();
    const response = await post('{"name":"REST Acme"}', json(key));
    const org = await expectContractResponse(response, 200);
    expect(org).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'REST Acme',
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      updated_at: org.created_at,
      registerable: true,
      deleted: 0,
      partner_configuration: {},
    });
    expect(await env.sql('select user_id, role from user_organizations where organization_id = ?', [org.id])).toEqual([{ user_id: userId, role: 2 }]);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('reads a body without Content-Type as JSON and ignores unknown fields', async () => {
    const { key } = await env.newUser();
    const org = await expectContractResponse(await post('{"name":"No Content Type","extra":[1,2],"__proto__":{"x":1}}', bearer(key)), 200);
    expect(org.name).toBe('No Content Type');
  });

  it('accepts application/json with a charset and +json types', async () => {
    const { key } = await env.newUser();
    await expectContractResponse(await post('{"name":"charset"}', { ...bearer(key), 'content-type': 'application/json; charset=utf-8' }), 200);
    await expectContractResponse(await post('{"name":"plus json"}', { ...bearer(key), 'content-type': 'application/vnd.api+json' }), 200);
  });

  it('accepts every credential form: Bearer, raw Authorization, x-api-key', async () => {
    const { key } = await env.newUser();
    await expectContractResponse(await post('{"name":"bearer form"}', { authorization: `Bearer ${key}` }), 200);
    await expectContractResponse(await post('{"name":"raw form"}', { authorization: key }), 200);
    await expectContractResponse(await post('{"name":"x-api-key form"}', { 'x-api-key': key }), 200);
  });

  it('accepts TR-Organization naming an organization the caller belongs to', async () => {
    const { key } = await env.newUser();
    const home = await expectContractResponse(await post('{"name":"Home Org"}', json(key)), 200);
    await expectContractResponse(await post('{"name":"Child Org"}', json(key, { 'tr-organization': home.id })), 200);
  });
});

describe('401: missing, invalid or expired credentials', () => {
  it.each([
    ['no credentials', {}],
    ['an unknown key', { authorization: 'Bearer tr-00000000000000000000000000000000' }],
    ['lower-case "bearer"', { authorization: 'bearer tr-00000000000000000000000000000000' }],
    ['an empty Bearer', { authorization: 'Bearer ' }],
  ])('with %s', async (_label, headers: Record<string, string>) => {
    expect(await refused(() => post('{"name":"nope"}', { 'content-type': 'application/json', ...headers }), 401)).toBe('Unauthorized');
  });

  it('with an expired key', async () => {
    const { key } = await env.newUser({ expiresAt: new Date(Date.now() - 60_000) });
    expect(await refused(() => post('{"name":"expired"}', json(key)), 401)).toBe('Unauthorized');
  });

  it('comes before body errors when credentials are missing', async () => {
    expect(await refused(() => post('{oops', { 'content-type': 'application/json' }), 401)).toBe('Unauthorized');
  });
});

describe('TR-Organization', () => {
  it('403 Forbidden when the caller is not a member', async () => {
    const owner = await env.newUser();
    const other = await env.newUser();
    const org = await expectContractResponse(await post('{"name":"Private Org"}', json(owner.key)), 200);
    expect(await refused(() => post('{"name":"sneaky"}', json(other.key, { 'tr-organization': org.id })), 403)).toBe('Forbidden');
  });

  it('404 when it names no live organization', async () => {
    const { key } = await env.newUser();
    const message = await refused(() => post('{"name":"orphan"}', json(key, { 'tr-organization': '6f1c1f0e-1b7a-4c59-9a55-2d3f3c1e9b10' })), 404);
    expect(message).toBe('Not Found: Organization not found');

    const org = await expectContractResponse(await post('{"name":"Deleted Org"}', json(key)), 200);
    await env.sql('update organizations set deleted = 1 where id = ?', [org.id]);
    expect(await refused(() => post('{"name":"under deleted"}', json(key, { 'tr-organization': org.id })), 404)).toBe('Not Found: Organization not found');
  });

  it('400 "Could not convert Organization to UUID" when it is not a UUID, with or without credentials', async () => {
    const { key } = await env.newUser();
    for (const bad of ['acme', '6f1c1f0e-1b7a-4c59-9a55-2d3f3c1e9b1', '{6f1c1f0e1b7a4c599a552d3f3c1e9b10}', 'urn:uuid:xyz']) {
      expect(await refused(() => post('{"name":"bad header"}', json(key, { 'tr-organization': bad })), 400)).toBe('Could not convert Organization to UUID');
      expect(await refused(() => post('{"name":"bad header"}', { 'content-type': 'application/json', 'tr-organization': bad }), 400)).toBe(
        'Could not convert Organization to UUID',
      );
    }
    // Before the body and the content type, too.
    expect(await refused(() => post('{oops', { 'content-type': 'text/plain', 'tr-organization': 'acme' }), 400)).toBe('Could not convert Organization to UUID');
  });

  it('404 for an unknown organization even without credentials; a live one without credentials goes on to 401', async () => {
    const { key } = await env.newUser();
    const unknown = '6f1c1f0e-1b7a-4c59-9a55-2d3f3c1e9b10';
    expect(await refused(() => post('{"name":"x"}', { 'content-type': 'application/json', 'tr-organization': unknown }), 404)).toBe('Not Found: Organization not found');
    const org = await expectContractResponse(await post('{"name":"Live for anonymous"}', json(key)), 200);
    expect(await refused(() => post('{"name":"x"}', { 'content-type': 'application/json', 'tr-organization': org.id }), 401)).toBe('Unauthorized');
    // ... where a wrong content type is still refused first, and a bad body answers 401.
    expect(await refused(() => post('{"name":"x"}', { 'content-type': 'text/plain', 'tr-organization': org.id }), 400)).toMatch(/Content type header error/);
    expect(await refused(() => post('{oops', { 'content-type': 'application/json', 'tr-organization': org.id }), 401)).toBe('Unauthorized');
  });

  it('accepts every form Rust\'s uuid crate parses, any case, and the x-organization alias', async () => {
    const { key } = await env.newUser();
    const org = await expectContractResponse(await post('{"name":"Forms home"}', json(key)), 200);
    const hex = org.id.replaceAll('-', '');
    const forms = [org.id.toUpperCase(), hex, hex.toUpperCase(), `{${org.id}}`, `urn:uuid:${org.id}`];
    for (const [i, form] of forms.entries()) {
      await expectContractResponse(await post(`{"name":"Form ${i}"}`, json(key, { 'tr-organization': form })), 200);
    }
    await expectContractResponse(await post('{"name":"Via alias"}', json(key, { 'x-organization': org.id })), 200);
    expect(await refused(() => post('{"name":"alias unknown"}', json(key, { 'x-organization': '6f1c1f0e-1b7a-4c59-9a55-2d3f3c1e9b10' })), 404)).toBe(
      'Not Found: Organization not found',
    );
  });
});

describe('credentials, as upstream reads them', () => {
  it('with an Authorization header, uses it alone: no fallback to x-api-key', async () => {
    const { key } = await env.newUser();
    for (const authorization of ['Bearer', 'Bearer ', '', 'bearer x', `Bearer ${'k'.repeat(300)}`]) {
      expect(await refused(() => post('{"name":"fallback"}', { 'content-type': 'application/json', authorization, 'x-api-key': key }), 401)).toBe('Unauthorized');
    }
  });

  it('strips "Bearer " from x-api-key too', async () => {
    const { key } = await env.newUser();
    await expectContractResponse(await post('{"name":"x-api-key bearer"}', { 'content-type': 'application/json', 'x-api-key': `Bearer ${key}` }), 200);
  });

  it('a wrong content type is 400 even without credentials (actix refuses it first)', async () => {
    expect(await refused(() => post('{"name":"typed"}', { 'content-type': 'text/plain' }), 400)).toBe(
      `${JSON_PREFIX}Content type header error | *Message* : Content type error | ${SOLUTION['Content type header error']}`,
    );
  });
});

describe('400: the body', () => {
  const prefix = JSON_PREFIX;
  let key: string;
  beforeAll(async () => {
    key = (await env.newUser()).key;
  });
  const full = (type: keyof typeof SOLUTION, detail: string) => `${prefix}${type} | *Message* : ${detail} | ${SOLUTION[type]}`;

  it.each([
    ['text/plain', 'text/plain'],
    ['form-encoded (what curl -d sends)', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('wrong content type: %s', async (_label, contentType) => {
    const message = await refused(() => post('{"name":"typed"}', { ...bearer(key), 'content-type': contentType }), 400);
    expect(message).toBe(full('Content type header error', 'Content type error'));
  });

  // serde_json's own text and position for each case (line 1-based, column in bytes).
  it.each([
    // syntax
    ['{"name": nope}', 'Syntax error in JSON', 'expected ident at line 1 column 11'],
    ['{"name":"a",}', 'Syntax error in JSON', 'trailing comma at line 1 column 13'],
    ['not json', 'Syntax error in JSON', 'expected ident at line 1 column 2'],
    ['?', 'Syntax error in JSON', 'expected value at line 1 column 1'],
    ['{"name":"a"} trailing', 'Syntax error in JSON', 'trailing characters at line 1 column 14'],
    ['{"name":"a"}{}', 'Syntax error in JSON', 'trailing characters at line 1 column 13'],
    ['{name:"a"}', 'Syntax error in JSON', 'key must be a string at line 1 column 2'],
    ['{"name" "a"}', 'Syntax error in JSON', 'expected `:` at line 1 column 9'],
    ['{"name":"a" "b":1}', 'Syntax error in JSON', 'expected `,` or `}` at line 1 column 13'],
    ['{"name":}', 'Syntax error in JSON', 'expected value at line 1 column 9'],
    ['{"x":01,"name":"a"}', 'Syntax error in JSON', 'invalid number at line 1 column 7'],
    ['{"name":"a\\q"}', 'Syntax error in JSON', 'invalid escape at line 1 column 12'],
    ['{"name":"a\tb"}', 'Syntax error in JSON', 'control character (\\u0000-\\u001F) found while parsing a string at line 1 column 11'],
    ['{\n  "name": "a",\n  "x": [1,,2]\n}', 'Syntax error in JSON', 'expected value at line 3 column 11'],
    ['\uFEFF{"name":"bom"}', 'Syntax error in JSON', 'expected value at line 1 column 1'],
    // data
    ['{"title":"x"}', 'Data error in JSON', 'missing field `name` at line 1 column 13'],
    ['{}', 'Data error in JSON', 'missing field `name` at line 1 column 2'],
    ['{"name":"A","name":"B"}', 'Data error in JSON', 'duplicate field `name` at line 1 column 18'],
    ['{"name": 5}', 'Data error in JSON', 'invalid type: integer `5`, expected a string at line 1 column 10'],
    ['{"name": -1.5}', 'Data error in JSON', 'invalid type: floating point `-1.5`, expected a string at line 1 column 13'],
    ['{"name": null}', 'Data error in JSON', 'invalid type: null, expected a string at line 1 column 13'],
    ['{"name": true}', 'Data error in JSON', 'invalid type: boolean `true`, expected a string at line 1 column 13'],
    ['{"name": ["a"]}', 'Data error in JSON', 'invalid type: sequence, expected a string at line 1 column 9'],
    ['{"name": {"a": 1}}', 'Data error in JSON', 'invalid type: map, expected a string at line 1 column 9'],
    ['"Acme"', 'Data error in JSON', 'invalid type: string "Acme", expected struct CreateOrganizationReqPayload at line 1 column 6'],
    ['42', 'Data error in JSON', 'invalid type: integer `42`, expected struct CreateOrganizationReqPayload at line 1 column 2'],
    ['null', 'Data error in JSON', 'invalid type: null, expected struct CreateOrganizationReqPayload at line 1 column 4'],
    // a deliberate difference: upstream's serde reads a sequence as the struct and creates "A"
    ['["A"]', 'Data error in JSON', 'invalid type: sequence, expected struct CreateOrganizationReqPayload at line 1 column 0'],
    // end of input
    ['', 'Unexpected end of JSON input', 'EOF while parsing a value at line 1 column 0'],
    ['   ', 'Unexpected end of JSON input', 'EOF while parsing a value at line 1 column 3'],
    ['{', 'Unexpected end of JSON input', 'EOF while parsing an object at line 1 column 1'],
    ['{"name":"trunc', 'Unexpected end of JSON input', 'EOF while parsing a string at line 1 column 14'],
    ['{"name":"a"', 'Unexpected end of JSON input', 'EOF while parsing an object at line 1 column 11'],
    ['{"name":', 'Unexpected end of JSON input', 'EOF while parsing a value at line 1 column 8'],
    ['{"x":[1,2', 'Unexpected end of JSON input', 'EOF while parsing a list at line 1 column 9'],
  ] as const)('%j is serde\'s "%s": %s', async (body, type, detail) => {
    const message = await refused(() => post(body, json(key)), 400);
    expect(message).toBe(full(type, `Json deserialize error: ${detail}`));
  });

  it('invalid UTF-8 inside a string is serde\'s "invalid unicode code point"', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(await refused(() => post(bytes, json(key)), 400)).toBe(full('Syntax error in JSON', 'Json deserialize error: invalid unicode code point at line 1 column 10'));
  });

  it('an escaped lone surrogate is refused by serde before the name rules', async () => {
    expect(await refused(() => post('{"name":"\\udc00"}', json(key)), 400)).toBe(
      full('Syntax error in JSON', 'Json deserialize error: lone leading surrogate in hex escape at line 1 column 15'),
    );
    expect(await refused(() => post('{"name":"\\ud800x"}', json(key)), 400)).toBe(
      full('Syntax error in JSON', 'Json deserialize error: unexpected end of hex escape at line 1 column 16'),
    );
  });

  it('escapes, surrogate pairs and unknown nested fields decode as serde does', async () => {
    const org = await expectContractResponse(await post('{"x":{"y":[1,{"z":null}],"w":-0.5e3},"name":"Caf\\u00e9 \\ud83d\\ude80 \\"q\\""}', json(key)), 200);
    expect(org.name).toBe('Café 🚀 "q"');
  });
});

describe('400: service errors', () => {
  it('a taken name, naming it', async () => {
    const a = await env.newUser();
    const b = await env.newUser();
    await expectContractResponse(await post('{"name":"Popular"}', json(a.key)), 200);
    expect(await refused(() => post('{"name":"Popular"}', json(b.key)), 400)).toBe('An organization named "Popular" already exists');
  });

  it.each([
    ['""', 'Organization name must not be empty or only white space'],
    ['"   "', 'Organization name must not be empty or only white space'],
    ['"a\\u0000b"', 'Organization name must not contain control characters'],
    [JSON.stringify('x'.repeat(256)), 'Organization name must be at most 255 characters, got 256'],
  ])('a name breaking a rule (%s), naming the rule', async (name, message) => {
    const { key } = await env.newUser();
    expect(await refused(() => post(`{"name":${name}}`, json(key)), 400)).toBe(message);
  });
});

describe('other statuses', () => {
  it('413 for a body over the limit, declared or streamed', async () => {
    const { key } = await env.newUser();
    const big = JSON.stringify({ name: 'big', padding: 'x'.repeat(5000) });
    expect(await refused(() => post(big, json(key)), 413)).toBe('Payload Too Large: the request body is larger than 4096 bytes');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(encoder.encode('x'.repeat(1000)));
        controller.close();
      },
    });
    const chunked = () => env.request('/api/organization', { method: 'POST', headers: json(key), body: stream, duplex: 'half' } as RequestInit);
    expect(await refused(chunked, 413)).toBe('Payload Too Large: the request body is larger than 4096 bytes');
  });

  it.each(['GET', 'DELETE', 'PATCH'])('405 with Allow for %s', async (method) => {
    const response = await env.request('/api/organization', { method });
    expect(response.headers.get('allow')).toBe('POST, PUT');
    expect(await expectContractResponse(response, 405)).toEqual({ message: 'Method Not Allowed' });
  });

  it.each(['POST', 'PUT'])('405 with Allow for %s on /api/organization/{id} (as upstream, whose resource has GET and DELETE)', async (method) => {
    const response = await env.request('/api/organization/123', { method });
    expect(response.headers.get('allow')).toBe('GET, HEAD, DELETE');
    expect(await expectContractResponse(response, 405)).toEqual({ message: 'Method Not Allowed' });
  });

  it('404 for an unknown /api path', async () => {
    for (const path of ['/api/organizations', '/api/organization/123/users', '/api/']) {
      expect(await expectContractResponse(await env.request(path, { method: 'POST' }), 404)).toEqual({ message: 'Not Found' });
    }
  });
});

describe('500: a failure of ours', () => {
  it('answers {"message":"Internal server error"} with the request id, logs it, leaks nothing', async () => {
    // Break the database under the app: the insert fails with an SQL error.
    const { env: failing, key } = await createEnvWithFailingCreates();
    try {
      const response = await failing.request('/api/organization', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key), 'x-request-id': 'trace-me-123' },
        body: encoder.encode('{"name":"Doomed"}'),
      });
      expect(response.headers.get('x-request-id')).toBe('trace-me-123');
      const text = await response.clone().text();
      expect(await expectContractResponse(response, 500)).toEqual({ message: 'Internal server error' });
      expect(text).not.toMatch(/user_organizations|insert|stack|at /i);
      const logged = failing.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
      expect(logged).toEqual([expect.objectContaining({ requestId: 'trace-me-123', msg: 'internal error' })]);
      expect(JSON.stringify(logged)).not.toContain(key);
      expect(await failing.sql(`select 1 from organizations where name = 'Doomed'`)).toEqual([]);

      const gql = await failing.graphql(CREATE_ORGANIZATION, { variables: { name: 'Doomed too' }, headers: bearer(key) });
      expect(gql.body.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    } finally {
      await failing.close();
    }
  });
});

describe('500 while looking up the key', () => {
  it('logs no key and no hash, and answers without internals', async () => {
    const failing = await createTestEnv();
    try {
      const { key } = await failing.newUser();
      await failing.sql('alter table api_keys rename to api_keys_gone');
      const response = await failing.request('/api/organization', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key) },
        body: encoder.encode('{"name":"Never"}'),
      });
      expect(await expectContractResponse(response, 500)).toEqual({ message: 'Internal server error' });
      const logs = failing.logLines.join('\n');
      // Logged as the key store's failure, by SQLSTATE only (the driver's text would quote the hash).
      expect(logs).toContain('"err":{"type":"DatabaseError","name":"ApiKeyStoreError","sqlState":"42P01","sqlStateClass":"42"');
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(hashApiKey(key));
    } finally {
      await failing.close();
    }
  });
});

describe('the contract validator itself', () => {
  it("rejects what the contract forbids: zone-less timestamps, non-UUID ids, missing keys, extra error fields", async () => {
    const good = { id: '6f1c1f0e-1b7a-4c59-9a55-2d3f3c1e9b10', name: 'n', created_at: '2026-01-01T12:00:00.123Z', updated_at: '2026-01-01T12:00:00.123Z', registerable: true, deleted: 0, partner_configuration: {} };
    const respond = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    await expectContractResponse(respond(200, good), 200);
    for (const bad of [
      { ...good, created_at: '2025-01-01T12:00:00.123456789' },
      { ...good, id: 'not-a-uuid' },
      { ...good, deleted: 'no' },
    ]) {
      await expect(expectContractResponse(respond(200, bad), 200)).rejects.toThrow();
    }
    const { partner_configuration: _, ...missing } = good;
    await expect(expectContractResponse(respond(200, missing), 200)).rejects.toThrow();
    await expect(expectContractResponse(respond(400, { message: 'x', detail: 'y' }), 400)).rejects.toThrow();
    await expect(expectContractResponse(respond(400, { error: 'x' }), 400)).rejects.toThrow();
  });
});

describe('GET /api/openapi.json', () => {
  it('serves the vendored contract, with servers pointing at this instance', async () => {
    const response = await env.request('/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ ...openapi, servers: [{ url: 'http://gateway.test', description: 'This gateway' }] });
  });
});
