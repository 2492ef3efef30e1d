import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8090,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.resolve('.data'),
      logLevel: 'info',
      migrateOnStart: true,
      maxBodyBytes: 1048576,
      graphqlMaxBodyBytes: 65536,
      graphiql: true,
      introspection: true,
      persistedOperationsFile: undefined,
      metricsToken: undefined,
      corsOrigins: [],
      shutdownDelayMs: 0,
      prettyLogs: false,
      workers: 1,
      apiKeyCacheSeconds: 5,
      statementTimeoutMs: 5000,
      dbPoolSize: 10,
      createRateLimit: { perMinute: 60, burst: 30 },
      liveDatabaseUrl: undefined,
      liveStreamsPerKey: 10,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '9000',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        DATA_DIR: '/tmp/x',
        LOG_LEVEL: 'DEBUG',
        MIGRATE_ON_START: 'false',
        MAX_BODY_BYTES: '2048',
        GRAPHQL_MAX_BODY_BYTES: '4096',
        GRAPHIQL: 'off',
        INTROSPECTION: 'no',
        PERSISTED_OPERATIONS_FILE: '/etc/ops.json',
        METRICS_TOKEN: 'a-long-enough-token',
        SHUTDOWN_DELAY_MS: '5000',
        NODE_ENV: 'production',
        WORKERS: '4',
        API_KEY_CACHE_SECONDS: '0',
        CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
        STATEMENT_TIMEOUT_MS: '2500',
        DB_POOL_SIZE: '25',
        CREATE_LIMIT_PER_MINUTE: '120',
        CREATE_LIMIT_BURST: '5',
        LIVE_DATABASE_URL: 'postgres://postgres@10.0.0.5:5432/test',
        LIVE_STREAMS_PER_KEY: '2',
      }),
    ).toEqual({
      port: 9000,
      host: '0.0.0.0',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      dataDir: '/tmp/x',
      logLevel: 'debug',
      migrateOnStart: false,
      maxBodyBytes: 2048,
      graphqlMaxBodyBytes: 4096,
      graphiql: false,
      introspection: false,
      persistedOperationsFile: '/etc/ops.json',
      metricsToken: 'a-long-enough-token',
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
      shutdownDelayMs: 5000,
      prettyLogs: true,
      workers: 4,
      apiKeyCacheSeconds: 0,
      statementTimeoutMs: 2500,
      dbPoolSize: 25,
      createRateLimit: { perMinute: 120, burst: 5 },
      liveDatabaseUrl: 'postgres://postgres@10.0.0.5:5432/test',
      liveStreamsPerKey: 2,
    });
  });

  it('turns the create limit off with CREATE_LIMIT_PER_MINUTE=0', () => {
    expect(loadConfig({ CREATE_LIMIT_PER_MINUTE: '0' }).createRateLimit).toBeNull();
  });

  it('turns on readable logs in development', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).prettyLogs).toBe(true);
    expect(loadConfig({ LOG_LEVEL: 'warn', NODE_ENV: 'production' }).prettyLogs).toBe(false);
  });

  it.each([
    [{ PORT: 'abc' }, 'Invalid configuration: PORT must be a whole number, got "abc"'],
    [{ PORT: '70000' }, 'Invalid configuration: PORT must be between 0 and 65535, got 70000'],
    [{ PORT: '-1' }, 'Invalid configuration: PORT must be a whole number, got "-1"'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'Invalid configuration: DATABASE_URL must start with postgres:// or postgresql://, got "mysql://"'],
    [{ DATABASE_URL: 'not a url' }, 'Invalid configuration: DATABASE_URL is not a URL (expected postgres://user@host:port/database)'],
    [{ DATABASE_URL: 'postgres://localhost' }, 'Invalid configuration: DATABASE_URL must name a database (postgres://host/database)'],
    [{ LOG_LEVEL: 'loud' }, 'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ MIGRATE_ON_START: 'maybe' }, 'Invalid configuration: MIGRATE_ON_START must be true or false, got "maybe"'],
    [{ MAX_BODY_BYTES: '10' }, 'Invalid configuration: MAX_BODY_BYTES must be between 1024 and 67108864, got 10'],
    [{ HOST: 'a b' }, 'Invalid configuration: HOST must be a host name or address, got "a b"'],
    [{ WORKERS: '2' }, 'Invalid configuration: WORKERS above 1 needs DATABASE_URL: the embedded database belongs to one process'],
    [{ WORKERS: '0' }, 'Invalid configuration: WORKERS must be between 1 and 64, got 0'],
    [{ GRAPHIQL: 'perhaps' }, 'Invalid configuration: GRAPHIQL must be true or false, got "perhaps"'],
    [{ METRICS_TOKEN: 'short' }, 'Invalid configuration: METRICS_TOKEN must be at least 16 characters'],
    [{ SHUTDOWN_DELAY_MS: '1e9' }, 'Invalid configuration: SHUTDOWN_DELAY_MS must be a whole number, got "1e9"'],
    [{ DB_POOL_SIZE: '0' }, 'Invalid configuration: DB_POOL_SIZE must be between 1 and 500, got 0'],
    [{ CREATE_LIMIT_PER_MINUTE: '-5' }, 'Invalid configuration: CREATE_LIMIT_PER_MINUTE must be a whole number, got "-5"'],
    [{ CREATE_LIMIT_BURST: '0' }, 'Invalid configuration: CREATE_LIMIT_BURST must be between 1 and 1000000, got 0'],
    [{ STATEMENT_TIMEOUT_MS: 'soon' }, 'Invalid configuration: STATEMENT_TIMEOUT_MS must be a whole number, got "soon"'],
    [{ CORS_ORIGINS: 'evil.example' }, 'Invalid configuration: CORS_ORIGINS must be * or a comma-separated list of origins like https://app.example.com, got "evil.example"'],
  ])('refuses %o with one clear line', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
