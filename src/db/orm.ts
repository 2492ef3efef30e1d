// Opens the ORM on PostgreSQL (DATABASE_URL) or on the embedded PGlite; the one place that knows both.
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { EventEmitter } from 'node:events';
import { embeddedListen, postgresListen, type Listen } from './listen.js';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { dbFailure } from './errors.js';
import { migrationsList } from './migrations/index.js';
import { reclaimDeadCheckouts } from './pool-guard.js';
import { ormConfig } from './mikro-orm.config.js';

export type Database = Readonly<{
  orm: MikroORM;
  embedded: boolean;
  /** The migrations this start applied (with `migrate`). */
  applied: readonly string[];
  /** Applies pending migrations now; returns their names. */
  migrate(): Promise<string[]>;
  /** Embedded: a folder only this user can enter, where the database's socket is; the admin socket goes there too. */
  embeddedSocketDir: string | undefined;
  /** Embedded: names the admin socket in the data directory's lock file, for the CLI. */
  advertiseAdminSocket(socketPath: string): void;
  /** LISTEN on a session of its own (live updates, src/live/). */
  listen: Listen;
  /** Close the pool, then (embedded) flush and close the data directory. Idempotent. */
  close(): Promise<void>;
}>;

export type InitOptions = Readonly<{
  /** Embedded only: a throw-away database in a temporary folder instead of dataDir, removed on close (tests). */
  throwAway?: boolean;
  migrate?: boolean;
  /** Where MikroORM's own messages (migrator) go; silent when absent. */
  logger?: Logger;
  overrides?: Partial<Options>;
}>;

export async function initORM(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'statementTimeoutMs' | 'dbPoolSize' | 'liveDatabaseUrl'>>,
  { throwAway = false, migrate = false, logger, overrides = {} }: InitOptions = {},
): Promise<Database> {
  // PGlite is loaded only in embedded mode: a PostgreSQL deployment never pays for it.
  const embedded = config.databaseUrl
    ? undefined
    : await (await import('./embedded.js')).startEmbeddedPostgres({ dataDir: throwAway ? undefined : config.dataDir, warn: (message) => logger?.warn(message) });
  const embeddedNotifications = embedded ? new EventEmitter() : undefined;
  try {
    const clientUrl = config.databaseUrl ?? embedded!.clientUrl;
    // (PGlite runs in single-threaded WebAssembly without timers: it does not enforce statement_timeout.)
    const statementTimeout = config.statementTimeoutMs && !embedded ? await statementTimeoutParameter(clientUrl, config.statementTimeoutMs, logger) : {};
    // Embedded: one connection, PGlite is one session. PostgreSQL: DB_POOL_SIZE (see README, "Several instances").
    const pool = embedded ? { min: 0, max: 1 } : { min: 0, max: config.dbPoolSize ?? 10 };
    // (Cast: init infers a readonly entities tuple that the plain MikroORM type used elsewhere does not carry.)
    const orm = (await MikroORM.init(
      ormConfig(clientUrl, {
        extensions: [Migrator],
        // Listed in code, so they load the same way under tsx, a bundler or compiled JS.
        migrations: { ...ormConfig(clientUrl).migrations, migrationsList },
        pool,
        // Passed to pg.Pool. A server that does not answer, or a pool with no connection free, fails
        // the request in 2 s (503, retry) instead of hanging it. A connection that dies while checked
        // out is given back to the pool even if its holder never releases it (see pool-guard.ts).
        driverOptions: {
          connectionTimeoutMillis: 2_000,
          ...statementTimeout,
          onPoolCreated: (pool: pg.Pool) => {
            reclaimDeadCheckouts(pool);
            // Embedded: PGlite is one session, so a NOTIFY comes back on the pool's own connection.
            if (embeddedNotifications) pool.on('connect', (client) => client.on('notification', (message) => embeddedNotifications.emit(message.channel, message.payload)));
          },
        },
        // The ORM's own messages (migrator; dropped pooled connections, which MikroORM logs as warnings).
        logger: (message: string) => logger?.info({ orm: true }, message),
        ...overrides,
      }),
    )) as unknown as MikroORM;
    // Embedded mode has one process by construction; on a shared server, instances that start
    // together take turns, so exactly one applies each pending migration.
    const applyMigrations = async () => {
      const up = async () => (await orm.migrator.up()).map((m) => m.name);
      return embedded ? up() : withMigrationLock(clientUrl, up);
    };
    let applied: string[] = [];
    if (migrate) {
      try {
        applied = await applyMigrations();
      } catch (error) {
        await orm.close(true);
        throw error;
      }
    }
    let closing: Promise<void> | undefined;
    return Object.freeze({
      orm,
      embedded: Boolean(embedded),
      embeddedSocketDir: embedded?.socketDir,
      applied,
      migrate: applyMigrations,
      advertiseAdminSocket: (socketPath: string) => embedded?.advertiseAdminSocket(socketPath),
      listen: embedded ? embeddedListen(embedded, embeddedNotifications!) : postgresListen(config.liveDatabaseUrl ?? clientUrl, logger),
      close: () =>
        (closing ??= (async () => {
          try {
            await orm.close(true);
          } finally {
            await embedded?.close();
          }
        })()),
    });
  } catch (error) {
    await embedded?.close();
    throw error;
  }
}

/**
 * STATEMENT_TIMEOUT_MS for the gateway's own sessions only: sent as the `statement_timeout` startup
 * parameter of each connection the pool opens, so it is nothing persisted on the server (no role or
 * database default for anyone else, nothing left when the gateway is gone) and nothing sent per request.
 * PgBouncer refuses startup parameters it does not track, so through it the timeout is the one its
 * server connections get from its `connect_query` (docs/deployment.md). One probe connection at start
 * finds out which case this is and says so when the timeout does not hold. Returns the pool's option.
 */
async function statementTimeoutParameter(clientUrl: string, ms: number, logger: Logger | undefined): Promise<{ statement_timeout?: number }> {
  const probe = async (withParameter: boolean) => {
    const client = new pg.Client({ connectionString: clientUrl, connectionTimeoutMillis: 2_000, ...(withParameter ? { statement_timeout: ms } : {}) });
    client.on('error', () => {}); // a dropped connection surfaces as the failure of the query below
    await client.connect();
    try {
      const [row] = (await client.query<{ ms: string }>(`select (extract(epoch from current_setting('statement_timeout')::interval) * 1000)::bigint as ms`)).rows;
      return Number(row?.ms);
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    if ((await probe(true)) === ms) return { statement_timeout: ms };
  } catch (error) {
    if (!/unsupported startup parameter/i.test((error as Error).message)) throw error;
  }
  // A pooler that does not pass startup parameters on (PgBouncer): the timeout is whatever its server sessions have.
  const effective = await probe(false);
  if (effective !== ms) {
    logger?.warn(
      { statementTimeoutMs: ms, effectiveMs: effective },
      "statement_timeout does not hold: the connection refused it as a startup parameter (PgBouncer?); give the pooler's server connections the same with connect_query (docs/deployment.md) or set STATEMENT_TIMEOUT_MS=0",
    );
  }
  return {};
}

/**
 * Mutual exclusion for migrations among instances that start together: a *transaction-scoped*
 * advisory lock (pg_advisory_xact_lock) taken in a transaction that stays open on its own connection
 * while `work` runs, then ends. It holds through PgBouncer in transaction mode, which pins one server
 * connection to a client for exactly as long as its transaction is open; a session-level lock would
 * stay on whatever server connection PgBouncer picked, held by nobody. The lock ends with the
 * transaction: on commit, on rollback, or when this process dies and its connection closes.
 * (The migrations themselves run in MikroORM's own transaction on the pool; they finish before the
 * lock is released, so the next instance finds them applied.)
 */
async function withMigrationLock<T>(clientUrl: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: clientUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {}); // a dropped connection surfaces as the failure of the query below
  await client.connect();
  try {
    await client.query('begin');
    // Waiting for another instance's migrations is not a slow statement: no timeout for this transaction.
    await client.query('set local statement_timeout = 0');
    await client.query(`select pg_advisory_xact_lock(hashtext('trieve-gateway:migrations'))`);
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}
