// Embedded PostgreSQL: PGlite (Postgres in WebAssembly) kept on disk and served to the ordinary `pg`
// driver over loopback, so embedded and server mode share one driver path and one set of migrations.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireDataDirLock } from './data-dir-lock.js';
import { loadTemplate } from './pglite-template.js';

export type EmbeddedPostgres = Readonly<{
  /** A postgres:// URL for the `pg` driver. Serves exactly one connection at a time. */
  clientUrl: string;
  /** Stop serving, flush and close the data directory, release the lock. Idempotent. */
  close(): Promise<void>;
}>;

/** `dataDir` undefined: an in-memory database (tests). */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let releaseLock = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    releaseLock = acquireDataDirLock(dataDir);
  }
  let db: PGlite | undefined;
  try {
    const pgdata = dataDir ? path.join(dataDir, 'pgdata') : undefined;
    // A new database starts as a copy of the install-time template when there is one (see
    // pglite-template.ts); an existing one is opened as it is.
    const fresh = !pgdata || !fs.existsSync(path.join(pgdata, 'PG_VERSION'));
    const template = fresh ? loadTemplate() : undefined;
    db = await PGlite.create({ dataDir: pgdata ?? 'memory://', ...(template && { loadDataDir: template }) });
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
