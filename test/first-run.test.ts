// What a newcomer does: start the embedded server, create a key with the CLI in another process while
// the server runs, use it at once over GraphQL and REST, and find the data again after a restart.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from './helpers.js';
import { CLI, postJson, startServerProcess, type ServerProcess } from './processes.js';

const run = promisify(execFile);

describe.skipIf(usingPostgres)('first run on an embedded data directory (embedded runs)', () => {
  let dataDir: string;
  let server: ServerProcess;
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: undefined, LOG_LEVEL: 'warn', npm_lifecycle_event: undefined });

  async function cli(args: string[]) {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...env() };
    for (const name of Object.keys(childEnv)) if (childEnv[name] === undefined) delete childEnv[name];
    return run(CLI[0], [...CLI.slice(1), ...args], { env: childEnv as NodeJS.ProcessEnv, timeout: 60_000 });
  }
  const keyFrom = (stdout: string) => stdout.trimEnd().split('\n').at(-1)!;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-first-run-'));
    server = await startServerProcess(env());
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says on start how to get a key now, with the command that works while it runs', async () => {
    await expect.poll(() => server.output(), { timeout: 5_000 }).toContain('No API key yet.');
    expect(server.output()).toContain(`No API key yet. Create one now, in another terminal (this server keeps running):\n  DATA_DIR=${dataDir} npx trieve-gateway create-api-key --email you@example.com --role owner\n`);
  });

  it('creates a key while the server runs, usable at once over GraphQL and REST', async () => {
    const { stdout, stderr } = await cli(['create-api-key', '--email', 'newcomer@example.com']);
    const key = keyFrom(stdout);
    expect(key).toMatch(/^tru_[0-9A-Za-z]{36}$/);
    expect(stdout).toContain('for newcomer@example.com');
    expect(stderr).toBe('');
    // The lock file names the admin socket; it is a socket only this user can use.
    const [, socket] = readFileSync(path.join(dataDir, 'gateway.lock'), 'utf8').split('\n');
    expect(socket).toBe(path.join(dataDir, 'gateway.sock'));

    const graphql = await postJson(server.url, '/graphql', { authorization: `Bearer ${key}` }, {
      query: 'mutation { createOrganization(input: { name: "First over GraphQL" }) { __typename ... on Organization { id name } } }',
    });
    expect(graphql).toMatchObject({ status: 200, body: { data: { createOrganization: { __typename: 'Organization', name: 'First over GraphQL' } } } });
    const rest = await postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: 'First over REST' });
    expect(rest).toMatchObject({ status: 200, body: { name: 'First over REST' } });
  });

  it('runs two CLIs at once while the server is busy with creates, and migrate answers through the server', async () => {
    const { stdout } = await cli(['create-api-key', '--email', 'busy@example.com']);
    const key = keyFrom(stdout);
    const creates = Array.from({ length: 25 }, (_, i) => postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: `busy ${i}` }));
    const [a, b, migrate] = await Promise.all([
      cli(['create-api-key', '--email', 'concurrent-a@example.com']),
      cli(['create-api-key', '--email', 'concurrent-b@example.com']),
      cli(['migrate']),
    ]);
    const answers = await Promise.all(creates);
    expect(answers.map((r) => ('status' in r ? r.status : r))).toEqual(Array(25).fill(200));
    expect(keyFrom(a.stdout)).not.toBe(keyFrom(b.stdout));
    expect(migrate.stdout).toBe('Database is up to date\n');
    for (const fresh of [keyFrom(a.stdout), keyFrom(b.stdout)]) {
      const viewer = await postJson(server.url, '/graphql', { authorization: `Bearer ${fresh}` }, { query: '{ viewer { email } }' });
      expect(viewer).toMatchObject({ status: 200, body: { data: { viewer: { email: expect.stringMatching(/^concurrent-[ab]@example\.com$/) } } } });
    }
  });

  it('lists, revokes (refused by the running server at once) and makes organization keys while the server runs', async () => {
    const { stdout } = await cli(['create-api-key', '--email', 'keys@example.com', '--role', 'owner', '--name', 'laptop']);
    const key = keyFrom(stdout);
    const created = await postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: 'CLI keys' });
    const organizationId = (created as { body: { id: string } }).body.id;
    const orgKeyRun = await cli(['create-api-key', '--organization', organizationId, '--role', 'admin', '--name', 'deploy']);
    const orgKey = keyFrom(orgKeyRun.stdout);
    expect(orgKey).toMatch(/^tro_[0-9A-Za-z]{36}$/);
    expect(orgKeyRun.stdout).toContain(`for organization ${organizationId} (it acts only there)`);
    const read = await fetch(`${server.url}/api/organization/${organizationId}`, { headers: { authorization: `Bearer ${orgKey}`, 'tr-organization': organizationId } });
    expect(read.status).toBe(200);

    const listed = await cli(['list-api-keys', '--email', 'keys@example.com', '--json']);
    const [laptop] = JSON.parse(listed.stdout) as Array<{ id: string; name: string; status: string; hint: string; lastUsedAt: string | null }>;
    expect(laptop).toMatchObject({ name: 'laptop', status: 'active', hint: `tru_…${key.slice(-4)}` });
    expect(listed.stdout).not.toContain(key);
    const table = await cli(['list-api-keys', '--organization', organizationId]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+SCOPE\s+STATUS\s+HINT\s+CREATED\s+EXPIRES\s+LAST USED$/);
    expect(table.stdout).toMatch(/deploy\s+admin\s+organization\s+active\s+tro_…/);

    const revoked = await cli(['revoke-api-key', '--id', laptop!.id]);
    expect(revoked.stdout).toContain(`Revoked API key "laptop" (id ${laptop!.id}`);
    // The server was told through its socket: refused now, not after the cache's lifetime.
    const refused = await postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: 'After revoke' });
    expect(refused).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
    await expect(cli(['revoke-api-key', '--id', '3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b'])).rejects.toMatchObject({ code: 1, stderr: 'API key not found: no key with this id that you may manage\n' });
  });

  it('keeps everything across a restart, and no longer asks for a first key', async () => {
    const { stdout } = await cli(['create-api-key', '--email', 'restart@example.com']);
    const key = keyFrom(stdout);
    await postJson(server.url, '/api/organization', { authorization: `Bearer ${key}` }, { name: 'Survives restarts' });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    server = await startServerProcess(env());
    expect(server.output()).not.toContain('No API key yet');
    const viewer = await postJson(server.url, '/graphql', { authorization: `Bearer ${key}` }, { query: '{ viewer { organizations { edges { node { name } } } } }' });
    expect(viewer).toMatchObject({ status: 200, body: { data: { viewer: { organizations: { edges: [{ node: { name: 'Survives restarts' } }] } } } } });
  });
});
