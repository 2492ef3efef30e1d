// Real server processes for multi-instance and crash tests, and a plain HTTP client for them.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.js';
import { initORM, type Database } from '../src/db/orm.js';
import { createScratchDatabase, SECRET_SHAPES } from './helpers.js';

/** The CLI from the sources (tsx's loader), so `npm test` tests what is checked in, not a stale build. */
export const CLI = [process.execPath, '--import', 'tsx', path.resolve('src/cli.ts')] as const;

export type ServerProcess = Readonly<{ url: string; child: ChildProcess; exited: Promise<number | null>; output(): string }>;

/** Every server process this test file started: after its tests, their whole output is checked for keys and hashes. */
const outputs: Array<() => string> = [];
afterAll(() => {
  for (const output of outputs) {
    const leaked = output().split('\n').filter((line) => SECRET_SHAPES.test(line));
    if (leaked.length > 0) throw new Error(`a key or key hash reached a server's output:\n${leaked.slice(0, 3).join('\n')}`);
  }
});

/** `detached`: the server leads a process group of its own (signal it and its workers with `process.kill(-pid)`). */
export async function startServerProcess(env: Record<string, string | undefined>, { detached = false } = {}): Promise<ServerProcess> {
  const childEnv: Record<string, string | undefined> = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(CLI[0], [...CLI.slice(1), 'serve'], { env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pattern = /GraphQL and GraphiQL: (http:\/\/127\.0\.0\.1:\d+)\/graphql/;
  for (const deadline = Date.now() + 30_000; !pattern.test(output) && child.exitCode === null && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!pattern.test(output)) throw new Error(`server did not start:\n${output}`);
  outputs.push(() => output);
  return Object.freeze({ url: pattern.exec(output)![1]!, child, exited, output: () => output });
}

/** `error`: no response began (refused, or reset before the server took the connection); `truncated`: it began and broke. */
export type Outcome = { status: number; body: any } | { error: string } | { truncated: string };

/** One request on its own connection (no keep-alive), so "accepted" and "answered" are clear. */
export function postJson(url: string, path: string, headers: Record<string, string>, body: unknown, agent: http.Agent | false = false): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      { host: hostname, port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ truncated: error.code ?? error.message }));
        res.on('aborted', () => resolve({ truncated: 'aborted' }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.setTimeout(30_000, () => req.destroy(new Error('TIMEOUT')));
    req.end(payload);
  });
}

/**
 * Inside a describe (PostgreSQL runs): a scratch database, migrated, with one user's API key, and the
 * server processes a test starts on it with `start`; all of it gone after the describe.
 */
export function sharedDatabase(email: string) {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let db: Database | undefined;
  let key = '';
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = await initORM({ databaseUrl: scratch.url, dataDir: '' }, { migrate: true });
    key = (await createApiKey(db.orm.em.fork(), { email })).key;
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await db?.close();
    await scratch?.drop();
  });
  return {
    get key() {
      return key;
    },
    servers: servers as readonly ServerProcess[],
    /** The scratch database's URL. */
    get url() {
      return scratch!.url;
    },
    /** Straight to the database (not through a server). */
    sql: <T,>(text: string, params: unknown[] = []) => db!.orm.em.fork().getConnection().execute(text, params as never[]) as Promise<T[]>,
    /** A server process on this database (migrations already applied). */
    async start(env: Record<string, string> = {}, options: { detached?: boolean } = {}): Promise<ServerProcess> {
      const server = await startServerProcess({ DATABASE_URL: scratch!.url, MIGRATE_ON_START: 'false', ...env }, options);
      servers.push(server);
      return server;
    },
  };
}
