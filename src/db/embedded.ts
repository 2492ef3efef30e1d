// Embedded PostgreSQL: PGlite (Postgres in WebAssembly) kept on disk and served to the ordinary `pg`
// driver over loopback, so embedded and server mode share one driver path and one set of migrations.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export type EmbeddedPostgres = Readonly<{
  /** A postgres:// URL for the `pg` driver. Serves exactly one connection at a time. */
  clientUrl: string;
  /** Stop serving, flush and close the data directory, release the lock. Idempotent. */
  close(): Promise<void>;
}>;

export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `The embedded database in ${dataDir} is in use by another process (pid ${pid}), probably a running server. ` +
        `Stop it first, or point DATABASE_URL at a PostgreSQL server to share one database between processes.`,
    );
    this.name = 'DataDirInUseError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite must never be opened by two processes at once: that corrupts it. An O_EXCL lock file with
 * our pid guards the directory; a lock left by a dead process (e.g. after SIGKILL) is taken over.
 */
function acquireLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'gateway.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${lockPath}`);
}

/** `dataDir` undefined: an in-memory database (tests). */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let releaseLock = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    releaseLock = acquireLock(dataDir);
  }
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(dataDir ? path.join(dataDir, 'pgdata') : 'memory://');
    // One connection at a time: PGlite is a single session, so two transactions can never interleave.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    let closing: Promise<void> | undefined;
    const pglite = db;
    return Object.freeze({
      clientUrl: `postgres://postgres@${server.getServerConn()}/postgres`,
      close: () =>
        (closing ??= (async () => {
          try {
            await server.stop();
            await pglite.close();
          } finally {
            releaseLock();
          }
        })()),
    });
  } catch (error) {
    await db?.close().catch(() => {});
    releaseLock();
    throw error;
  }
}
