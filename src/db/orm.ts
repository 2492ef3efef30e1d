// Opens the ORM on PostgreSQL (DATABASE_URL) or on the embedded PGlite; the one place that knows both.
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ormConfig } from './mikro-orm.config.js';

export type Database = Readonly<{
  orm: MikroORM;
  embedded: boolean;
  /** Close the pool, then (embedded) flush and close the data directory. Idempotent. */
  close(): Promise<void>;
}>;

export type InitOptions = Readonly<{
  /** Embedded only: keep the database in memory instead of under dataDir (tests). */
  inMemory?: boolean;
  migrate?: boolean;
  /** Where MikroORM's own messages (migrator) go; silent when absent. */
  logger?: Logger;
  overrides?: Options;
}>;

export async function initORM(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  { inMemory = false, migrate = false, logger, overrides = {} }: InitOptions = {},
): Promise<Database> {
  // PGlite is loaded only in embedded mode: a PostgreSQL deployment never pays for it.
  const embedded = config.databaseUrl ? undefined : await (await import('./embedded.js')).startEmbeddedPostgres(inMemory ? undefined : config.dataDir);
  try {
    const clientUrl = config.databaseUrl ?? embedded!.clientUrl;
    const pool = embedded ? { min: 0, max: 1 } : { min: 0, max: 10 };
    const orm = await MikroORM.init(
      ormConfig(clientUrl, {
        pool: { ...pool, acquireTimeoutMillis: 10_000 },
        // A server that does not answer fails the request in 2 s instead of hanging it.
        driverOptions: {
          connection: { connectionTimeoutMillis: 2_000 },
          // knex reports dropped connections through its own logger (console by default).
          log: {
            warn: (message: string) => logger?.warn({ db: true }, message),
            error: (message: string) => logger?.error({ db: true }, message),
            deprecate: () => {},
            debug: () => {},
          },
        },
        logger: (message: string) => logger?.info({ orm: true }, message),
        ...overrides,
      }),
    );
    if (migrate) {
      // Embedded mode has one process by construction; on a shared server, instances that start
      // together take turns, so exactly one applies each pending migration.
      if (embedded) await orm.getMigrator().up();
      else await withMigrationLock(clientUrl, () => orm.getMigrator().up());
    }
    let closing: Promise<void> | undefined;
    return Object.freeze({
      orm,
      embedded: Boolean(embedded),
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

/** A session-level advisory lock on its own connection, held while `work` runs. */
async function withMigrationLock<T>(clientUrl: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: clientUrl });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('trieve-gateway:migrations'))`);
    return await work();
  } finally {
    await client.end(); // ending the session releases the lock
  }
}
