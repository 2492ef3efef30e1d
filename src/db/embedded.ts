// Embedded PostgreSQL: PGlite (Postgres in WebAssembly) kept on disk and served to the ordinary `pg`
// driver over loopback, so embedded and server mode share one driver path and one set of migrations.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { copyTemplateTo } from './pglite-template.js';

export type EmbeddedPostgres = Readonly<{
  /** A postgres:// URL for the `pg` driver. Serves exactly one connection at a time. */
  clientUrl: string;
  /** Names the server's admin socket in the data directory's lock file (a throw-away database has none). */
  advertiseAdminSocket(socketPath: string): void;
  /** Stop serving, flush and close the data directory, release the lock. Idempotent. */
  close(): Promise<void>;
}>;

/** `dataDir` undefined: a throw-away database in a temporary folder, removed on close (tests). */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let lock: DataDirLock | undefined;
  const releaseLock = () => lock?.release();
  let removeScratch = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    lock = acquireDataDirLock(dataDir);
  } else {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-pglite-'));
    removeScratch = () => fs.rmSync(scratch, { recursive: true, force: true });
    dataDir = scratch;
  }
  let db: PGlite | undefined;
  try {
    const pgdata = path.join(dataDir, 'pgdata');
    // A new database starts as a copy of the build-time template when there is one (see
    // pglite-template.ts; without it PGlite runs initdb, only more slowly); an existing one is opened as it is.
    if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
      if (fs.existsSync(pgdata) && fs.readdirSync(pgdata).length === 0) fs.rmdirSync(pgdata);
      if (!fs.existsSync(pgdata)) await copyTemplateTo(pgdata);
    }
    db = await PGlite.create({ dataDir: pgdata });
    // One connection at a time: PGlite is a single session, so two transactions can never interleave.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    let closing: Promise<void> | undefined;
    const pglite = db;
    return Object.freeze({
      clientUrl: `postgres://postgres@${server.getServerConn()}/postgres`,
      advertiseAdminSocket: (socketPath: string) => lock?.advertise(socketPath),
      close: () =>
        (closing ??= (async () => {
          try {
            await server.stop();
            await pglite.close();
          } finally {
            releaseLock();
            removeScratch();
          }
        })()),
    });
  } catch (error) {
    await db?.close().catch(() => {});
    releaseLock();
    removeScratch();
    throw error;
  }
}
