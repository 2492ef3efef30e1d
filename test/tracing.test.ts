// OpenTelemetry: a server process exporting to an OTLP/HTTP receiver started here on loopback. A create
// over GraphQL and one over REST each arrive as one trace that continues the caller's `traceparent`:
// HTTP server span -> GraphQL (or REST) operation span -> SQL statement spans, with no key, key hash,
// e-mail, organization name, idempotency key or SQL value anywhere in what was exported, and log lines
// carrying the trace id. Without the OTEL variables, nothing of the SDK is loaded.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, hashApiKey } from '../src/auth/api-keys.js';
import { initORM } from '../src/db/orm.js';
import { sanitizeSql } from '../src/telemetry-sdk.js';
import { startTracingIfRequested, tracingRequested } from '../src/telemetry.js';
import { createScratchDatabase, usingPostgres } from './helpers.js';
import { postJson, startServerProcess, type ServerProcess } from './processes.js';

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links?: { traceId: string; spanId: string }[];
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  scope: string;
};

const SERVER = 2;
const tag = randomBytes(4).toString('hex');
const names = { graphql: `Traced GraphQL ${tag}`, rest: `Traced REST O'Brien \\ ${tag}` };
const idempotencyKey = `trace-idem-${tag}`;
const email = `tracing-${tag}@example.com`;
const traceparent = (traceId: string, parentId: string) => `00-${traceId}-${parentId}-01`;
const callers = {
  graphql: { traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') },
  rest: { traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') },
};

let receiver: http.Server;
let receiverUrl: string;
const payloads: string[] = [];
let server: ServerProcess;
let key: string;
/** An owner's key, and every key secret made during the run: none may reach a span, a log line or /metrics. */
let ownerKey: string;
const secrets: string[] = [];
let dataDir: string;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;

function spans(): OtlpSpan[] {
  return payloads.flatMap((text) =>
    (JSON.parse(text).resourceSpans ?? []).flatMap((rs: any) =>
      rs.scopeSpans.flatMap((ss: any) => ss.spans.map((span: any) => ({ ...span, scope: ss.scope.name }))),
    ),
  );
}
const attribute = (span: OtlpSpan, name: string) => {
  const found = span.attributes.find((a) => a.key === name);
  return found && Object.values(found.value)[0];
};

beforeAll(async () => {
  receiver = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') payloads.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

  dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-tracing-'));
  scratch = usingPostgres ? await createScratchDatabase() : undefined;
  const config = { databaseUrl: scratch?.url, dataDir };
  const db = await initORM(config, { migrate: true });
  try {
    key = (await createApiKey(db.orm.em.fork(), { email })).key;
    ownerKey = (await createApiKey(db.orm.em.fork(), { email, role: 'owner' })).key;
    secrets.push(key, ownerKey);
  } finally {
    await db.close();
  }
  server = await startServerProcess({
    DATABASE_URL: scratch?.url ?? '',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_SERVICE_NAME: 'gateway-under-test',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    // One create statement in flight: concurrent creates share the next one (the batch test below).
    CREATE_STATEMENTS_IN_FLIGHT: '1',
  });
}, 120_000);

afterAll(async () => {
  if (server?.child.exitCode === null) server.child.kill('SIGTERM');
  await server?.exited;
  await new Promise((resolve) => receiver?.close(resolve));
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('exports a create over GraphQL and one over REST as traces continuing the callers\' traceparent: HTTP -> operation -> SQL', async () => {
    const graphql = await postJson(
      server.url,
      '/graphql',
      { authorization: `Bearer ${key}`, traceparent: traceparent(callers.graphql.traceId, callers.graphql.parentId) },
      { query: 'mutation TracedCreate($name: String!) { createOrganization(input: { name: $name }) { __typename } }', variables: { name: names.graphql } },
    );
    expect(graphql).toMatchObject({ status: 200, body: { data: { createOrganization: { __typename: 'Organization' } } } });
    const rest = await postJson(
      server.url,
      '/api/organization',
      { authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey, traceparent: traceparent(callers.rest.traceId, callers.rest.parentId) },
      { name: names.rest },
    );
    expect(rest).toMatchObject({ status: 200 });

    const inTrace = (traceId: string) => spans().filter((span) => span.traceId === traceId);
    const complete = (traceId: string) => inTrace(traceId).some((s) => s.scope === '@opentelemetry/instrumentation-http') && inTrace(traceId).some((s) => s.name.startsWith('pg.query'));
    await expect.poll(() => complete(callers.graphql.traceId) && complete(callers.rest.traceId), { timeout: 15_000, interval: 100 }).toBe(true);

    for (const [via, operation, route] of [
      ['graphql', 'mutation.TracedCreate', '/graphql'],
      ['rest', 'mutation.RestCreateOrganization', '/api/organization'],
    ] as const) {
      const trace = inTrace(callers[via].traceId);
      const byId = new Map(trace.map((span) => [span.spanId, span]));
      const ancestors = (span: OtlpSpan): OtlpSpan[] => {
        const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
        return parent ? [parent, ...ancestors(parent)] : [];
      };
      // One HTTP server span, a child of the caller's span.
      const httpSpans = trace.filter((span) => span.scope === '@opentelemetry/instrumentation-http');
      expect(httpSpans).toHaveLength(1);
      const httpSpan = httpSpans[0]!;
      expect(httpSpan).toMatchObject({ kind: SERVER, parentSpanId: callers[via].parentId, name: `POST ${route}` });
      expect([attribute(httpSpan, 'http.route'), attribute(httpSpan, 'http.request.method'), attribute(httpSpan, 'http.response.status_code')]).toEqual([route, 'POST', 200]);
      // The operation, a child of the HTTP span.
      const operationSpan = trace.find((span) => span.name === operation)!;
      expect(operationSpan).toBeDefined();
      expect(operationSpan.parentSpanId).toBe(httpSpan.spanId);
      expect(attribute(operationSpan, 'graphql.execute.operationType')).toBe('mutation');
      // The create statement, under the operation; every statement in the trace under the HTTP span.
      const statements = trace.filter((span) => span.name.startsWith('pg.query'));
      const insert = statements.find((span) => /insert into organizations/.test(String(attribute(span, 'db.query.text'))))!;
      expect(insert).toBeDefined();
      expect(ancestors(insert)).toContain(operationSpan);
      for (const statement of statements) expect(ancestors(statement)).toContain(httpSpan);
      expect(attribute(insert, 'db.system.name')).toBe('postgresql');
    }
  });

  it('shows concurrent creates that shared a statement: each request\'s wait, linked to the statement\'s own span and its SQL', async () => {
    const requests = Array.from({ length: 12 }, (_, i) => ({ traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex'), name: `Traced batch ${tag} ${i}` }));
    const answers = await Promise.all(
      requests.map((r) =>
        postJson(server.url, '/graphql', { authorization: `Bearer ${key}`, traceparent: traceparent(r.traceId, r.parentId) }, {
          query: 'mutation TracedCreate($name: String!) { createOrganization(input: { name: $name }) { __typename } }',
          variables: { name: r.name },
        }),
      ),
    );
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { data: { createOrganization: { __typename: 'Organization' } } } });
    const ours = new Set(requests.map((r) => r.traceId));
    const batches = () => spans().filter((span) => span.name === 'organization.create.batch' && span.links?.some((link) => ours.has(link.traceId)));
    const waits = () => spans().filter((span) => span.name === 'organization.create.wait' && ours.has(span.traceId));
    const withSql = () => batches().filter((batch) => spans().some((span) => span.parentSpanId === batch.spanId && span.name.startsWith('pg.query')));
    await expect.poll(() => withSql().length > 0 && waits().length >= withSql().reduce((n, b) => n + b.links!.length, 0), { timeout: 15_000, interval: 100 }).toBe(true);
    const all = spans();
    for (const batch of withSql()) {
      // Its own trace (no request claims its time), linked to every request that waited for it, and they to it.
      expect(batch.parentSpanId ?? '').toBe('');
      expect(ours.has(batch.traceId)).toBe(false);
      expect(Number(attribute(batch, 'gateway.batch.size'))).toBe(batch.links!.length);
      for (const link of batch.links!) {
        const wait = all.find((span) => span.spanId === link.spanId)!;
        expect(wait).toMatchObject({ name: 'organization.create.wait', traceId: link.traceId });
        expect(wait.links).toEqual([expect.objectContaining({ traceId: batch.traceId, spanId: batch.spanId })]);
        // The wait sits in its request's trace, under its GraphQL operation.
        const above: string[] = [];
        for (let span = wait; span.parentSpanId; ) {
          const parent = all.find((s) => s.spanId === span.parentSpanId);
          if (!parent) break;
          above.push(parent.name);
          span = parent;
        }
        expect(above).toContain('mutation.TracedCreate');
      }
      const insert = all.find((span) => span.parentSpanId === batch.spanId && /insert into organizations/.test(String(attribute(span, 'db.query.text'))));
      expect(insert).toBeDefined();
    }
  });

  it('makes, lists, rotates, revokes and refuses keys over GraphQL and REST (for the check below)', async () => {
    const make = await postJson(server.url, '/graphql', { authorization: `Bearer ${ownerKey}` }, {
      query: 'mutation { createApiKey(input: { name: "traced", role: ADMIN }) { ... on CreatedApiKey { secret apiKey { id } } } }',
    });
    const made = (make as { body: { data: { createApiKey: { secret: string; apiKey: { id: string } } } } }).body.data.createApiKey;
    secrets.push(made.secret);
    const rotate = await postJson(server.url, '/graphql', { authorization: `Bearer ${made.secret}` }, {
      query: 'mutation ($id: ID!) { rotateApiKey(input: { id: $id, gracePeriodSeconds: 0 }) { ... on CreatedApiKey { secret apiKey { id } } } }',
      variables: { id: made.apiKey.id },
    });
    const successor = (rotate as { body: { data: { rotateApiKey: { secret: string; apiKey: { id: string } } } } }).body.data.rotateApiKey;
    secrets.push(successor.secret);
    const org = await postJson(server.url, '/api/organization', { authorization: `Bearer ${ownerKey}` }, { name: `Traced keys ${tag}` });
    const organizationId = (org as { body: { id: string } }).body.id;
    const orgKey = await postJson(server.url, '/api/organization/api_key', { authorization: `Bearer ${ownerKey}`, 'tr-organization': organizationId }, { name: 'traced', role: 1 });
    secrets.push((orgKey as { body: { api_key: string } }).body.api_key);
    const list = await fetch(`${server.url}/api/organization/api_key`, { headers: { authorization: `Bearer ${secrets.at(-1)}`, 'tr-organization': organizationId } });
    expect(list.status).toBe(200);
    const revoke = await postJson(server.url, '/graphql', { authorization: `Bearer ${successor.secret}` }, { query: `mutation { revokeApiKey(id: "${successor.apiKey.id}") { __typename } }` });
    expect(revoke).toMatchObject({ status: 200, body: { data: { revokeApiKey: { __typename: 'ApiKey' } } } });
    const refused = await postJson(server.url, '/graphql', { authorization: `Bearer ${successor.secret}` }, { query: '{ viewer { id } }' });
    expect(refused).toMatchObject({ body: { data: { viewer: null } } });
    await expect.poll(() => server.output(), { timeout: 5000 }).toContain('"audit":"api_key.refused"');
  });

  it('exports, logs and measures no key, key hash, e-mail, organization name, idempotency key or SQL value', async () => {
    const exported = payloads.join('\n');
    expect(exported.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('http_requests_total');
    for (const secret of [...secrets.flatMap((s) => [s, hashApiKey(s)]), email, tag, idempotencyKey, 'Brien']) expect(exported).not.toContain(secret);
    for (const secret of secrets.flatMap((s) => [s, hashApiKey(s), s.slice(4, -4)])) {
      expect(server.output()).not.toContain(secret);
      expect(metrics).not.toContain(secret);
    }
    const statements = spans().map((span) => attribute(span, 'db.query.text')).filter((text): text is string => typeof text === 'string');
    expect(statements.length).toBeGreaterThan(0);
    for (const text of statements) expect(text).not.toMatch(/'/);
  });

  it('puts the trace id on the log lines of a traced request, beside its request id', () => {
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    for (const [via, path] of [['graphql', '/graphql'], ['rest', '/api/organization']] as const) {
      const line = lines.find((l) => l.msg === 'request' && l.path === path && l.trace_id === callers[via].traceId);
      expect(line).toMatchObject({ requestId: expect.any(String), status: 200 });
    }
  });

  it('sends what is left when the server stops', async () => {
    const before = payloads.length;
    const outcome = await postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: `Traced at shutdown ${tag}` });
    expect(outcome).toMatchObject({ status: 200 });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(payloads.length).toBeGreaterThan(before);
  });
});

describe('without the OTEL variables', () => {
  it('loads nothing: tracing is off, and only src/telemetry-sdk.ts (imported on demand) touches the SDK', async () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(await startTracingIfRequested({})).toBeUndefined();
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
      );
    const importers = [...sources('src'), ...sources('rest-adapter')].filter((file) => /from '@(opentelemetry|envelop\/opentelemetry)/.test(readFileSync(file, 'utf8')));
    expect(importers).toEqual([path.join('src', 'telemetry-sdk.ts')]);
    const telemetry = readFileSync('src/telemetry.ts', 'utf8');
    expect(telemetry).toMatch(/await import\('\.\/telemetry-sdk\.js'\)/);
    expect(telemetry).not.toMatch(/^import (?!type ).*telemetry-sdk/m);
  });

  it('writes SQL without its values', () => {
    expect(sanitizeSql(`select * from api_keys where hash = 'abc' and n > 10 and x = $1 and "t1"."a2" = E'x\\\\'''`)).toBe('select * from api_keys where hash = ? and n > ? and x = $1 and "t1"."a2" = ?');
    expect(sanitizeSql(`do $$ begin perform 'secret'; end $$`)).toBe('do ?');
  });
});
