// The example TypeScript client (examples/client): its generated code is current, and its operations
// run by hash against a server in trusted-documents mode loading the generated persisted-documents.json.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, GatewayError } from '../examples/client/src/client.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { loadConfig } from '../src/config.js';
import { initORM } from '../src/db/orm.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createScratchDatabase, usingPostgres } from './helpers.js';

const run = promisify(execFile);
const PERSISTED = path.resolve('examples/client/src/gql/persisted-documents.json');

let server: RunningServer;
let dataDir: string;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let key: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-client-'));
  scratch = usingPostgres ? await createScratchDatabase() : undefined;
  const config = { ...loadConfig({ PORT: '0', DATA_DIR: dataDir, PERSISTED_OPERATIONS_FILE: PERSISTED, LOG_LEVEL: 'silent', CREATE_LIMIT_PER_MINUTE: '0' /* 120 creates by one user */ }), databaseUrl: scratch?.url };
  if (scratch) {
    // PostgreSQL: make the key first, then serve (embedded: the key is made through the running server's database below).
    const db = await initORM(config, { migrate: true });
    key = (await createApiKey(db.orm.em.fork(), { email: 'client@example.com' })).key;
    await db.close();
  }
  server = await startServer(config, createLogger('silent'));
  if (!scratch) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'create-api-key', '--email', 'client@example.com'], {
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    });
    key = stdout.trimEnd().split('\n').at(-1)!;
  }
}, 120_000);

afterAll(async () => {
  await server?.close();
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('has generated code and persisted-documents.json that match schema.graphql and its operations (npm run codegen)', async () => {
  // --check exits 1 and names the stale files when the committed output differs from a fresh run.
  const result = await run('npx', ['graphql-codegen', '--config', 'examples/client/codegen.ts', '--check']).then(
    () => 'current',
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  expect(result).toBe('current');
}, 120_000);

it("runs the client's typed operations by hash: create, then page through every organization", async () => {
  const client = createClient(`${server.url}/graphql`, key);
  const made: string[] = [];
  for (let i = 0; i < 120; i++) {
    const result = await client.createOrganization(`Typed client ${i}`);
    expect(result.createOrganization.__typename).toBe('Organization');
    if (result.createOrganization.__typename === 'Organization') made.push(result.createOrganization.id);
  }
  const taken = await client.createOrganization('Typed client 0');
  expect(taken.createOrganization).toEqual({ __typename: 'OrganizationNameTakenError', message: 'An organization named "Typed client 0" already exists' });

  const seen: string[] = [];
  for await (const organization of client.organizations(50)) seen.push(organization.id);
  expect(seen).toEqual(made);
});

it('refuses a document that is not in the trusted list', async () => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ viewer { email } }' }),
  });
  expect(response.status).toBe(400);
  expect((await response.json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_ONLY');
  const client = createClient(`${server.url}/graphql`, key);
  await expect(client.execute({ kind: 'Document', definitions: [], __meta__: { hash: 'sha256:0000' } } as never, {})).rejects.toBeInstanceOf(GatewayError);
});
