// Whether a database error means "the database is not reachable right now" (retry later, 503) rather
// than a fault of ours (500). Decided here, once, from error classes and codes along the cause chain.
import { ConnectionException, DriverException } from '@mikro-orm/core';
import { causes } from '../cause-chain.js';

/** SQLSTATEs and socket errors that mean the server went away or cannot take us now. */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled: the statement timeout (STATEMENT_TIMEOUT_MS) fired; busy, try again
  '25006', // read_only_sql_transaction: a write reached a standby (failover in progress, the pooler not yet repointed)
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres reports a dropped or dead connection without a code; these are its exact words. */
const PG_CONNECTION_LOST =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout expired|timeout exceeded when trying to connect)$/;

/** Thrown where a database error is first seen and means "not reachable"; carries no SQL. */
export class DatabaseUnavailableError extends Error {
  constructor() {
    super('The database is not reachable');
    this.name = 'DatabaseUnavailableError';
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return causes(error).some((e) => {
    if (e instanceof ConnectionException || e instanceof DatabaseUnavailableError) return true;
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    // MikroORM prefixes the driver's message with the (multi-line) SQL and " - ".
    return typeof message === 'string' && PG_CONNECTION_LOST.test(message.replace(/^[\s\S]* - /, ''));
  });
}

/**
 * What of a database error may be logged: its class name and SQLSTATE (and SQLSTATE class), never its
 * message, which quotes the statement and can carry parameter values (keys, hashes, names).
 */
export function dbFailure(error: unknown): { name: string; sqlState?: string; sqlStateClass?: string; code?: string; unavailable: boolean } {
  const chain = causes(error);
  const withCode = chain.find((e) => typeof (e as { code?: unknown }).code === 'string') as { code: string } | undefined;
  const code = withCode?.code;
  const sqlState = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  return {
    name: (error as Error | undefined)?.name ?? 'Error',
    ...(sqlState ? { sqlState, sqlStateClass: sqlState.slice(0, 2) } : code ? { code } : {}),
    unavailable: isDatabaseUnavailable(error),
  };
}

/** An error from the database or its driver anywhere along the cause chain (its message may quote SQL and values). */
export function isDatabaseError(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true; // also node-postgres' code-less "connection lost" errors
  return causes(error).some((e) => {
    if (e instanceof DriverException || e instanceof DatabaseUnavailableError) return true;
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    return typeof severity === 'string' || (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code));
  });
}

/** What a log line may carry for an error: a database error as `dbFailure` (no message, no stack), anything else as it is. */
export function loggable(error: unknown): unknown {
  return isDatabaseError(error) ? { type: 'DatabaseError', ...dbFailure(error) } : error;
}
