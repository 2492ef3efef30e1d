// Listen and shut down gracefully; nothing else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { startAdminSocket, type AdminSocket } from './admin-socket.js';
import type { App } from './app.js';
import type { Config } from './config.js';
import { dbFailure } from './db/errors.js';
import { initORM } from './db/orm.js';
import { purgeExpiredIdempotencyKeys } from './organizations/organizations.js';
import type { Logger } from './logger.js';
import type { Tracing } from './telemetry.js';

export type RunningServer = Readonly<{
  url: string;
  /** Embedded and no API key exists yet: a first run (the CLI says how to make one). */
  needsFirstApiKey: boolean;
  /** Stop accepting, let in-flight requests finish, close the pool and the embedded database. */
  close(): Promise<void>;
}>;

/** How long in-flight requests get to finish on shutdown before their connections are cut. */
const DRAIN_TIMEOUT_MS = 10_000;

export async function startServer(config: Config, logger: Logger, tracing?: Tracing): Promise<RunningServer> {
  // The request pipeline's modules load while the database opens (a new embedded database is copied
  // from its template by a `cp` child process meanwhile).
  const appModule = import('./app.js');
  const db = await initORM(config, { migrate: config.migrateOnStart, logger });
  let app: App;
  try {
    app = (await appModule).createApp({ orm: db.orm, config, logger, tracing, listen: db.listen });
  } catch (error) {
    await db.close();
    throw error;
  }
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, app.handleNodeRequest);
  server.on('clientError', answerClientError);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  // Embedded: the CLI reaches this database through the server while it runs (src/admin-socket.ts).
  let admin: AdminSocket | undefined;
  let needsFirstApiKey = false;
  if (db.embedded) {
    try {
      admin = await startAdminSocket(db, logger, (keyId) => app.forgetApiKey(keyId));
      const [row] = await db.orm.em.fork().getConnection().execute<{ any: boolean }[]>('select exists (select 1 from api_keys) as any');
      needsFirstApiKey = !row?.any;
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      await admin?.close();
      await db.close();
      throw error;
    }
  }
  const purge = schedulePurge(db, logger);
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return Object.freeze({
    url: `http://${host}:${port}`,
    needsFirstApiKey,
    close: () =>
      (closing ??= (async () => {
        // Readiness turns 503 first; the listener keeps serving while load balancers notice.
        app.startDraining();
        purge();
        if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
        await drained;
        clearTimeout(timer);
        await admin?.close();
        await app.close();
        await db.close();
        // The last spans (this shutdown's requests) go out before the process ends.
        await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not export the last traces'));
      })()),
  });
}

/** How often each instance deletes expired idempotency records (a batch at a time, see the domain). */
const PURGE_INTERVAL_MS = 10 * 60_000;
const PURGE_BATCH = 1000;
const PURGE_BATCHES_PER_RUN = 10;

/** Purges expired idempotency records now and then; a failure is logged and tried again next time. */
function schedulePurge(db: Awaited<ReturnType<typeof initORM>>, logger: Logger): () => void {
  const run = async () => {
    try {
      let deleted = 0;
      for (let i = 0; i < PURGE_BATCHES_PER_RUN; i++) {
        const batch = await purgeExpiredIdempotencyKeys(db.orm.em.fork(), PURGE_BATCH);
        deleted += batch;
        if (batch < PURGE_BATCH) break;
      }
      if (deleted > 0) logger.info({ deleted }, 'purged expired idempotency records');
    } catch (error) {
      logger.warn({ err: dbFailure(error) }, 'purging expired idempotency records failed; will try again');
    }
  };
  // A random first delay spreads many instances started together.
  const first = setTimeout(() => void run(), Math.round(Math.random() * 60_000));
  first.unref();
  const timer = setInterval(() => void run(), PURGE_INTERVAL_MS);
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Requests Node refuses before they reach the app (oversized headers, bad HTTP) still get a JSON body. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && !socket.readable)) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request Header Fields Too Large: the request headers are larger than the server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'Request Timeout']
        : [400, 'Bad Request', 'Bad Request: malformed HTTP request'];
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
