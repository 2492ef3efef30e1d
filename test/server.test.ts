// The real HTTP server: embedded data directory persistence, its lock, health and graceful shutdown.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.js';
import { loadConfig, type Config } from '../src/config.js';
import { DataDirInUseError } from '../src/db/data-dir-lock.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { initORM } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { CREATE_ORGANIZATION, createScratchDatabase, createTestEnv, usingPostgres, type TestEnv } from './helpers.js';

const silent = createLogger('silent');
let dataDir: string;
let config: Config;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-server-'));
  config = loadConfig({ PORT: '0', DATA_DIR: dataDir });
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function post(url: string, key: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: any };
}

describe('embedded mode', () => {
  it('keeps data across a restart and locks the data directory while running', async () => {
    const setup = await initORM(config, { migrate: true });
    const { key } = await createApiKey(setup.orm.em.fork(), { email: 'persist@example.com' });
    await setup.close();

    const first = await startServer(config, silent);
    let orgId: string;
    try {
      const created = await post(first.url, key, CREATE_ORGANIZATION, { name: 'Survives Restarts' });
      orgId = created.data.createOrganization.id;
      expect(orgId).toBeTruthy();
      // A second process (or a second open in this one) must not open the same data directory.
      await expect(initORM(config)).rejects.toBeInstanceOf(DataDirInUseError);
    } finally {
      await first.close();
    }

    const second = await startServer(config, silent);
    try {
      const found = await post(second.url, key, 'query ($id: ID!) { organization(id: $id) { id name } }', { id: orgId });
      expect(found).toEqual({ data: { organization: { id: orgId, name: 'Survives Restarts' } } });
    } finally {
      await second.close();
    }
  });
});

describe('migrations', () => {
  it.runIf(usingPostgres)('(PostgreSQL only) lets instances that start together apply them once, in turn', async () => {
    const scratch = await createScratchDatabase();
    try {
      const dbs = await Promise.all([1, 2, 3].map(() => initORM({ databaseUrl: scratch.url, dataDir: '' }, { migrate: true })));
      const applied = await dbs[0]!.orm.em.fork().getConnection().execute('select name from mikro_orm_migrations order by id');
      expect(applied).toEqual(migrationsList.map(({ name }) => ({ name })));
      await Promise.all(dbs.map((db) => db.close()));
    } finally {
      await scratch.drop();
    }
  });
});

/** The database goes away under a running app: PostgreSQL refuses the scratch database, or the embedded one stops. */
async function makeUnreachable(env: TestEnv): Promise<void> {
  if (!env.databaseUrl) return env.db.close(); // stops the embedded database's server; the ORM cannot reconnect
  const name = new URL(env.databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`alter database "${name}" with allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
  } finally {
    await admin.end();
  }
}

describe('health', () => {
  it('is 200 {"status":"ok"} while the database answers and 503 when it does not', async () => {
    const env = await createTestEnv();
    const ok = await env.request('/api/health');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await ok.json()).toEqual({ status: 'ok' });
    await makeUnreachable(env);
    const down = await env.request('/api/health');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable' });
    await env.close();
  });
});

describe('requests Node refuses before the app', () => {
  it('answers oversized headers with 431 and a JSON {"message"} body, and keeps serving', async () => {
    const server = await startServer(config, silent);
    try {
      const { port } = new URL(server.url);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`POST /api/organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'x'.repeat(20_000)}\r\n\r\n`);
        });
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(raw).toContain('Content-Type: application/json');
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
        message: 'Request Header Fields Too Large: the request headers are larger than the server accepts',
      });
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('turns readiness to 503 for SHUTDOWN_DELAY_MS while still serving, then closes', async () => {
    const delayed = loadConfig({ PORT: '0', DATA_DIR: dataDir, SHUTDOWN_DELAY_MS: '1500' });
    const server = await startServer(delayed, silent);
    expect((await fetch(`${server.url}/api/ready`)).status).toBe(200);
    const closed = server.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ready = await fetch(`${server.url}/api/ready`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'draining' }]);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    await closed;
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  });

  it('stops accepting, but answers a request that was already in flight', async () => {
    const setup = await initORM(config, { migrate: true });
    const { key } = await createApiKey(setup.orm.em.fork(), { email: 'shutdown@example.com' });
    await setup.close();
    const server = await startServer(config, silent);
    const { port } = new URL(server.url);

    const body = JSON.stringify({ query: CREATE_ORGANIZATION, variables: { name: 'In Flight' } });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      // Send half the body, start the shutdown, then finish the request.
      req.write(body.slice(0, 20));
      setTimeout(() => {
        closed = server.close();
        setTimeout(() => req.end(body.slice(20)), 200);
      }, 100);
    });
    let closed: Promise<void> | undefined;

    const result = await answer;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).data.createOrganization).toMatchObject({ __typename: 'Organization', name: 'In Flight' });
    await closed;
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  });

  it('ends open live update streams on shutdown with `event: complete` and a clean end, then closes', async () => {
    const setup = await initORM(config, { migrate: true });
    const { key } = await createApiKey(setup.orm.em.fork(), { email: 'shutdown-stream@example.com' });
    await setup.close();
    const server = await startServer(config, silent);
    const body = JSON.stringify({ query: 'subscription { organizationEvents { kind } }' });
    let text = '';
    const first = Promise.withResolvers<void>();
    const ended = new Promise<{ status: number; aborted: boolean }>((resolve, reject) => {
      const req = http.request(
        `${server.url}/graphql`,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            first.resolve();
          });
          res.on('end', () => resolve({ status: res.statusCode!, aborted: res.errored !== null }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    await first.promise; // the first ping: the stream is open
    await server.close();
    expect(await ended).toEqual({ status: 200, aborted: false });
    expect(text.startsWith(':\n\n')).toBe(true);
    expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  });
});
