// Command line: serve | migrate | create-api-key | list-api-keys | revoke-api-key | print-schema.
// Heavy modules (ORM, PGlite, Yoga) are imported by the command that needs them, so usage and
// configuration errors answer at once.
import type { Cluster } from 'node:cluster';
import { parseArgs } from 'node:util';
import type { ApiKeyRoleName } from './entities/api-key.entity.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { AdminCommandName, CreateApiKeyAnswer, ListedApiKey, RevokeApiKeyAnswer } from './admin-socket.js';
import { DataDirInUseError } from './db/data-dir-lock.js';
import type { Database } from './db/orm.js';
import { createLogger } from './logger.js';
import { startTracingIfRequested } from './telemetry.js';

const API_KEY_ROLES: readonly ApiKeyRoleName[] = ['read', 'admin', 'owner'];

const USAGE = `Usage: trieve-gateway <command> [options]

Commands:
  serve                         run the HTTP server (GraphQL at /graphql, REST at /api/organization)
  migrate                       apply pending database migrations
  create-api-key --email <email> | --organization <id> [--name <label>] [--role read|admin|owner] [--expires-in-days <n>]
                                print a new API key (last line of stdout): a user's (the user is
                                created if needed) or an organization's (acts only there)
  list-api-keys --email <email> | --organization <id> [--json]
                                list a user's or an organization's keys (never their secrets)
  revoke-api-key --id <key id>  revoke a key: refused from now on (other servers: within API_KEY_CACHE_SECONDS)
  print-schema                  print the GraphQL SDL

Configuration comes from the environment; see README.md for every variable.`;

class UsageError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A worker that dies this often within RESTART_WINDOW_MS is not started again: the supervisor stops. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** The supervisor's word to a worker: drain and stop (sent over IPC, so it never counts as a second signal). */
const SHUTDOWN_MESSAGE = 'trieve-gateway:shutdown';

/**
 * WORKERS > 1: this process only supervises; each worker is a full server on the shared port. A worker
 * that fails to start (bad configuration, migrations, database down) ends the supervisor with exit code 1,
 * after the others have drained; one that dies after it started is replaced, at most MAX_RESTARTS times
 * a minute. On SIGTERM/SIGINT each worker is asked once, over IPC, to drain: a terminal or systemd signals
 * the workers too, and a second signal would make them exit without draining.
 */
function superviseWorkers(config: Config, cluster: Cluster): void {
  const logger = createLogger(config.logLevel, undefined, config.prettyLogs);
  let stopping = false;
  let exitCode = 0;
  const listening = new Set<number>();
  const deaths: number[] = [];
  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(SHUTDOWN_MESSAGE);
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  };
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on('listening', (worker) => listening.add(worker.id));
  cluster.on('exit', (worker, code, signal) => {
    const started = listening.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!started) {
      logger.error({ worker: worker.id, code, signal }, 'worker failed to start; stopping the others');
      exitCode = 1;
      return stopAll();
    }
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
    if (deaths.length > MAX_RESTARTS) {
      logger.error({ worker: worker.id, code, signal, deaths: deaths.length }, 'workers keep dying; stopping the others');
      exitCode = 1;
      return stopAll();
    }
    logger.error({ worker: worker.id, code, signal }, 'worker died; starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    logger.info({ signal }, 'shutting down workers');
    stopAll();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function serve(config: Config): Promise<void> {
  if (config.workers > 1) {
    const { default: cluster } = await import('node:cluster');
    if (cluster.isPrimary) return superviseWorkers(config, cluster);
  }
  // Before the server's modules: the SDK patches `http` and `pg` (nothing is loaded when tracing is off).
  const tracing = await startTracingIfRequested();
  const logger = createLogger(config.logLevel, undefined, config.prettyLogs, tracing?.currentTraceId);
  const { startServer } = await import('./server.js');
  const server = await startServer(config, logger, tracing);
  logger.info({ url: server.url, database: config.databaseUrl ? 'postgresql' : `embedded PGlite in ${config.dataDir}` }, 'listening');
  process.stdout.write(`GraphQL and GraphiQL: ${server.url}/graphql\nREST: POST ${server.url}/api/organization\n`);
  if (server.needsFirstApiKey) {
    process.stdout.write(`No API key yet. Create one now, in another terminal (this server keeps running):\n  ${cliCommand('create-api-key --email you@example.com --role owner')}\n`);
  }
  let stopping = false;
  let signals = 0;
  const stop = (reason: NodeJS.Signals | 'supervisor') => {
    // A second *signal* exits now; the supervisor's request is only ever a first one (see superviseWorkers).
    if (reason !== 'supervisor' && ++signals > 1) {
      logger.warn({ signal: reason }, 'second signal: exiting now');
      process.exit(1);
    }
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      async (error: unknown) => {
        const { loggable } = await import('./db/errors.js');
        logger.error({ err: loggable(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE) stop('supervisor');
  });
}

/** How the user runs this CLI: through npm in the repository, or the installed bin. */
function cliCommand(args: string): string {
  const dataDir = process.env.DATA_DIR?.trim() ? `DATA_DIR=${process.env.DATA_DIR.trim()} ` : '';
  const viaNpmScript = ['start', 'dev', 'cli'].includes(process.env.npm_lifecycle_event ?? '');
  return viaNpmScript ? `${dataDir}npm run --silent cli -- ${args}` : `${dataDir}npx trieve-gateway ${args}`;
}

/**
 * Runs a database command here, or, when a live embedded server holds the data directory, inside that
 * server through its admin socket (src/admin-socket.ts). Without a socket the lock's error stands.
 */
async function withDatabase<T>(config: Config, migrateFirst: boolean, local: (db: Database) => Promise<T>, remote: (socket: string) => Promise<T>): Promise<T> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { initORM } = await import('./db/orm.js');
  let db: Database;
  try {
    db = await initORM(config, { migrate: migrateFirst, logger });
  } catch (error) {
    if (error instanceof DataDirInUseError && error.adminSocket) return remote(error.adminSocket);
    throw error;
  }
  try {
    return await local(db);
  } finally {
    await db.close();
  }
}

async function migrate(config: Config): Promise<void> {
  const { callAdminSocket } = await import('./admin-socket.js');
  const applied = await withDatabase(
    config,
    true,
    async (db) => db.applied,
    async (socket) => (await callAdminSocket<{ applied: string[] }>(socket, 'migrate')).applied,
  );
  process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Database is up to date\n');
}

/** Runs an operator key command here, or inside the running embedded server (its admin socket). */
async function keyCommand<T>(config: Config, command: Exclude<AdminCommandName, 'migrate'>, body: Record<string, unknown>): Promise<T> {
  const { callAdminSocket, runKeyCommand } = await import('./admin-socket.js');
  // Here, the audit line goes to stderr (stdout is the command's answer); in the server, to its log.
  const audit = createLogger(config.logLevel, { write: (line: string) => void process.stderr.write(line) });
  return withDatabase(
    config,
    config.migrateOnStart,
    async (db) => (await runKeyCommand(db.orm.em.fork(), command, body, (event, fields) => audit.info({ audit: event, ...fields, via: 'cli' }, event))) as T,
    (socket) => callAdminSocket<T>(socket, command, body),
  );
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--email` or `--organization`, exactly one, checked. */
function keyOwner(command: string, values: { email?: string; organization?: string }): { email: string | null; organizationId: string | null } {
  const email = values.email?.trim();
  const organizationId = values.organization?.trim();
  if ((email === undefined) === (organizationId === undefined)) throw new UsageError(`${command} needs --email <email> or --organization <id> (one of them)`);
  if (email !== undefined && !EMAIL.test(email)) throw new UsageError(`${command} needs --email <email> (a valid address)`);
  if (organizationId !== undefined && !UUID_TEXT.test(organizationId)) throw new UsageError('--organization must be an organization id (a UUID)');
  return { email: email ?? null, organizationId: organizationId?.toLowerCase() ?? null };
}

async function createApiKeyCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      organization: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'read' },
      'expires-in-days': { type: 'string' },
    },
    strict: true,
  });
  const owner = keyOwner('create-api-key', values);
  if (!API_KEY_ROLES.includes(values.role as ApiKeyRoleName)) throw new UsageError(`--role must be read, admin or owner, got "${values.role}"`);
  let expiresAt: Date | null = null;
  if (values['expires-in-days'] !== undefined) {
    const days = Number(values['expires-in-days']);
    if (!Number.isInteger(days) || days < 1) throw new UsageError('--expires-in-days must be a whole number of days, at least 1');
    expiresAt = new Date(Date.now() + days * 86_400_000);
  }
  const label = values.name ?? 'default';
  const role = values.role as ApiKeyRoleName;
  const created = await keyCommand<CreateApiKeyAnswer>(config, 'create-api-key', { ...owner, label, role, expiresAt: expiresAt?.toISOString() ?? null });
  const whose = created.organizationId ? `organization ${created.organizationId} (it acts only there)` : created.email;
  process.stdout.write(
    `Created API key "${created.label}" (id ${created.id}, role ${role}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}) for ${whose}.\n` +
      'It is shown only this once; it is stored as a hash. Send it as "Authorization: Bearer <key>".\n' +
      `${created.key}\n`,
  );
}

async function listApiKeysCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, organization: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true });
  const { keys } = await keyCommand<{ keys: ListedApiKey[] }>(config, 'list-api-keys', keyOwner('list-api-keys', values));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  if (keys.length === 0) {
    process.stdout.write('No API keys.\n');
    return;
  }
  const header = ['ID', 'NAME', 'ROLE', 'SCOPE', 'STATUS', 'HINT', 'CREATED', 'EXPIRES', 'LAST USED'];
  const rows = keys.map((key) => [key.id, key.name, key.role, key.scope, key.status, key.hint ?? '-', key.createdAt, key.expiresAt ?? 'never', key.lastUsedAt ?? 'never']);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

async function revokeApiKeyCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { id: { type: 'string' } }, strict: true });
  const id = values.id?.trim();
  if (!id || !UUID_TEXT.test(id)) throw new UsageError('revoke-api-key needs --id <key id> (a UUID, as list-api-keys shows it)');
  const { key } = await keyCommand<RevokeApiKeyAnswer>(config, 'revoke-api-key', { id });
  process.stdout.write(`Revoked API key "${key.name}" (id ${key.id}, ${key.scope} key) at ${key.revokedAt}. Other servers refuse it within API_KEY_CACHE_SECONDS.\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serve(loadConfig());
        return -1; // keeps running
      case 'migrate':
        await migrate(loadConfig());
        return 0;
      case 'create-api-key':
        await createApiKeyCommand(loadConfig(), rest);
        return 0;
      case 'list-api-keys':
        await listApiKeysCommand(loadConfig(), rest);
        return 0;
      case 'revoke-api-key':
        await revokeApiKeyCommand(loadConfig(), rest);
        return 0;
      case 'print-schema':
        process.stdout.write((await import('./schema/index.js')).printSchemaSDL());
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (error) {
    // Errors that say what to fix in one line; PersistedOperationsError and DataDirOwnerError by name, to keep their modules lazy.
    const oneLine = ['PersistedOperationsError', 'DataDirOwnerError', 'AdminCommandError'].includes((error as Error | undefined)?.name ?? '');
    if (error instanceof ConfigError || error instanceof DataDirInUseError || oneLine) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) {
  process.exitCode = code;
  // A cluster worker (or any child with an IPC channel) would otherwise stay alive on that channel.
  if (process.connected) process.disconnect();
}
