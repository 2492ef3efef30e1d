// Private PostgreSQL servers (and a PgBouncer) for fault tests: their own initdb'd data directories on
// spare loopback ports, started, killed and promoted by the test (initdb, pg_basebackup, pg_ctl). As
// root they run as the `postgres` user, as initdb and PgBouncer want.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort().at(-1);
  const bin = version && path.join(root, version, 'bin');
  return bin && existsSync(path.join(bin, 'initdb')) ? bin : undefined;
}

/** Debian's pgbouncer (`apt-get install pgbouncer`), if installed. */
export function pgbouncerBinary(): string | undefined {
  return ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((candidate) => existsSync(candidate));
}

/**
 * Whether a test file that needs these binaries runs: always in CI (where `.ci/run` installs them, so a
 * missing one fails loudly); locally, skipped with a printed warning naming what is missing.
 */
export function requireBinaries(file: string, needs: { postgres?: boolean; pgbouncer?: boolean }): boolean {
  const missing = [needs.postgres && !postgresBinDir() && 'PostgreSQL server binaries (initdb, pg_ctl)', needs.pgbouncer && !pgbouncerBinary() && 'pgbouncer (apt-get install pgbouncer)'].filter(Boolean);
  if (missing.length === 0 || process.env.CI) return true;
  console.warn(`SKIPPED ${file}: not on this machine: ${missing.join(', ')}`);
  return false;
}

/** One statement on a connection of its own (simple protocol when there are no parameters: PgBouncer's admin console needs it). */
export async function queryOnce<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const asRoot = process.getuid?.() === 0;
const postgresIds = () => {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
};

/**
 * A folder for a cluster or a PgBouncer: mode 0700 (mkdtemp), owned by the user the server runs as
 * (`postgres` when we are root, who can still read it), so no other local user can enter it: 0.2.0's
 * were 0777, and its clusters trusted every loopback connection (`COPY … TO PROGRAM` as `postgres`).
 */
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (asRoot) chownSync(dir, postgresIds().uid, postgresIds().gid);
  return dir;
}

/** Writes a file only the server's user can read (in a scratchDir). */
function writePrivate(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  if (asRoot) chownSync(file, postgresIds().uid, postgresIds().gid);
}

/** A password for the `postgres` role of the test clusters (and PgBouncer): every connection must give it. */
const PASSWORD = randomBytes(18).toString('base64url');

function runTool(tool: string, args: string[]): string {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  return execFileSync(command, commandArgs, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
}

export type PrivatePostgres = Readonly<{
  url: string;
  port: number;
  /** The server's log file (all statements, with `logStatements`). */
  logFile: string;
  start(): void;
  stop(): void;
  /** SIGKILL the postmaster and every server process: the machine died. */
  kill(): void;
  /** pg_ctl promote, waiting until the standby accepts writes. */
  promote(): void;
  destroy(): void;
}>;

export type PrivatePostgresOptions = Readonly<{
  /** Extra `-c name=value` settings. */
  settings?: Readonly<Record<string, string>>;
  /** log_statement = all, each line prefixed with `[pid]`. */
  logStatements?: boolean;
}>;

function managed(dir: string, data: string, port: number, options: PrivatePostgresOptions): PrivatePostgres {
  const logFile = path.join(dir, 'log');
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    ...(options.logStatements ? { log_statement: 'all', log_line_prefix: '[%p]', log_min_messages: 'warning' } : {}),
    ...options.settings,
  };
  const flags = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
  const start = () => void runTool('pg_ctl', ['-D', data, '-o', flags, '-l', logFile, '-w', 'start']);
  const stop = () => void runTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  const kill = () => {
    const pidFile = path.join(data, 'postmaster.pid');
    const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return Object.freeze({
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    logFile,
    start,
    stop,
    kill,
    promote: () => void runTool('pg_ctl', ['-D', data, '-w', 'promote']),
    destroy: () => {
      try {
        stop();
      } catch {
        // already stopped (or killed)
      }
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export async function createPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const dir = scratchDir('gateway-pg-');
  const data = path.join(dir, 'data');
  const port = await sparePort();
  const passwordFile = path.join(dir, 'password');
  writePrivate(passwordFile, `${PASSWORD}\n`);
  // Passwords for every connection, local or TCP, replication included (initdb writes pg_hba.conf so).
  runTool('initdb', ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '--no-sync', '-E', 'UTF8']);
  rmSync(passwordFile);
  const server = managed(dir, data, port, options);
  server.start();
  return server;
}

/**
 * A streaming standby of `primary` (pg_basebackup -R), named `name` in its primary_conninfo so the
 * primary's synchronous_standby_names can wait for it; started, and caught up.
 */
export async function createStandby(primary: PrivatePostgres, name: string, options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const dir = scratchDir('gateway-standby-');
  const data = path.join(dir, 'data');
  const port = await sparePort();
  // -R writes this conninfo, password included, into the standby's own data directory (mode 0700).
  runTool('pg_basebackup', ['-D', data, '-R', '-X', 'stream', '-c', 'fast', '-d', `host=127.0.0.1 port=${primary.port} user=postgres password=${PASSWORD} application_name=${name}`]);
  const server = managed(dir, data, port, options);
  server.start();
  return server;
}

export type PgBouncer = Readonly<{
  /** The gateway's DATABASE_URL: PgBouncer's database `postgres`. */
  url: string;
  port: number;
  /** Its folder: configuration (with the password), mode 0700. */
  dir: string;
  /** Points database `postgres` at another server (edit pgbouncer.ini, then RELOAD on the admin console). */
  repoint(target: PrivatePostgres): Promise<void>;
  /** Runs one command on PgBouncer's admin console (SHOW POOLS, RELOAD, …). */
  admin(command: string): Promise<Record<string, unknown>[]>;
  output(): string;
  stop(): Promise<void>;
}>;

export type PgBouncerOptions = Readonly<{
  poolSize?: number;
  maxClientConn?: number;
  settings?: Readonly<Record<string, string>>;
  /** Appended to the `[databases]` entry, e.g. `connect_query='set statement_timeout = 300'`. */
  databaseParameters?: string;
}>;

/** Debian's pgbouncer in transaction pooling mode in front of `target`, as the `postgres` user (it refuses root). */
export async function startPgBouncer(target: PrivatePostgres, { poolSize = 20, maxClientConn = 500, settings = {}, databaseParameters = '' }: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer not found (apt-get install pgbouncer)');
  const dir = scratchDir('gateway-pgbouncer-');
  const port = await sparePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const write = (server: PrivatePostgres) =>
    writePrivate(
      ini,
      [
        '[databases]',
        // The same name as on the server: MikroORM's migrator looks its database up in pg_database.
        `postgres = host=127.0.0.1 port=${server.port} dbname=postgres password=${PASSWORD} ${databaseParameters}`.trimEnd(),
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = scram-sha-256',
        `auth_file = ${path.join(dir, 'userlist.txt')}`,
        'admin_users = postgres',
        'pool_mode = transaction',
        `default_pool_size = ${poolSize}`,
        `max_client_conn = ${maxClientConn}`,
        // What the deployment guide recommends: a dead server is reported in seconds, not minutes.
        'server_login_retry = 1',
        'server_connect_timeout = 2',
        'query_wait_timeout = 5',
        ...Object.entries(settings).map(([name, value]) => `${name} = ${value}`),
        '',
      ].join('\n'),
    );
  writePrivate(path.join(dir, 'userlist.txt'), `"postgres" "${PASSWORD}"\n`);
  write(target);
  const child: ChildProcess = spawn(binary, [ini], { stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? postgresIds() : {}) });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const admin = (command: string) => queryOnce(`postgres://postgres:${PASSWORD}@127.0.0.1:${port}/pgbouncer`, command);
  for (let attempt = 0; ; attempt++) {
    try {
      await admin('SHOW VERSION');
      break;
    } catch (error) {
      if (attempt > 200 || child.exitCode !== null) throw new Error(`pgbouncer did not start: ${output}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return Object.freeze({
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    repoint: async (server: PrivatePostgres) => {
      write(server);
      await admin('RELOAD');
    },
    admin,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
