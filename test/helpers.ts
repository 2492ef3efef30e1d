// Test harness: a real database per test file (embedded PGlite in memory, or a fresh PostgreSQL
// database when DATABASE_URL is set, dropped afterwards) and the app called in-process.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { createApp, DEFAULT_APP_CONFIG, type App, type AppConfig } from '../src/app.js';
import { createApiKey } from '../src/auth/api-keys.js';
import type { ApiKeyRoleName } from '../src/entities/api-key.entity.js';
import { initORM, type Database } from '../src/db/orm.js';
import { createLogger, type Logger } from '../src/logger.js';

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** Creates a uniquely named database on the DATABASE_URL server; returns its URL and a drop function. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL!);
  const name = `gateway_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base.toString() });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export type TestEnv = Readonly<{
  db: Database;
  app: App;
  logger: Logger;
  logLines: string[];
  databaseUrl: string | undefined;
  /** A new user (unique email) and a key for them. */
  newUser(options?: { role?: ApiKeyRoleName; expiresAt?: Date | null; email?: string }): Promise<{ key: string; userId: string; email: string }>;
  graphql(query: string, options?: { variables?: Record<string, unknown>; headers?: Record<string, string> }): Promise<{ status: number; body: GraphQLBody; response: Response }>;
  request(path: string, init?: RequestInit): Promise<Response>;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}>;

export type GraphQLBody = { data?: any; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }> };

let userCounter = 0;

export async function createTestEnv(options: Partial<AppConfig> = {}): Promise<TestEnv> {
  const scratch = usingPostgres ? await createScratchDatabase() : undefined;
  const logLines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logLines.push(line) });
  const db = await initORM({ databaseUrl: scratch?.url, dataDir: '' }, { throwAway: true, migrate: true });
  let app: App;
  try {
    app = createApp({ orm: db.orm, config: { ...DEFAULT_APP_CONFIG, ...options }, logger, listen: db.listen });
  } catch (error) {
    // A start-up that fails (tests of bad configuration) still leaves no database behind.
    await db.close();
    await scratch?.drop();
    throw error;
  }
  const request = (path: string, init?: RequestInit) => app.fetch(new Request(`http://gateway.test${path}`, init));
  return Object.freeze({
    db,
    app,
    logger,
    logLines,
    databaseUrl: scratch?.url,
    async newUser({ role = 'read', expiresAt = null, email }: { role?: ApiKeyRoleName; expiresAt?: Date | null; email?: string } = {}) {
      const address = email ?? `user${++userCounter}-${randomBytes(3).toString('hex')}@example.com`;
      const created = await createApiKey(db.orm.em.fork(), { email: address, role, expiresAt });
      return { key: created.key, userId: created.user.id, email: address };
    },
    async graphql(query, { variables, headers = {} } = {}) {
      const response = await request('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLBody, response };
    },
    request,
    sql: async <T,>(text: string, params: unknown[] = []) =>
      (await db.orm.em.fork().getConnection().execute(text, params as never[])) as T[],
    close: async () => {
      await app.close();
      await db.close();
      await scratch?.drop();
      // Every suite's log output, checked: nothing shaped like a key or a key's hash was ever logged.
      const leaked = logLines.filter((line) => SECRET_SHAPES.test(line));
      if (leaked.length > 0) throw new Error(`a key or key hash reached the log:\n${leaked.slice(0, 3).join('\n')}`);
    },
  });
}

/** Anything shaped like an API key (either format) or a SHA-256 hex digest. */
export const SECRET_SHAPES = /tr[uo]_[0-9A-Za-z]{36}|tr-[A-Za-z0-9]{32}|\b[0-9a-f]{64}\b/;

export const CREATE_ORGANIZATION = `
  mutation Create($name: String!) {
    createOrganization(input: { name: $name }) {
      __typename
      ... on Organization { id name createdAt updatedAt deleted registerable partnerConfiguration }
      ... on Error { message }
      ... on ValidationError { field }
      ... on OrganizationNameTakenError { name }
    }
  }
`;

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Counts the statements this process sends through node-postgres (those whose text contains `fragment`, when given), until `restore()`. */
export function countStatements(fragment?: string): { count(): number; restore(): void } {
  let count = 0;
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
    if (fragment === undefined || text?.includes(fragment)) count++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return {
    count: () => count,
    restore: () => {
      pg.Client.prototype.query = original;
    },
  };
}

/** A fresh environment and a user whose creates fail inside the database (the membership table is gone): a failure of ours. Close it. */
export async function createEnvWithFailingCreates(): Promise<{ env: TestEnv; key: string }> {
  const env = await createTestEnv();
  const { key } = await env.newUser();
  await env.sql('alter table user_organizations rename to user_organizations_gone');
  return { env, key };
}

export type Person = Readonly<{ key: string; userId: string; email: string }>;

/**
 * An organization made over REST by its owner, with an admin and a user added over GraphQL. Each of the
 * three holds an owner key, so their role in the organization is their membership's.
 */
export async function makeTeam(env: TestEnv, name: string): Promise<{ id: string; owner: Person; admin: Person; user: Person }> {
  const [owner, admin, user] = [await env.newUser({ role: 'owner' }), await env.newUser({ role: 'owner' }), await env.newUser({ role: 'owner' })];
  const created = await env.request('/api/organization', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(owner.key) }, body: JSON.stringify({ name }) });
  expect(created.status).toBe(200);
  const id = ((await created.json()) as { id: string }).id;
  for (const [who, role] of [
    [admin, 'ADMIN'],
    [user, 'USER'],
  ] as const) {
    const { body } = await env.graphql('mutation ($input: AddMemberInput!) { addMember(input: $input) { __typename } }', { variables: { input: { organizationId: id, email: who.email, role } }, headers: bearer(owner.key) });
    expect(body.data.addMember.__typename).toBe('Membership');
  }
  return { id, owner, admin, user };
}

/** The app on a loopback port for the enclosing suite, for clients that want a URL (trieve-ts-sdk); `url()` once it listens. */
export function serveOnLoopback(env: () => TestEnv): { url(): string } {
  let server: http.Server | undefined;
  let url = '';
  beforeAll(async () => {
    server = http.createServer(env().app.handleNodeRequest);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  return { url: () => url };
}
