// What another account on the same machine could do to 0.2.0 (issue "Security and reliability III"),
// played by `nobody` through runuser: reach the embedded database, read the data directory, plant code
// in the compile cache, race the admin socket. Needs root (CI runs as root); elsewhere it says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './processes.js';
import { createPrivatePostgres, pgbouncerBinary, postgresBinDir, startPgBouncer, type PgBouncer, type PrivatePostgres } from './private-postgres.js';

const asRoot = process.getuid?.() === 0;
if (!asRoot) {
  if (process.env.CI) throw new Error('test/local-users.test.ts needs root in CI (it plays another user with runuser)');
  console.warn('SKIPPED test/local-users.test.ts: not root, so it cannot play another local user (runuser -u nobody)');
}
const NOBODY = asRoot ? Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()) : -1;

/** Runs a command as `nobody`; its exit code and output. */
function asNobody(command: string, args: string[]): { code: number | null; output: string } {
  const result = spawnSync('runuser', ['-u', 'nobody', '--', command, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** TCP ports a process listens on (from /proc: its socket inodes, matched in the LISTEN rows of tcp and tcp6). */
function tcpListeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter(Boolean),
  );
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9])) ports.push(Number.parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Every path below `root` whose mode lets group or others read, write or enter. */
function openToOthers(root: string): string[] {
  return [root, ...readdirSync(root, { recursive: true, encoding: 'utf8' }).map((entry) => path.join(root, entry))].filter((file) => {
    const stat = lstatSync(file);
    return !stat.isSymbolicLink() && (stat.mode & 0o077) !== 0;
  });
}

describe.runIf(asRoot)('the embedded database, as another local user', () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'gateway-local-'));
  // A data directory made by hand (or by 0.2.0) with loose modes and a file anyone may read.
  const dataDir = path.join(parent, 'data');
  let server: ServerProcess;
  beforeAll(async () => {
    chmodSync(parent, 0o755);
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(path.join(dataDir, 'notes.txt'), 'mine\n', { mode: 0o644 });
    server = await startServerProcess({ DATA_DIR: dataDir, DATABASE_URL: undefined });
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('listens on no TCP port but its HTTP one (0.2.0 served PGlite on a second loopback port, without a password)', () => {
    const { port } = new URL(server.url);
    expect(tcpListeningPorts(server.child.pid!)).toEqual([Number(port)]);
  });

  it("is served on a Unix socket in a folder only the server's user can enter", () => {
    const socket = path.join(dataDir, '.s.PGSQL.5432');
    expect(statSync(socket).isSocket()).toBe(true);
    const attempt = asNobody('psql', ['-X', '-h', dataDir, '-p', '5432', '-U', 'postgres', '-d', 'postgres', '-c', 'select 1']);
    expect(attempt.code).not.toBe(0);
    expect(attempt.output).toMatch(/Permission denied/);
  });

  it('keeps the data directory 0700, so no file in it is within reach while it runs, also when it existed before', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const file of ['notes.txt', 'pgdata/PG_VERSION', 'pgdata/global/pg_control']) {
      expect(asNobody('cat', [path.join(dataDir, file)]).output, file).toMatch(/Permission denied/);
    }
  });

  it('leaves nothing in the data directory open to others once stopped', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(openToOthers(dataDir)).toEqual([]);
  });

  it('refuses a data directory that belongs to another user', async () => {
    const foreign = mkdtempSync(path.join(tmpdir(), 'gateway-foreign-'));
    chownSync(foreign, NOBODY, NOBODY);
    try {
      await expect(startServerProcess({ DATA_DIR: foreign, DATABASE_URL: undefined })).rejects.toThrow(/belongs to another user/);
      expect(existsSync(path.join(foreign, 'pgdata'))).toBe(false);
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
  });
});

describe.runIf(asRoot)('the admin socket with a data directory too deep for a socket path', () => {
  // 0.2.0 put it at a predictable name in the temporary folder, made under the process umask and chmodded after.
  const parent = mkdtempSync(path.join(tmpdir(), 'gateway-deep-'));
  const dataDir = path.join(parent, 'a-rather-long-folder-name-for-a-data-directory', 'that-goes-on-and-on-for-a-while', 'data');
  let server: ServerProcess;
  beforeAll(async () => {
    // A permissive umask (the child inherits it): the socket must still never be open to others, not even for a moment.
    const umask = process.umask(0);
    try {
      server = await startServerProcess({ DATA_DIR: dataDir, DATABASE_URL: undefined });
    } finally {
      process.umask(umask);
    }
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(parent, { recursive: true, force: true });
  });

  it('is in a fresh folder of mode 0700 under a random name, created 0600', () => {
    const [, socket] = readFileSync(path.join(dataDir, 'gateway.lock'), 'utf8').split('\n');
    const folder = path.dirname(socket!);
    expect(folder).toMatch(new RegExp(`^${tmpdir()}/trieve-gateway-[A-Za-z0-9]{6}$`));
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(folder).uid).toBe(process.getuid!());
    expect(statSync(socket!).mode & 0o777).toBe(0o600);
    // The database's socket is there too, out of every other user's reach.
    expect(statSync(path.join(folder, '.s.PGSQL.5432')).isSocket()).toBe(true);
    expect(asNobody('ls', [folder]).code).not.toBe(0);
  });
});

describe.runIf(asRoot)("Node's compile cache", () => {
  const bin = path.resolve('bin/trieve-gateway.js');
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [bin, 'help'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8', timeout: 30_000 });
  const shared = mkdtempSync(path.join(tmpdir(), 'gateway-shared-tmp-'));
  const cacheHome = mkdtempSync(path.join(tmpdir(), 'gateway-cache-home-'));
  afterAll(() => {
    rmSync(shared, { recursive: true, force: true });
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it('is a private folder in the user cache, never the shared temporary folder', () => {
    chmodSync(shared, 0o1777);
    expect(run({ TMPDIR: shared, XDG_CACHE_HOME: cacheHome }).status).toBe(0);
    expect(readdirSync(shared)).toEqual([]); // 0.2.0: $TMPDIR/node-compile-cache, whoever owned it
    const cache = path.join(cacheHome, 'trieve-gateway', 'compile-cache');
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(readdirSync(cache, { recursive: true }).length).toBeGreaterThan(0);
  });

  it('is not used when another user owns it or others may write to it', () => {
    const cache = path.join(cacheHome, 'trieve-gateway', 'compile-cache');
    for (const tamper of [() => chmodSync(cache, 0o777), () => chownSync(cache, NOBODY, NOBODY)]) {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache);
      chmodSync(cache, 0o700);
      tamper();
      expect(run({ TMPDIR: shared, XDG_CACHE_HOME: cacheHome }).status).toBe(0);
      expect(readdirSync(cache)).toEqual([]);
      expect(readdirSync(shared)).toEqual([]);
    }
  });
});

describe.runIf(asRoot && postgresBinDir() && pgbouncerBinary())("the tests' own PostgreSQL clusters and PgBouncer", () => {
  // 0.2.0 ran them with trust auth on loopback in 0777 folders: a local user ran COPY … TO PROGRAM as `postgres`.
  let server: PrivatePostgres;
  let bouncer: PgBouncer;
  beforeAll(async () => {
    server = await createPrivatePostgres();
    bouncer = await startPgBouncer(server);
  });
  afterAll(async () => {
    await bouncer?.stop();
    server?.destroy();
  });

  it('refuse a connection without the password, to the server and through PgBouncer', () => {
    for (const port of [server.port, bouncer.port]) {
      const attempt = asNobody('psql', ['-X', '-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', "copy (select 1) to program 'id'"]);
      expect(attempt.code, String(port)).not.toBe(0);
      expect(attempt.output).toMatch(/password/);
    }
  });

  it('keep their folders (data, socket, log, configuration) closed to other users', () => {
    for (const folder of [path.dirname(server.logFile), bouncer.dir]) {
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(asNobody('ls', [folder]).output).toMatch(/Permission denied/);
    }
  });
});
