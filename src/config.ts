// Environment -> typed, validated configuration. A bad value stops the start with one line.
import path from 'node:path';
import { DEFAULT_CREATE_RATE_LIMIT, type CreateRateLimit } from './organizations/rate-limit.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type Config = Readonly<{
  port: number;
  host: string;
  /** Set: run on this PostgreSQL server. Unset: embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: LogLevel;
  migrateOnStart: boolean;
  /** Largest accepted REST request body, in bytes. */
  maxBodyBytes: number;
  /** Largest accepted POST /graphql body, in bytes (documents are small; variables are bounded too). */
  graphqlMaxBodyBytes: number;
  graphiql: boolean;
  introspection: boolean;
  /** A JSON file mapping operation hashes to documents; when set, only those operations run. */
  persistedOperationsFile: string | undefined;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Origins allowed to call the API from a browser (CORS); empty: no cross-origin access; ['*']: any, without credentials. */
  corsOrigins: readonly string[];
  /** How long readiness reports 503 before the listener closes on shutdown (load balancer drain). */
  shutdownDelayMs: number;
  /** Human-readable logs on a terminal (NODE_ENV=development or LOG_LEVEL=debug). */
  prettyLogs: boolean;
  /** Server processes sharing the port (node:cluster); more than one needs DATABASE_URL. */
  workers: number;
  /** How long a known API key is trusted without asking the database again (0: always ask). */
  apiKeyCacheSeconds: number;
  /** PostgreSQL's statement_timeout for the gateway's database role, in ms (0: leave it as it is). */
  statementTimeoutMs: number;
  /** Database connections per server process (PostgreSQL mode; embedded always uses one). */
  dbPoolSize: number;
  /** Create statements in flight per process before concurrent creates wait to share one; unset: 2 (at most dbPoolSize). */
  createStatementsInFlight: number | undefined;
  /** Organizations a user may create: `burst` at once, refilled at `perMinute`; null: unlimited. */
  createRateLimit: CreateRateLimit;
  /** The session that LISTENs for live updates (not through PgBouncer's transaction pooling); unset: DATABASE_URL. */
  liveDatabaseUrl: string | undefined;
  /** Live update streams (subscriptions) one API key may hold open on one server process. */
  liveStreamsPerKey: number;
}>;

export class ConfigError extends Error {
  constructor(variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function databaseUrl(env: NodeJS.ProcessEnv, name: 'DATABASE_URL' | 'LIVE_DATABASE_URL' = 'DATABASE_URL'): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(name, 'is not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (url.pathname.length <= 1) throw new ConfigError(name, 'must name a database (postgres://host/database)');
  return raw.trim();
}

function createRateLimit(env: NodeJS.ProcessEnv): CreateRateLimit {
  const perMinute = integer(env, 'CREATE_LIMIT_PER_MINUTE', DEFAULT_CREATE_RATE_LIMIT.perMinute, 0, 1_000_000);
  const burst = integer(env, 'CREATE_LIMIT_BURST', DEFAULT_CREATE_RATE_LIMIT.burst, 1, 1_000_000);
  return perMinute === 0 ? null : Object.freeze({ perMinute, burst });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  if (/\s/.test(host)) throw new ConfigError('HOST', `must be a host name or address, got "${env.HOST}"`);
  const persistedOperationsFile = env.PERSISTED_OPERATIONS_FILE?.trim() || undefined;
  const metricsToken = env.METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  }
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `must be * or a comma-separated list of origins like https://app.example.com, got "${origin}"`);
    }
  }
  const url = databaseUrl(env, 'DATABASE_URL');
  const workers = integer(env, 'WORKERS', 1, 1, 64);
  if (workers > 1 && url === undefined) {
    throw new ConfigError('WORKERS', 'above 1 needs DATABASE_URL: the embedded database belongs to one process');
  }
  return Object.freeze({
    port: integer(env, 'PORT', 8090, 0, 65535),
    host,
    databaseUrl: url,
    dataDir: path.resolve(env.DATA_DIR?.trim() || '.data'),
    logLevel,
    migrateOnStart: boolean(env, 'MIGRATE_ON_START', true),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    graphqlMaxBodyBytes: integer(env, 'GRAPHQL_MAX_BODY_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    graphiql: boolean(env, 'GRAPHIQL', true),
    introspection: boolean(env, 'INTROSPECTION', true),
    persistedOperationsFile: persistedOperationsFile && path.resolve(persistedOperationsFile),
    metricsToken,
    corsOrigins: Object.freeze(corsOrigins),
    shutdownDelayMs: integer(env, 'SHUTDOWN_DELAY_MS', 0, 0, 120_000),
    prettyLogs: logLevel === 'debug' || env.NODE_ENV?.trim() === 'development',
    workers,
    apiKeyCacheSeconds: integer(env, 'API_KEY_CACHE_SECONDS', 5, 0, 300),
    statementTimeoutMs: integer(env, 'STATEMENT_TIMEOUT_MS', 5000, 0, 600_000),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 500),
    createStatementsInFlight: env.CREATE_STATEMENTS_IN_FLIGHT?.trim() ? integer(env, 'CREATE_STATEMENTS_IN_FLIGHT', 1, 1, 500) : undefined,
    createRateLimit: createRateLimit(env),
    liveDatabaseUrl: databaseUrl(env, 'LIVE_DATABASE_URL'),
    liveStreamsPerKey: integer(env, 'LIVE_STREAMS_PER_KEY', 10, 1, 10_000),
  });
}
