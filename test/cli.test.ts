// The CLI as a user runs it: a child process, real exit codes and output.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, resolveViewer } from '../src/auth/api-keys.js';
import { initORM } from '../src/db/orm.js';
import { createScratchDatabase, usingPostgres } from './helpers.js';
import { CLI } from './processes.js';

const run = promisify(execFile);

type Result = { code: number; stdout: string; stderr: string };

async function cli(args: string[], env: Record<string, string | undefined>): Promise<Result> {
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn', ...env };
  if (env.DATABASE_URL === undefined) delete childEnv.DATABASE_URL;
  try {
    const { stdout, stderr } = await run(CLI[0], [...CLI.slice(1), ...args], { env: childEnv as NodeJS.ProcessEnv, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)!;

let dataDir: string;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let dbEnv: Record<string, string | undefined>;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-cli-'));
  scratch = usingPostgres ? await createScratchDatabase() : undefined;
  dbEnv = { DATA_DIR: dataDir, DATABASE_URL: scratch?.url };
});
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await scratch?.drop();
});

describe('create-api-key', () => {
  it('creates the user and prints a working key alone on the last line of stdout', async () => {
    const result = await cli(['create-api-key', '--email', 'cli@example.com', '--name', 'laptop', '--role', 'admin'], dbEnv);
    expect(result).toMatchObject({ code: 0 });
    const key = lastLine(result.stdout);
    expect(key).toMatch(/^tru_[0-9A-Za-z]{36}$/);
    expect(result.stdout).toContain('for cli@example.com');
    expect(result.stderr).not.toContain(key);

    const second = await cli(['create-api-key', '--email', 'cli@example.com'], dbEnv);
    expect(second.code).toBe(0);
    const secondKey = lastLine(second.stdout);
    expect(secondKey).not.toBe(key);

    const db = await initORM({ databaseUrl: scratch?.url, dataDir });
    try {
      const em = db.orm.em.fork();
      const first = await resolveViewer(em, key);
      const other = await resolveViewer(em, secondKey);
      expect(first).toMatchObject({ role: 1, user: { email: 'cli@example.com' } });
      expect(other).toMatchObject({ role: 0 });
      expect(other!.user!.id).toBe(first!.user!.id);
      const rows = await em.getConnection().execute('select label, hash from api_keys order by created_at');
      expect(rows).toEqual([
        { label: 'laptop', hash: hashApiKey(key) },
        { label: 'default', hash: hashApiKey(secondKey) },
      ]);
    } finally {
      await db.close();
    }
  });

  it('sets an expiry with --expires-in-days', async () => {
    const result = await cli(['create-api-key', '--email', 'temp@example.com', '--expires-in-days', '7'], dbEnv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/expires \d{4}-\d{2}-\d{2}T/);
  });

  it('lists and revokes keys, and makes organization keys, with the server not running', async () => {
    const made = await cli(['create-api-key', '--email', 'lister@example.com', '--name', 'first', '--role', 'owner'], { ...dbEnv, LOG_LEVEL: 'info' });
    expect(made.code).toBe(0);
    // The audit line goes to stderr (stdout is the answer): ids only.
    const audit = JSON.parse(made.stderr.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(audit).toMatchObject({ audit: 'api_key.created', via: 'cli', actingKeyId: null, keyId: expect.any(String) });
    expect(made.stderr).not.toContain(lastLine(made.stdout));
    const listed = await cli(['list-api-keys', '--email', 'lister@example.com', '--json'], dbEnv);
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; name: string; role: string; scope: string; status: string }>;
    expect(keys).toEqual([expect.objectContaining({ id: audit.keyId, name: 'first', role: 'owner', scope: 'user', status: 'active' })]);
    const nobody = await cli(['list-api-keys', '--email', 'nobody@example.com'], dbEnv);
    expect(nobody.stdout).toBe('No API keys.\n');
    const revoked = await cli(['revoke-api-key', '--id', keys[0]!.id], dbEnv);
    expect(revoked.code).toBe(0);
    expect(JSON.parse((await cli(['list-api-keys', '--email', 'lister@example.com', '--json'], dbEnv)).stdout)[0]).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    const missing = await cli(['create-api-key', '--organization', '3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b'], dbEnv);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain('Organization not found');
  });

  it.each([
    [['create-api-key', '--email', 'a@b.c', '--organization', '3f0c0e8e-2a4e-4b8a-9d3c-0c7d1f1e2a3b'], /one of them/],
    [['create-api-key', '--organization', 'acme'], /--organization must be an organization id/],
    [['list-api-keys'], /list-api-keys needs --email <email> or --organization <id>/],
    [['revoke-api-key'], /revoke-api-key needs --id/],
    [['revoke-api-key', '--id', 'nope'], /revoke-api-key needs --id <key id> \(a UUID/],
    [['create-api-key'], /needs --email/],
    [['create-api-key', '--email', 'not-an-email'], /needs --email/],
    [['create-api-key', '--email', 'a@b.c', '--role', 'root'], /--role must be read, admin or owner, got "root"/],
    [['create-api-key', '--email', 'a@b.c', '--expires-in-days', '0'], /--expires-in-days must be a whole number/],
    [['create-api-key', '--email', 'a@b.c', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /Unknown command "frobnicate"/],
  ])('refuses %j with usage help and exit code 2', async (args, message) => {
    const result = await cli(args, dbEnv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: trieve-gateway');
    expect(result.stdout).toBe('');
  });
});

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'eighty' }, 'Invalid configuration: PORT must be a whole number, got "eighty"'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'Invalid configuration: DATABASE_URL must start with postgres:// or postgresql://, got "mysql://"'],
    [{ MIGRATE_ON_START: 'sometimes' }, 'Invalid configuration: MIGRATE_ON_START must be true or false, got "sometimes"'],
  ])('stops `serve` with one line naming the variable: %o', async (env, line) => {
    const result = await cli(['serve'], { ...dbEnv, ...env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${line}\n`);
  });
});

describe('serve', () => {
  it('starts, prints where GraphQL listens, answers health, and exits 0 on SIGTERM', async () => {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...dbEnv, PORT: '0', LOG_LEVEL: 'info' };
    if (childEnv.DATABASE_URL === undefined) delete childEnv.DATABASE_URL;
    const child = spawn(CLI[0], [...CLI.slice(1), 'serve'], { env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => /GraphQL and GraphiQL: (http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(stdout)?.[1], { timeout: 30_000 }).toBeTruthy();
      const url = /GraphQL and GraphiQL: (http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(stdout)![1];
      const health = await fetch(`${url}/api/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const logs = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(logs.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['listening', 'request', 'shutting down: finishing in-flight requests', 'stopped']));
  });
});

describe('print-schema and migrate', () => {
  it('prints the committed SDL', async () => {
    const result = await cli(['print-schema'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync('schema.graphql', 'utf8'));
  });

  it('migrate is idempotent', async () => {
    const result = await cli(['migrate'], dbEnv);
    expect(result).toMatchObject({ code: 0, stdout: 'Database is up to date\n' });
  });
});

// Embedded mode in both CI runs: these talk to the data directory, never to DATABASE_URL.
describe('embedded data directory in use', () => {
  const embeddedEnv = () => ({ DATA_DIR: dataDir, DATABASE_URL: undefined });
  it('exits non-zero with a clear message while another live process holds it, and touches nothing', async () => {
    const lock = path.join(dataDir, 'gateway.lock');
    // Our own test runner's parent is alive and is not the CLI: it stands in for a running server.
    writeFileSync(lock, String(process.ppid));
    try {
      const result = await cli(['create-api-key', '--email', 'blocked@example.com'], embeddedEnv());
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `The embedded database in ${dataDir} is in use by another process (pid ${process.ppid}), probably a running server. ` +
          'Stop it first, or point DATABASE_URL at a PostgreSQL server to share one database between processes.\n',
      );
      expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid));
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('takes over a lock left by a dead process', async () => {
    writeFileSync(path.join(dataDir, 'gateway.lock'), '999999999');
    const result = await cli(['create-api-key', '--email', 'after-crash@example.com'], embeddedEnv());
    expect(result.code).toBe(0);
  });
});
