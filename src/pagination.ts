// Keyset pagination over (membership time, membership id), shared by a user's organizations and an
// organization's members: every page is one indexed range scan, page 1,000 costs what page 1 costs,
// and rows inserted meanwhile never shift or repeat a page. Cursors are opaque; they name no user.
import { ValidationError } from './organizations/errors.js';
import { isUuid } from './uuid.js';

/** Page sizes of every connection (documented in the schema and the README). */
export const PAGE = Object.freeze({ default: 20, max: 100 });

export type PageArgs = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };
export type PageInfo = { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
export type Page<T> = { edges: Array<{ cursor: string; node: T }>; pageInfo: PageInfo };

/** The query a page needs: how many rows (one more than the page, to know if there is more), which way, from where. */
export type PageWindow<P = [Date, string]> = { size: number; backwards: boolean; position: P | undefined };

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`m1:${createdAt.toISOString()}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [Date, string] {
  const match = /^m1:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const at = match ? new Date(match[1]!) : undefined;
  // Only a time this API could have written: it prints back the same (no 2026-02-30 rolled over), in
  // years PostgreSQL has (JavaScript's year 0000 is not one of them: SQLSTATE 22008, not a bad cursor).
  const issued = at !== undefined && !Number.isNaN(at.getTime()) && at.getUTCFullYear() >= 1 && at.toISOString() === match![1];
  if (!match || !issued || !isUuid(match[2]!)) throw new ValidationError('cursor', 'Invalid cursor: pass a cursor this API returned');
  return [at, match[2]!];
}

function pageSize(name: 'first' | 'last', value: number | null | undefined): number | undefined {
  if (value == null) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > PAGE.max) {
    throw new ValidationError(name, `${name} must be a whole number from 0 to ${PAGE.max}, got ${value}`);
  }
  return value;
}

/**
 * Checks the arguments: `first`/`after` forwards or `last`/`before` backwards, not both. Cursors are
 * this module's `(created_at, id)` cursors unless `decode` reads another kind.
 */
export function pageWindow<P = [Date, string]>(args: PageArgs, decode: (cursor: string) => P = decodeCursor as unknown as (cursor: string) => P): PageWindow<P> {
  const first = pageSize('first', args.first);
  const last = pageSize('last', args.last);
  if ((first !== undefined || args.after != null) && (last !== undefined || args.before != null)) {
    throw new ValidationError('last', 'Page forwards (first, after) or backwards (last, before), not both');
  }
  const backwards = last !== undefined || args.before != null;
  const cursor = backwards ? args.before : args.after;
  return { size: ((backwards ? last : first) ?? PAGE.default) + 1, backwards, position: cursor != null ? decode(cursor) : undefined };
}

/**
 * The SQL for a window over `created_at, id` of the table aliased `alias`: a condition to AND in (with
 * its parameters) and the ORDER BY ... LIMIT clause (with its parameter).
 */
export function keysetSql(window: PageWindow, alias: string): { where: string; whereParams: unknown[]; orderLimit: string; limitParams: unknown[] } {
  const direction = window.backwards ? 'desc' : 'asc';
  return {
    where: window.position ? `and (${alias}.created_at, ${alias}.id) ${window.backwards ? '<' : '>'} (?, ?)` : '',
    whereParams: window.position ?? [],
    orderLimit: `order by ${alias}.created_at ${direction}, ${alias}.id ${direction} limit ?`,
    limitParams: [window.size],
  };
}

/** The page from the rows the window's query returned (at most one more than the page); `key` gives a row's cursor (or its `(created_at, id)`). */
export function toPage<Row, T, P>(window: PageWindow<P>, rows: Row[], key: (row: Row) => [Date, string] | string, node: (row: Row) => T): Page<T> {
  const more = rows.length >= window.size;
  const page = rows.slice(0, window.size - 1);
  if (window.backwards) page.reverse();
  const edges = page.map((row) => {
    const position = key(row);
    return { cursor: typeof position === 'string' ? position : encodeCursor(...position), node: node(row) };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: window.backwards ? window.position !== undefined : more,
      hasPreviousPage: window.backwards ? more : window.position !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
