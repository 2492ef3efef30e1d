// What an anonymous caller can make the server do (issue "Hardening II"): metrics labels and
// exposure, the GraphiQL page's weight, CORS, masking under NODE_ENV=development, client aborts,
// floods of unknown keys, the statement timeout, and the purge of expired idempotency records.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { initORM } from '../src/db/orm.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { createLogger } from '../src/logger.js';
import { purgeExpiredIdempotencyKeys } from '../src/organizations/organizations.js';
import { startServer } from '../src/server.js';
import { bearer, countStatements, createEnvWithFailingCreates, createScratchDatabase, createTestEnv, usingPostgres, type TestEnv } from './helpers.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

describe('metrics', () => {
  it('take labels only from closed sets: nothing from the query string, Host or operation names', async () => {
    const { key } = await env.newUser();
    const secret = 'tr-SECRETSECRETSECRETSECRETSECRET1';
    for (let i = 0; i < 5; i++) {
      await env.request(`/graphql?api_key=${secret}&n=${i}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', host: `evil-${i}.example`, ...bearer(key) },
        body: JSON.stringify({ query: `query Probe${i}x${secret.slice(3, 9)} { viewer { id } }` }),
      });
    }
    const text = await (await env.request('/metrics')).text();
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('evil-');
    expect(text).not.toContain('Probe');
    expect(text).not.toContain('api_key');
    expect(text).toMatch(/^http_requests_total\{route="\/graphql",method="POST",status="200"\} [1-9]/m);
  });

  // Who may read /metrics without a token: test/hardening-3.test.ts.
});

describe('the GraphiQL page', () => {
  const page = (headers: Record<string, string>) => env.request('/graphql', { headers: { accept: 'text/html', ...headers } });

  it('is compressed and revalidated by ETag: a repeat visit is a 304 without a body', async () => {
    const plain = await page({});
    const raw = Buffer.from(await plain.arrayBuffer());
    expect(raw.length).toBeGreaterThan(1_000_000);
    const etag = plain.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(plain.headers.get('cache-control')).toBe('no-cache');

    for (const encoding of ['br', 'gzip'] as const) {
      // fetch() would decode it; the in-process Response keeps the compressed bytes and the header.
      const compressed = await page({ 'accept-encoding': encoding === 'br' ? 'gzip, deflate, br' : 'gzip' });
      expect(compressed.headers.get('content-encoding')).toBe(encoding);
      expect(compressed.headers.get('vary')).toBe('Accept-Encoding');
      const bytes = Buffer.from(await compressed.arrayBuffer());
      expect(bytes.length).toBeLessThan(raw.length / 3);
    }
    const again = await page({ 'if-none-match': etag, 'accept-encoding': 'br' });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    expect(raw.toString()).not.toMatch(/https:\/\/(unpkg|cdn)/);
  });
});

describe('CORS', () => {
  const preflight = (e: TestEnv, origin: string) =>
    e.request('/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

  it('answers no CORS headers by default, never reflecting an origin with credentials', async () => {
    for (const route of ['/graphql', '/metrics', '/api/organization']) {
      const response = await env.request(route, { headers: { origin: 'https://evil.example' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const response = await preflight(env, 'https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the listed origins, without credentials', async () => {
    const listed = await createTestEnv({ corsOrigins: ['https://app.example.com'] });
    try {
      const ok = await preflight(listed, 'https://app.example.com');
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
      expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      const other = await preflight(listed, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await listed.close();
    }
  });
});

describe('masking', () => {
  it('stays on with NODE_ENV=development: no message, stack or original error reaches the client', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    const { env: dev, key } = await createEnvWithFailingCreates();
    try {
      const { body } = await dev.graphql('mutation { createOrganization(input: { name: "boom" }) { __typename } }', { headers: bearer(key) });
      expect(body.errors).toEqual([{ message: 'Unexpected error.', locations: expect.any(Array), path: ['createOrganization'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(JSON.stringify(body)).not.toMatch(/user_organizations|stack|originalError/);
    } finally {
      process.env.NODE_ENV = previous;
      await dev.close();
    }
  });
});

describe('client aborts', () => {
  it('are the client\'s (499, logged at debug), not failures of ours', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-abort-'));
    const scratch = usingPostgres ? await createScratchDatabase() : undefined;
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    const config = { ...loadConfig({ PORT: '0', DATA_DIR: dataDir, STATEMENT_TIMEOUT_MS: '0' }), databaseUrl: scratch?.url };
    // A key: REST reads the body of an authenticated request only (an anonymous one is 401 unread).
    const keyDb = await initORM(config, { migrate: true });
    const { key } = await createApiKey(keyDb.orm.em.fork(), { email: 'aborter@example.com' });
    await keyDb.close();
    const server = await startServer(config, logger);
    try {
      const { port } = new URL(server.url);
      for (const route of ['/api/organization', '/graphql']) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => {
            socket.write(`POST ${route} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`);
            setTimeout(() => socket.destroy(), 150);
          });
          socket.on('close', () => resolve());
        });
      }
      await expect.poll(() => lines.filter((l) => l.includes('"msg":"request"')).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
      const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string; status?: number });
      expect(entries.filter((e) => e.level >= 50)).toEqual([]);
      expect(entries.some((e) => e.msg === 'client closed the request before it was read' && e.level === 20)).toBe(true);
      const statuses = entries.filter((e) => e.msg === 'request').map((e) => e.status);
      expect(statuses, JSON.stringify(entries)).toEqual([499, 499]);
    } finally {
      await server.close();
      await scratch?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('unknown API keys', () => {
  it('cost at most one lookup per key while cached, and none for a credential of another shape', async () => {
    const lookups = countStatements('where k.hash = '); // key lookups only (not the once-a-minute last-used write)
    try {
      const unknown = 'tr-unknownunknownunknownunknown1234';
      for (let i = 0; i < 20; i++) {
        const { body } = await env.graphql('{ viewer { id } }', { headers: bearer(unknown) });
        expect(body).toEqual({ data: { viewer: null } });
      }
      expect(lookups.count()).toBe(1);
      for (let i = 0; i < 20; i++) await env.graphql('{ viewer { id } }', { headers: bearer(`not-a-key-${i}`) });
      expect(lookups.count()).toBe(1);
    } finally {
      lookups.restore();
    }
  });

  it('never hide a key created a moment ago: it works on its first request', async () => {
    const { key, userId } = await env.newUser();
    const { body } = await env.graphql('{ viewer { id } }', { headers: bearer(key) });
    expect(body.data.viewer.id).toBe(userId);
  });
});

// The statement timeout: test/statement-timeout.test.ts.

describe('expired idempotency records', () => {
  it('are purged in bounded batches, the fresh ones kept', async () => {
    const { userId } = await env.newUser();
    await env.sql(
      `insert into idempotency_keys (user_id, key, request_hash, organization_id, created_at)
       select ?, 'old-' || i, 'h', gen_random_uuid(), now() - interval '25 hours' from generate_series(1, 25) i`,
      [userId],
    );
    await env.sql(`insert into idempotency_keys (user_id, key, request_hash, organization_id, created_at) values (?, 'fresh', 'h', gen_random_uuid(), now())`, [userId]);
    expect(await purgeExpiredIdempotencyKeys(env.db.orm.em.fork(), 10)).toBe(10);
    expect(await purgeExpiredIdempotencyKeys(env.db.orm.em.fork(), 10)).toBe(10);
    expect(await purgeExpiredIdempotencyKeys(env.db.orm.em.fork(), 10)).toBe(5);
    expect(await purgeExpiredIdempotencyKeys(env.db.orm.em.fork(), 10)).toBe(0);
    expect(await env.sql('select key from idempotency_keys where user_id = ?', [userId])).toEqual([{ key: 'fresh' }]);
  });
});

describe('database failures in logs', () => {
  it('carry SQLSTATE and class only: no statement, no parameter values, on the create and idempotency paths', async () => {
    const { env: broken, key } = await createEnvWithFailingCreates();
    try {
      const name = 'Secret Name 7f3a';
      const idempotencyKey = 'idem-key-9c1e';
      const gql = await broken.graphql('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename } }', {
        variables: { input: { name, idempotencyKey } },
        headers: bearer(key),
      });
      expect(gql.body.errors?.[0]?.message).toBe('Unexpected error.');
      const rest = await broken.request('/api/organization', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${idempotencyKey}-rest`, ...bearer(key) },
        body: JSON.stringify({ name: `${name} rest` }),
      });
      expect(rest.status).toBe(500);
      const plain = await broken.graphql('mutation($n: String!) { createOrganization(input: { name: $n }) { __typename } }', { variables: { n: `${name} plain` }, headers: bearer(key) });
      expect(plain.body.errors?.[0]?.message).toBe('Unexpected error.');

      const failures = broken.logLines.map((l) => JSON.parse(l) as { level: number; err?: { sqlState?: string; sqlStateClass?: string } }).filter((e) => e.level >= 50);
      expect(failures.length).toBeGreaterThanOrEqual(3);
      for (const failure of failures) expect(failure.err).toMatchObject({ type: 'DatabaseError', sqlState: '42P01', sqlStateClass: '42' });
      const text = broken.logLines.join('\n');
      for (const secret of [name, idempotencyKey, 'insert into', 'user_organizations', key]) expect(text).not.toContain(secret);
    } finally {
      await broken.close();
    }
  });
});
