// Embedded PostgreSQL: PGlite (Postgres in WebAssembly) kept on disk and served to the ordinary `pg`
// driver over a Unix socket in a folder only this user can enter, so embedded and server mode share
// one driver path and one set of migrations, and no other local user can reach the database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { copyTemplateTo } from './pglite-template.js';

export type EmbeddedPostgres = Readonly<{
  /** A postgres:// URL for the `pg` driver (a Unix socket). Serves exactly one connection at a time. */
  clientUrl: string;
  /** A folder only this user can enter, holding the database's socket; the admin socket goes beside it. */
  socketDir: string;
  /** Names the server's admin socket in the data directory's lock file (a throw-away database has none). */
  advertiseAdminSocket(socketPath: string): void;
  /** LISTEN in process (PGlite's own listen: no second connection, nothing blocks the one session). */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Stop serving, flush and close the data directory, release the lock. Idempotent. */
  close(): Promise<void>;
}>;

/** pg's name for a server socket in a folder (port 5432); the longest socket name we put there. */
const PG_SOCKET = '.s.PGSQL.5432';
/** Unix socket paths are limited to ~108 bytes. */
const MAX_SOCKET_PATH = 100;

export class DataDirOwnerError extends Error {
  constructor(readonly dataDir: string, file: string) {
    super(`The embedded database in ${dataDir} cannot be trusted: ${file} belongs to another user. Use a DATA_DIR of your own.`);
    this.name = 'DataDirOwnerError';
  }
}

/**
 * The data directory: this user's, mode 0700, and nothing in it readable by others, also when it was
 * made by an earlier version or by hand (modes are tightened, another user's file refuses the start).
 * Run on open and again on close: PGlite makes a few files (pg_internal.init) with its own modes, which
 * the 0700 directory keeps out of reach while it runs.
 */
function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  const owned = (file: string, stat: fs.Stats) => {
    if (uid !== undefined && stat.uid !== uid) throw new DataDirOwnerError(dataDir, file);
  };
  owned(dataDir, fs.statSync(dataDir));
  fs.chmodSync(dataDir, 0o700);
  for (const relative of fs.readdirSync(dataDir, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(dataDir, relative);
    const stat = fs.lstatSync(file);
    owned(file, stat);
    if (!stat.isSymbolicLink() && stat.mode & 0o077) fs.chmodSync(file, stat.mode & 0o700);
  }
}

/**
 * Where the sockets go: the data directory (0700) when the socket paths fit, else a new folder of our
 * own in the temporary folder (mkdtemp: a random name, mode 0700), removed on close.
 */
function socketFolder(dataDir: string): { dir: string; remove(): void } {
  if (Buffer.byteLength(path.join(dataDir, PG_SOCKET)) <= MAX_SOCKET_PATH) return { dir: dataDir, remove: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trieve-gateway-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export type EmbeddedOptions = Readonly<{
  /** `undefined`: a throw-away database in a temporary folder, removed on close (tests). */
  dataDir: string | undefined;
  /** Told when the build's template is not trusted (and a new database is initialised instead). */
  warn?(message: string): void;
}>;

export async function startEmbeddedPostgres({ dataDir, warn }: EmbeddedOptions): Promise<EmbeddedPostgres> {
  let lock: DataDirLock | undefined;
  const releaseLock = () => lock?.release();
  let removeScratch = () => {};
  if (dataDir) {
    // Every file the server makes from now on (WAL, the sockets) is for this user alone.
    process.umask(0o077);
    secureDataDir(dataDir);
    lock = acquireDataDirLock(dataDir);
  } else {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-pglite-'));
    removeScratch = () => fs.rmSync(scratch, { recursive: true, force: true });
    dataDir = scratch;
  }
  let db: PGlite | undefined;
  let sockets: ReturnType<typeof socketFolder> | undefined;
  try {
    const pgdata = path.join(dataDir, 'pgdata');
    // A new database starts as a copy of the build-time template when there is one it can trust (see
    // pglite-template.ts; without it PGlite runs initdb, only more slowly); an existing one is opened as it is.
    if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
      if (fs.existsSync(pgdata) && fs.readdirSync(pgdata).length === 0) fs.rmdirSync(pgdata);
      if (!fs.existsSync(pgdata)) {
        const copy = await copyTemplateTo(pgdata);
        if (!copy.copied && copy.refused) warn?.(`embedded database template not used: ${copy.refused}; initialising a new database instead`);
      }
    }
    db = await PGlite.create({ dataDir: pgdata });
    sockets = socketFolder(dataDir);
    const socketPath = path.join(sockets.dir, PG_SOCKET);
    fs.rmSync(socketPath, { force: true }); // left by a killed server (we hold the lock)
    // One connection at a time: PGlite is a single session, so two transactions can never interleave.
    const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
    await server.start();
    let closing: Promise<void> | undefined;
    const pglite = db;
    const socketDir = sockets;
    const dir = dataDir;
    return Object.freeze({
      clientUrl: `postgres://postgres@${encodeURIComponent(socketDir.dir)}:5432/postgres`,
      socketDir: socketDir.dir,
      advertiseAdminSocket: (socketPath: string) => lock?.advertise(socketPath),
      listen: async (channel: string, onPayload: (payload: string) => void) => {
        const stop = await pglite.listen(channel, onPayload);
        return async () => {
          if (!pglite.closed) await stop();
        };
      },
      close: () =>
        (closing ??= (async () => {
          try {
            await server.stop();
            await pglite.close();
            if (lock) secureDataDir(dir);
          } finally {
            fs.rmSync(socketPath, { force: true });
            socketDir.remove();
            releaseLock();
            removeScratch();
          }
        })()),
    });
  } catch (error) {
    await db?.close().catch(() => {});
    sockets?.remove();
    releaseLock();
    removeScratch();
    throw error;
  }
}
